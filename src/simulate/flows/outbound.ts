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
 * Past qubesd's limit (the netvm enforces the list), a sample of the rules
 * imply flows (sampleRules).
 *
 * IPv4 only: IPv6 rules and specialtarget=dns (the model has no DNS) imply
 * no flow.
 */
import type { Topology } from "../../topology/index.js";
import { MAX_FIREWALL_RULES, type FirewallRule, type Proto, type QubeName } from "../../validate/index.js";
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
      flows.push({
        from: { kind: "qube", qube: q },
        dial,
        proto,
        port,
        to: INTERNET,
        serverPort: port,
        expect: verdict.open ? "open" : "closed",
        origin,
        why: `${why}; ${verdict.why}`,
      });
    };
    const nets: string[] = [];
    const sampled = sampleRules(fw.rules);
    fw.rules.forEach((rule, i) => {
      if (rule.dsthost?.kind !== "4" || rule.proto === "icmp" || rule.specialtarget) return;
      nets.push(rule.dsthost.text);
      if (!sampled(i)) return;
      const host = hosts.inside(lan, rule.dsthost.text);
      if (!host) return;
      const proto: Proto = rule.proto ?? "tcp";
      const port = rule.dstports?.first ?? SAMPLE_PORT;
      add(host, proto, port, `rule ${i + 1} (${rule.action} ${rule.dsthost.text})`);
      if (rule.dstports && rule.dstports.last < 65535)
        add(host, proto, rule.dstports.last + 1, `rule ${i + 1}, the port after its range`);
    });
    const elsewhere = hosts.outside(lan, nets);
    if (elsewhere) add(elsewhere, "tcp", 443, "a host in no rule");
  }
  return flows;
}

/** Lists up to this long imply flows for every rule; longer ones (past qubesd's limit, enforced in the netvm) a sample. */
const ALL_RULES_UP_TO = MAX_FIREWALL_RULES;

/**
 * Which rules of a list imply flows. A list of 10,000 rules would be 20,000
 * flows: past ALL_RULES_UP_TO, the first and last rules, those around
 * qubesd's limit (where dom0's list stops and only the netvm's chain
 * decides), evenly spaced ones, and evenly spaced drops.
 */
function sampleRules(rules: readonly FirewallRule[]): (i: number) => boolean {
  if (rules.length <= ALL_RULES_UP_TO) return () => true;
  const n = rules.length;
  const picked = new Set<number>();
  for (let i = 0; i < 8; i++) picked.add(i).add(n - 1 - i);
  for (let i = MAX_FIREWALL_RULES - 6; i < MAX_FIREWALL_RULES + 6; i++) picked.add(i);
  for (let k = 0; k < 16; k++) picked.add(Math.floor((k * n) / 16));
  const drops = rules.flatMap((r, i) => (r.action === "drop" ? [i] : []));
  for (let k = 0; k < Math.min(8, drops.length); k++)
    picked.add(drops[Math.floor((k * drops.length) / Math.min(8, drops.length))]!);
  return (i) => picked.has(i);
}

/** Whether `q` reaches an internet host: every qube on the way up must accept it in its own list. */
export function internetOracle(
  topology: Topology,
  q: QubeName,
  address: string,
  proto: Proto,
  port: number,
): { open: boolean; why: string } {
  const chain = [q, ...topology.graph.upstream(q).slice(1)].filter((n) => topology.graph.get(n)?.netvm !== undefined);
  for (const n of chain) {
    const fw = topology.spec.firewall.find((f) => f.qube === n);
    if (!fw) continue;
    const i = fw.rules.findIndex((r) => matches(r, address, proto, port));
    const action = i === -1 ? fw.policy : fw.rules[i]!.action;
    if (action === "drop")
      return { open: false, why: i === -1 ? `${n}'s policy drop` : `dropped by ${n}'s rule ${i + 1}` };
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
