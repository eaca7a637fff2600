/** The forwards planner: DNAT and accept in each net qube on the way in, accept in the target. */
import type { Topology } from "../topology/index.js";
import { AUTO_UPLINK } from "../validate/index.js";
import type { Drafts } from "./drafts.js";
import type { Arrival } from "./plan.js";

export function planForwards(topology: Topology, drafts: Drafts): void {
  for (const route of topology.forwards) {
    const f = route.forward;
    const { hops } = route;
    const last = hops.length - 1;
    const arrivalsAt = (i: number): Arrival[] =>
      i === 0
        ? route.interfaces.map((name) => (name === AUTO_UPLINK ? { kind: "detected" } : { kind: "interface", name }))
        : [{ kind: "uplink" }];
    for (const [family, cidrs] of [
      ["v4", f.from],
      ["v6", f.from6],
    ] as const) {
      if (cidrs.length === 0) continue;
      const sources = cidrs.map((c) => c.text);
      for (let i = 0; i < last; i++) {
        const next = hops[i + 1]!;
        const translate = i === last - 1 && f.port.first !== f.externalPort.first;
        const draft = drafts.of(hops[i]!);
        for (const arrival of arrivalsAt(i)) {
          draft[family].forwardHops.push({
            intent: f.name,
            arrival,
            sources: cidrs,
            proto: f.proto,
            dport: f.externalPort,
            next,
            ...(translate ? { translateTo: f.port.first } : {}),
          });
        }
        draft.decisions.push({
          kind: "forward-hop",
          intent: f.name,
          family,
          proto: f.proto,
          port: f.externalPort,
          sources,
          arrival: i === 0 ? { interfaces: route.interfaces } : { uplinkFrom: hops[i - 1]! },
          next,
          ...(translate ? { translateTo: f.port.first } : {}),
        });
      }
      const target = drafts.of(f.to);
      for (const arrival of arrivalsAt(last)) {
        target[family].forwardInputs.push({ intent: f.name, arrival, sources: cidrs, proto: f.proto, dport: f.port });
      }
      target.decisions.push({
        kind: "forward-accept",
        intent: f.name,
        family,
        proto: f.proto,
        port: f.port,
        sources,
        arrival: last === 0 ? { interfaces: route.interfaces } : { through: hops.slice(0, -1) },
      });
    }
  }
}
