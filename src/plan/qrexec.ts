/**
 * The qrexec links planner: a socket in the connecting qube and a line of
 * dom0's policy. The target needs nothing installed (qrexec itself serves
 * qubes.ConnectTCP), so it is not a target of the VM phase: a vault with no
 * network is not even started for it.
 */
import { linkDirections, type Topology } from "../topology/index.js";
import { compare, type Drafts } from "./drafts.js";
import type { QrexecPolicyLine } from "./plan.js";

/** dom0's policy lines, sorted by port, then source, then target. */
export function planQrexec(topology: Topology, drafts: Drafts): QrexecPolicyLine[] {
  const policy: QrexecPolicyLine[] = [];
  for (const link of topology.qrexecLinks) {
    for (const [from, to] of linkDirections(link)) {
      for (const { port, localPort } of link.ports) {
        drafts.of(from).connects.push({ intent: link.name, to, port, localPort });
        drafts.of(from).decisions.push({ kind: "qrexec-connect", intent: link.name, localPort, to, port });
        policy.push({ intent: link.name, port, from, to });
      }
    }
  }
  return policy.sort((a, b) => a.port - b.port || compare(a.from, b.from) || compare(a.to, b.to));
}
