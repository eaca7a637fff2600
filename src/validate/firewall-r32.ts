/**
 * Outbound policy on Qubes R3.2. Its qvm-firewall (qubes-core-admin
 * release3.2 qvm-tools/qvm-firewall) keeps no ordered accept/drop list: a
 * qube has a policy (allow|deny), an ICMP and a DNS switch, and a list of
 * exceptions to the policy, each `address[/netmask] tcp|udp port[-port]` or
 * `address any`, IPv4 or a host name only. This file says which qwire rules
 * map onto that model (the validator refuses the others) and maps them.
 */
import type { FirewallRule } from "./firewall-rule.js";
import type { PortRange } from "./spec.js";

export type AllowDeny = "allow" | "deny";

/** One exception as qvm-firewall takes and lists it. */
export interface R32Exception {
  /** `1.2.3.4`, `1.2.3.0/24` (a /32 is written bare, as the tool lists it) or a host name. */
  readonly address: string;
  readonly proto: "tcp" | "udp" | "any";
  /** tcp/udp only: the tool needs a port, so a rule without one gets 1-65535. */
  readonly ports?: PortRange;
}

export interface R32Firewall {
  readonly policy: AllowDeny;
  readonly icmp: AllowDeny;
  readonly dns: AllowDeny;
  readonly exceptions: readonly R32Exception[];
}

/**
 * R3.2 wrote a qube's whole iptables script into one QubesDB key, at most
 * QDB_MAX_DATA = 3072 bytes (reference qubes-networking.md §4); the old doc
 * put that at "35 to 39 rules". qwire estimates 3072 / 35 = 87 bytes per
 * exception and so budgets 35, the low end: past it the qube might not start.
 * A host name counts as one rule although R3.2 may write one per address.
 */
export const QDB_MAX_DATA = 3072;
export const BYTES_PER_EXCEPTION = Math.floor(QDB_MAX_DATA / 35);
export const R32_EXCEPTION_BUDGET = Math.floor(QDB_MAX_DATA / BYTES_PER_EXCEPTION);

/** The estimated size of the rules R3.2 writes for these exceptions. */
export function estimatedScriptBytes(exceptions: number): number {
  return exceptions * BYTES_PER_EXCEPTION;
}

/** R3.2's host name check: labels of letters, digits and inner '-' (no '_'). */
const LABEL = /^(?!-)[A-Za-z\d-]{1,63}(?<!-)$/;

/** Why R3.2 cannot express `rule` under `policy`, with the fix; undefined when it can. */
export function r32Refusal(rule: FirewallRule, policy: "accept" | "drop"): string | undefined {
  const keys = [
    rule.proto && "proto",
    rule.dsthost && "dsthost",
    rule.dstports && "dstports",
    rule.icmptype !== undefined && "icmptype",
  ].filter(Boolean);
  if (rule.expire !== undefined)
    return `R3.2's qvm-firewall has no expiry: remove 'expire=${rule.expire}' (and remove the rule yourself when it should end)`;
  if (rule.specialtarget === "dns") {
    if (keys.length > 0)
      return `DNS is one switch on R3.2 (qvm-firewall -D allow|deny): write this rule as just '${rule.action} specialtarget=dns', without ${keys.join(", ")}`;
    return undefined;
  }
  if (rule.proto === "icmp") {
    if (rule.icmptype !== undefined)
      return `ICMP is one switch on R3.2 (qvm-firewall -i allow|deny), without types: remove 'icmptype=${rule.icmptype}' (the rule then covers all ICMP)`;
    if (rule.dsthost !== undefined)
      return `ICMP is one switch on R3.2 (qvm-firewall -i allow|deny) for every destination: remove 'dsthost=${rule.dsthost.text}' (the rule then covers all ICMP)`;
    return undefined;
  }
  if (rule.dsthost?.kind === "6")
    return `R3.2's qvm-firewall has no IPv6: remove this rule (the qube has no IPv6 on R3.2 anyway)`;
  if (
    rule.dsthost?.kind === "host" &&
    !rule.dsthost.text
      .replace(/\.$/, "")
      .split(".")
      .every((l) => LABEL.test(l))
  ) {
    return `R3.2's qvm-firewall takes host names of letters, digits and '-' only: write an address instead of '${rule.dsthost.text}'`;
  }
  if (rule.action === policy) {
    const other = policy === "drop" ? "accept" : "drop";
    return `R3.2's qvm-firewall has no per-rule action: with policy ${policy} every rule is an exception that ${other}s (qvm-firewall -P ${policy === "drop" ? "deny" : "allow"}), so this ${rule.action} rule cannot be written; remove it, or turn the policy around and list the ${rule.action === "drop" ? "drops" : "accepts"}`;
  }
  return undefined;
}

/**
 * The R3.2 configuration of rules that passed `r32Refusal`: the first dns
 * and the first bare icmp rule set the switches (first match wins in qwire's
 * model too), else they follow the policy; the rest become exceptions, in
 * order, without duplicates. Comments are dropped: R3.2 keeps none.
 */
export function toR32(rules: readonly FirewallRule[], policy: "accept" | "drop"): R32Firewall {
  const byPolicy: AllowDeny = policy === "accept" ? "allow" : "deny";
  const asSwitch = (a: FirewallRule["action"]): AllowDeny => (a === "accept" ? "allow" : "deny");
  let dns: AllowDeny | undefined;
  let icmp: AllowDeny | undefined;
  const exceptions = new Map<string, R32Exception>();
  for (const r of rules) {
    if (r.specialtarget === "dns") dns ??= asSwitch(r.action);
    else if (r.proto === "icmp") icmp ??= asSwitch(r.action);
    else {
      const e = exception(r);
      exceptions.set(`${e.address} ${e.proto} ${e.ports?.first ?? ""}-${e.ports?.last ?? ""}`, e);
    }
  }
  return { policy: byPolicy, icmp: icmp ?? byPolicy, dns: dns ?? byPolicy, exceptions: [...exceptions.values()] };
}

function exception(r: FirewallRule): R32Exception {
  const host = r.dsthost;
  const address =
    host === undefined
      ? "0.0.0.0/0"
      : host.kind === "host"
        ? host.text.replace(/\.$/, "")
        : host.text.replace(/\/32$/, "");
  if (r.proto !== "tcp" && r.proto !== "udp") return { address, proto: "any" };
  return { address, proto: r.proto, ports: r.dstports ?? { first: 1, last: 65535 } };
}
