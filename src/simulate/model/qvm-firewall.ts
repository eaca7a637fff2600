/**
 * A qube's qvm-firewall rule list (the `set:` of a qvm.firewall state),
 * turned into the nft statements the qubes-firewall agent puts into the
 * netvm's `qbs-<ip>` chain (reference/qubes-networking.md §4): first match
 * wins; `drop` is a reject with admin-prohibited; dstports without proto
 * apply to tcp and udp; specialtarget=dns is the two virtual DNS servers on
 * port 53. The chain's final reject (the implicit policy drop) is added by
 * qubesFirewallTable().
 *
 * The agent fills `ip qubes-firewall` (the qube's IPv4 address) and
 * `ip6 qubes-firewall` (its IPv6 address) from the same list: a rule for an
 * IPv4 host only goes into the first, one for an IPv6 host only into the
 * second, and drop is a reject with icmpv6 admin-prohibited there.
 * specialtarget=dns names the IPv4 virtual DNS servers only (the model has
 * no IPv6 DNS), so it is left out of the IPv6 chain.
 */
import { SimulateError } from "../errors.js";

const DNS = "{ 10.139.1.1, 10.139.1.2 }";

export function qvmFirewallToNft(rules: readonly string[], family: 4 | 6 = 4): string[] {
  return rules.flatMap((text) => translate(parseRule(text), text, family));
}

function parseRule(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  const comment = text.indexOf("comment=");
  const body = comment === -1 ? text : text.slice(0, comment);
  for (const word of body.trim().split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf("=");
    if (eq === -1) throw new SimulateError("salt", `qvm.firewall rule '${text}': '${word}' is not key=value`);
    let key = word.slice(0, eq);
    if (key === "dst4" || key === "dst6") key = "dsthost";
    fields.set(key, word.slice(eq + 1));
  }
  return fields;
}

function translate(f: Map<string, string>, text: string, family: 4 | 6): string[] {
  for (const k of f.keys()) {
    if (!["action", "proto", "dsthost", "dstports", "specialtarget", "icmptype", "expire"].includes(k)) {
      throw new SimulateError("salt", `qvm.firewall rule '${text}': key '${k}' is not a qvm-firewall key`);
    }
  }
  const action = f.get("action");
  if (action !== "accept" && action !== "drop")
    throw new SimulateError("salt", `qvm.firewall rule '${text}': action must be accept or drop`);
  const v6 = family === 6;
  const verdict = action === "accept" ? "accept" : `reject with ${v6 ? "icmpv6" : "icmp"} admin-prohibited`;
  const match: string[] = [];
  const host = f.get("dsthost");
  if (host !== undefined) {
    const isV6 = host.includes(":");
    if (!isV6 && !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(host)) {
      throw new SimulateError(
        "unsupported",
        `qvm.firewall rule '${text}': the model does not resolve host names (Qubes resolves them once, in dom0)`,
      );
    }
    // A rule for the other family's host is not in this table.
    if (isV6 !== v6) return [];
    match.push(`${v6 ? "ip6" : "ip"} daddr ${host}`);
  }
  if (f.get("specialtarget") === "dns") {
    if (v6) return [];
    return ["tcp", "udp"].map((p) => [...match, `ip daddr ${DNS}`, `${p} dport 53`, verdict].join(" "));
  }
  const proto = f.get("proto");
  const ports = f.get("dstports");
  if (proto === "icmp") {
    const type = f.get("icmptype");
    if (v6)
      return [
        [...match, "meta l4proto icmpv6", ...(type !== undefined ? [`icmpv6 type ${type}`] : []), verdict].join(" "),
      ];
    return [[...match, "ip protocol icmp", ...(type !== undefined ? [`icmp type ${type}`] : []), verdict].join(" ")];
  }
  if (ports !== undefined) {
    const range = ports.replace(/^(\d+)-\1$/, "$1");
    return (proto ? [proto] : ["tcp", "udp"]).map((p) => [...match, `${p} dport ${range}`, verdict].join(" "));
  }
  if (proto !== undefined) match.push(`meta l4proto ${proto}`);
  return [[...match, verdict].join(" ")];
}
