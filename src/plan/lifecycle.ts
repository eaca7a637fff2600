/**
 * The lifecycle planner: what the previous build left that this one must
 * clean up. A qube that carried qwire files and carries none now gets a
 * teardown; a host keeps its guests' files, or loses them with its guests.
 */
import { saltStem } from "../topology/index.js";
import type { QubeName } from "../validate/index.js";
import { compare, unique } from "./drafts.js";
import type { HostPlan, QubePlan, Teardown } from "./plan.js";

export interface PreviousBuild {
  /** Qubes that carried qwire files in the previous build (its plan.json). */
  readonly previousQubes?: readonly QubeName[];
  /** Hosts of guest net qubes in the previous build (its plan.json). */
  readonly previousHosts?: readonly QubeName[];
}

export function planLifecycle(
  qubes: readonly QubePlan[],
  previous: PreviousBuild,
): { hosts: HostPlan[]; teardowns: Teardown[] } {
  const carrying = new Set(qubes.map((q) => q.qube));
  const before = new Set(previous.previousQubes ?? []);
  // Hosts now, and hosts of the previous build that lost all their guests (unless they carry rules now).
  const hostNames = unique([
    ...qubes.flatMap((q) => (q.host ? [q.host.qube] : [])),
    ...(previous.previousHosts ?? []).filter((h) => !carrying.has(h)),
  ]).sort(compare);
  const hosts: HostPlan[] = hostNames.map((host) => ({
    host,
    stem: saltStem(host),
    guests: qubes.filter((q) => q.host?.qube === host).map((q) => ({ qube: q.qube, kind: q.host!.kind })),
    teardown: before.has(host),
  }));
  const hostSet = new Set(hostNames);
  const teardowns: Teardown[] = unique(previous.previousQubes ?? [])
    .filter((q) => !carrying.has(q) && !hostSet.has(q))
    .sort(compare)
    .map((qube) => ({ qube, stem: saltStem(qube) }));
  return { hosts, teardowns };
}
