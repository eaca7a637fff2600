/**
 * R3.2 outbound policies as they will be set: the qube's own rules behind
 * the accepts qwire adds for links (Qubes #3644), mapped onto qvm-firewall's
 * policy + exceptions. Past the 3 kB budget the list moves into the qube
 * (plan), and this stage warns that it is weaker there (QW2019).
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { ParsedDocument } from "../parse/index.js";
import {
  estimatedScriptBytes,
  QDB_MAX_DATA,
  R32_EXCEPTION_BUDGET,
  toR32,
  type FirewallSpec,
  type R32Firewall,
} from "../validate/index.js";
import type { OutboundList } from "./outbound.js";

/** The R3.2 configuration of a qube's whole outbound list (topology/outbound.ts). */
export function r32FirewallOf(f: FirewallSpec, list: OutboundList): R32Firewall {
  return toR32(list.rules, f.policy);
}

/** Whether the exceptions pass the budget: then the qube enforces them itself. */
export function overflows(fw: R32Firewall): boolean {
  return fw.exceptions.length > R32_EXCEPTION_BUDGET;
}

export function warnR32Overflow(f: FirewallSpec, fw: R32Firewall, doc: ParsedDocument, diag: DiagnosticBag): void {
  if (!overflows(fw)) return;
  const n = fw.exceptions.length;
  diag.warning(
    "QW2019",
    doc.positions.key(f.path),
    `'${f.qube}' needs ${n} qvm-firewall exceptions, about ${estimatedScriptBytes(n)} bytes of R3.2 rules, past the ${QDB_MAX_DATA}-byte limit (qwire budgets ${R32_EXCEPTION_BUDGET}): its qvm-firewall policy is set to allow and the list is enforced by the qube's own iptables rules (chain QWIRE-OUT)`,
    {
      hint: `this is weaker: root in '${f.qube}' (or any compromise of it) can remove its own rules, and nothing is enforced before its rc.local runs; merge rules into networks or port ranges to stay within ${R32_EXCEPTION_BUDGET}`,
    },
  );
}
