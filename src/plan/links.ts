/** The network links planner: the shared firewall qube lets each direction through, the target accepts it. */
import { linkDirections, type Topology } from "../topology/index.js";
import type { Drafts } from "./drafts.js";
import type { Traffic } from "./plan.js";

export function planLinks(topology: Topology, drafts: Drafts): void {
  const graph = topology.graph;
  for (const { link, firewall } of topology.links) {
    const traffic: Traffic[] =
      link.traffic === "all"
        ? [{ kind: "all" }]
        : link.traffic.protos.map((proto) => ({
            kind: "ports",
            proto,
            ports: link.traffic === "all" ? [] : link.traffic.ports,
          }));
    // A link also carries IPv6 when both qubes and their firewall qube have it.
    const families = [link.from, link.to, firewall].every((q) => graph.get(q)?.ipv6)
      ? (["v4", "v6"] as const)
      : (["v4"] as const);
    for (const family of families) {
      for (const [from, to] of linkDirections(link)) {
        const fw = drafts.of(firewall);
        const key = `${from} ${to}`;
        const pass = fw[family].passes.get(key) ?? { from, to, intents: [], traffic: [] };
        pass.intents.push(link.name);
        pass.traffic.push(...traffic);
        fw[family].passes.set(key, pass);
        fw.decisions.push({ kind: "link-pass", intent: link.name, family, from, to, traffic });
        const target = drafts.of(to);
        const input = target[family].inputs.get(from) ?? { intents: [], traffic: [] };
        input.intents.push(link.name);
        input.traffic.push(...traffic);
        target[family].inputs.set(from, input);
        target.decisions.push({ kind: "link-accept", intent: link.name, family, from, traffic });
      }
    }
  }
}
