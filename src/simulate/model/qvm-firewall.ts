/**
 * A qube's qvm-firewall rule list (the `set:` of a qvm.firewall state),
 * turned into the nft statements the qubes-firewall agent puts into the
 * netvm's `qbs-<ip>` chain (reference/qubes-networking.md §4): first match
 * wins; `drop` is a reject with admin-prohibited; dstports without proto
 * apply to tcp and udp; specialtarget=dns is the two virtual DNS servers on
 * port 53. The chain's final reject (the implicit policy drop) is added by
 * qubesFirewallTable().
 */
import { SimulateError } from "../errors.js";

const DNS = "{ 10.139.1.1, 10.139.1.2 }";

export function qvmFirewallToNft(rules: readonly string[]): string[] {
  return rules.flatMap((text) => translate(parseRule(text), text));
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

function translate(f: Map<string, string>, text: string): string[] {
  for (const k of f.keys()) {
    if (!["action", "proto", "dsthost", "dstports", "specialtarget", "icmptype", "expire"].includes(k)) {
      throw new SimulateError("salt", `qvm.firewall rule '${text}': key '${k}' is not a qvm-firewall key`);
    }
  }
  const action = f.get("action");
  if (action !== "accept" && action !== "drop") throw new SimulateError("salt", `qvm.firewall rule '${text}': action must be accept or drop`);
  const verdict = action === "accept" ? "accept" : "reject with icmp admin-prohibited";
  const match: string[] = [];
  const host = f.get("dsthost");
  if (host !== undefined) {
    if (host.includes(":")) return []; // an IPv6 rule: the model is IPv4 only
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(host)) {
      throw new SimulateError("unsupported", `qvm.firewall rule '${text}': the model does not resolve host names (Qubes resolves them once, in dom0)`);
    }
    match.push(`ip daddr ${host}`);
  }
  if (f.get("specialtarget") === "dns") {
    return ["tcp", "udp"].map((p) => [...match, `ip daddr ${DNS}`, `${p} dport 53`, verdict].join(" "));
  }
  const proto = f.get("proto");
  const ports = f.get("dstports");
  if (proto === "icmp") {
    const type = f.get("icmptype");
    return [[...match, "ip protocol icmp", ...(type !== undefined ? [`icmp type ${type}`] : []), verdict].join(" ")];
  }
  if (ports !== undefined) {
    const range = ports.replace(/^(\d+)-\1$/, "$1");
    return (proto ? [proto] : ["tcp", "udp"]).map((p) => [...match, `${p} dport ${range}`, verdict].join(" "));
  }
  if (proto !== undefined) match.push(`meta l4proto ${proto}`);
  return [[...match, verdict].join(" ")];
}
