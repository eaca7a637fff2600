/**
 * Re-attaching qubes to their netvms after a netvm restart
 * (reference/qubes-networking.md §6): one step per declared netvm,
 * upstream first, so that each netvm is attached before its clients.
 */
import type { NetvmGraph } from "../topology/index.js";
import type { IntentSpec, QubeName } from "../validate/index.js";

export interface Reattach {
  readonly qube: QubeName;
  readonly netvm: QubeName;
  /** `netvm: default`: set to re-attach, then reset so that the qube keeps following dom0's default_netvm. */
  readonly followsDefault?: true;
}

export function reconnectOrder(spec: IntentSpec, graph: NetvmGraph): Reattach[] {
  const depth = (q: QubeName) => graph.upstream(q).length;
  return spec.qubes
    .filter((q): q is typeof q & { netvm: QubeName } => q.netvm !== undefined)
    .map((q) => ({ qube: q.name, netvm: q.netvm, depth: depth(q.name), followsDefault: q.followsDefaultNetvm }))
    .sort((a, b) => a.depth - b.depth || (a.qube < b.qube ? -1 : a.qube > b.qube ? 1 : 0))
    .map(({ qube, netvm, followsDefault }) => ({ qube, netvm, ...(followsDefault ? { followsDefault } : {}) }));
}
