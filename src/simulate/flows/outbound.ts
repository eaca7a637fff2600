/**
 * Outbound flows from `firewall:` (a qube's qvm-firewall list, enforced in
 * its netvm): hosts of "the internet" sit on the outside network of the top
 * netvm's uplink (the top netvm masquerades), and each rule implies flows:
 * a host inside its dsthost on its first port (and the port after its
 * range), and a host in none of the rules' networks (the policy). The
 * oracle evaluates the list first-match-wins, for the qube and for every
 * net qube its traffic is masqueraded behind on the way up (each of those
 * is checked against its own list in its own netvm).
 *
 * IPv4 only: IPv6 rules and specialtarget=dns (the model has no DNS) imply
 * no flow.
 */
import type { Topology } from "../../topology/index.js";
import type { FirewallRule, Proto, QubeName } from "../../validate/index.js";
import { contains, parseCidr } from "../model/ipv4.js";
import type { Dial, Flow, LanKey } from "./flow.js";

/** What answers for an internet host in the matrix and in probe replies (not a valid qube name). */
export const INTERNET = "@internet" as QubeName;

const SAMPLE_PORT = 2222;

export interface InternetHosts {
  /** The outside network where `q`'s traffic to the internet leaves, if its chain has a top netvm. */
  lanFor(q: QubeName): LanKey | undefined;
  inside(lan: LanKey, cidr: string): string | undefined;
  outside(lan: LanKey, cidrs: readonly string[]): string | undefined;
}

export function outboundFlows(topology: Topology, hosts: InternetHosts): Flow[] {
  const flows: Flow[] = [];
  for (const fw of topology.spec.firewall) {
    const q = fw.qube;
    const lan = hosts.lanFor(q);
    if (!lan) continue;
    const origin = `firewall ${q}`;
    const add = (address: string, proto: Proto, port: number, why: string) => {
      const dial: Dial = { kind: "internet", address, lan };
      const verdict = internetOracle(topology, q, address, proto, port);
      flows.push({ from: { kind: "qube", qube: q }, dial, proto, port, to: INTERNET, serverPort: port, expect: verdict.open ? "open" : "closed", origin, why: `${why}; ${verdict.why}` });
    };
    const nets: string[] = [];
    fw.rules.forEach((rule, i) => {
      if (rule.dsthost?.kind !== "4" || rule.proto === "icmp" || rule.specialtarget) return;
      nets.push(rule.dsthost.text);
      const host = hosts.inside(lan, rule.dsthost.text);
      if (!host) return;
      const proto: Proto = rule.proto ?? "tcp";
      const port = rule.dstports?.first ?? SAMPLE_PORT;
      add(host, proto, port, `rule ${i + 1} (${rule.action} ${rule.dsthost.text})`);
      if (rule.dstports && rule.dstports.last < 65535) add(host, proto, rule.dstports.last + 1, `rule ${i + 1}, the port after its range`);
    });
    const elsewhere = hosts.outside(lan, nets);
    if (elsewhere) add(elsewhere, "tcp", 443, "a host in no rule");
  }
  return flows;
}

/** Whether `q` reaches an internet host: every qube on the way up must accept it in its own list. */
export function internetOracle(topology: Topology, q: QubeName, address: string, proto: Proto, port: number): { open: boolean; why: string } {
  const chain = [q, ...topology.graph.upstream(q).slice(1)].filter((n) => topology.graph.get(n)?.netvm !== undefined);
  for (const n of chain) {
    const fw = topology.spec.firewall.find((f) => f.qube === n);
    if (!fw) continue;
    const i = fw.rules.findIndex((r) => matches(r, address, proto, port));
    const action = i === -1 ? fw.policy : fw.rules[i]!.action;
    if (action === "drop") return { open: false, why: i === -1 ? `${n}'s policy drop` : `dropped by ${n}'s rule ${i + 1}` };
  }
  return { open: true, why: "accepted" };
}

function matches(r: FirewallRule, address: string, proto: Proto, port: number): boolean {
  if (r.specialtarget) return false;
  if (r.dsthost) {
    if (r.dsthost.kind !== "4" || !contains(parseCidr(r.dsthost.text), address)) return false;
  }
  if (r.proto !== undefined && r.proto !== proto) return false;
  if (r.dstports && (port < r.dstports.first || port > r.dstports.last)) return false;
  return true;
}
