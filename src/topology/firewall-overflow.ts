/**
 * R4.2/R4.3 outbound policies past qubesd's ~900 rules (Qubes issue #4228):
 * the qube's netvm enforces the whole list in table ip qubes (plan,
 * src/plan/overflow.ts) and dom0 sets the first 899 rules and then accept.
 * This stage refuses what the netvm cannot enforce (QW4006) and warns where
 * the list is enforced (QW2020).
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { ParsedDocument } from "../parse/index.js";
import { MAX_FIREWALL_RULES, type FirewallRule, type FirewallSpec } from "../validate/index.js";
import type { NetvmGraph } from "./graph.js";

/** Whether the list passes what qubesd takes (the limit qwire always checked): then the netvm enforces it. */
export function overflowsQubesd(rules: readonly unknown[]): boolean {
  return rules.length > MAX_FIREWALL_RULES;
}

/** Why the netvm cannot enforce this rule, or undefined. */
function notInNetvm(r: FirewallRule): string | undefined {
  if (r.dsthost?.kind === "host")
    return `host name '${r.dsthost.text}' (qubes-firewall resolves it per rule; qwire's netvm chain would need its addresses)`;
  if (r.dsthost?.kind === "6") return `IPv6 network ${r.dsthost.text}`;
  if (r.expire !== undefined) return "expire= (qubesd drops the rule when it expires; the netvm chain would keep it)";
  return undefined;
}

/** `rules`: the whole list dom0 would set (topology/outbound.ts). */
export function checkOverflow(
  f: FirewallSpec,
  rules: readonly FirewallRule[],
  graph: NetvmGraph,
  doc: ParsedDocument,
  diag: DiagnosticBag,
): void {
  if (!overflowsQubesd(rules)) return;
  const where = doc.positions.key([...f.path, "rules"]);
  const count = `${rules.length} outbound rules for '${f.qube}'`;
  const qube = graph.get(f.qube);
  const netvm = qube?.netvm;
  const refuse = (why: string, hint: string) =>
    diag.error(
      "QW4006",
      where,
      `${count}: qubesd fails somewhere past ${MAX_FIREWALL_RULES} (Qubes issue #4228), and ${why}`,
      { hint },
    );
  if (netvm === undefined) {
    refuse(
      `'${f.qube}' has no netvm in qwire.yaml to enforce the rules past the limit`,
      `declare its netvm ('netvm: sys-firewall'), or merge rules into networks or port ranges to stay within ${MAX_FIREWALL_RULES - 1}`,
    );
    return;
  }
  if (qube?.ipv6) {
    refuse(
      `'${f.qube}' has ipv6: its netvm enforces the overflow for IPv4 only`,
      `turn ipv6 off for '${f.qube}', or merge rules to stay within ${MAX_FIREWALL_RULES - 1}`,
    );
    return;
  }
  const bad = rules.map((r, i) => ({ i, why: notInNetvm(r) })).filter((b) => b.why !== undefined);
  if (bad.length > 0) {
    refuse(
      `the netvm cannot enforce ${bad.length === 1 ? "rule" : `${bad.length} rules, the first being rule`} ${bad[0]!.i + 1}: ${bad[0]!.why}`,
      `past the limit write IPv4 addresses and networks without expire= (${MAX_FIREWALL_RULES - 1} rules or fewer may use them)`,
    );
    return;
  }
  diag.warning(
    "QW2020",
    where,
    `${count}: past what qubesd takes (~${MAX_FIREWALL_RULES}, Qubes issue #4228), so dom0 sets the first ${MAX_FIREWALL_RULES - 1} and then accept, and '${netvm}' enforces the whole list for '${f.qube}' in table ip qubes (chain qwire-out-<n>, keyed on the address of '${f.qube}'); IPv4 only, so dom0 turns IPv6 off for '${f.qube}'`,
    {
      hint: `still out of reach of '${f.qube}', but enforced only by qwire's script in '${netvm}': if it cannot learn the address of '${f.qube}', it refuses all new traffic from its downstream qubes; merge rules into networks or port ranges to stay within ${MAX_FIREWALL_RULES - 1}`,
    },
  );
}
