/**
 * Stage 4, plan: Topology -> Plan. Decides which qube carries which rule,
 * which addresses each qube must learn at apply time, and what is torn down.
 * One small planner per concern (forwards, links, qrexec, outbound,
 * lifecycle) writes into per-qube drafts; this file merges them, places each
 * qube's files, and sorts everything so that later stages are deterministic.
 * Each qube's decisions are typed (decisions.ts); render says them in words.
 * No user errors are possible at this point; the topology stage refused them.
 */
import { profileOf, type ReleaseProfile } from "../release/index.js";
import { saltStem, type NetvmGraph, type Topology } from "../topology/index.js";
import type { QubeName } from "../validate/index.js";
import { compare, Drafts, familyRules, unique } from "./drafts.js";
import { planForwards } from "./forwards.js";
import { planLifecycle, type PreviousBuild } from "./lifecycle.js";
import { planLinks } from "./links.js";
import { planOutbound } from "./outbound.js";
import { planQrexec } from "./qrexec.js";
import { reconnectOrder } from "./reconnect.js";
import type { Dom0Create, Dom0Prefs, Placement, Plan, QubePlan } from "./plan.js";

export * from "./plan.js";
export * from "./overflow.js";
export type { Family, IntentDecision } from "./decisions.js";
export { reconnectOrder, type Reattach } from "./reconnect.js";

export type PlanOptions = PreviousBuild;

export function plan(topology: Topology, options: PlanOptions = {}): Plan {
  const { spec, graph } = topology;
  const profile = profileOf(spec.release);
  const drafts = new Drafts();
  planForwards(topology, drafts);
  planLinks(topology, drafts);
  const qrexecPolicy = planQrexec(topology, drafts);
  const outbound = planOutbound(topology, profile, drafts);

  const qubes: QubePlan[] = drafts.sorted().map(([qube, d]) => {
    const v4Rules = familyRules(d.v4);
    const v6 = familyRules(d.v6);
    const guestOf = graph.get(qube)?.guestOf;
    const ownList = outbound.inQube.get(qube);
    const chains = outbound.netvmChains.get(qube) ?? [];
    // A netvm that enforces a downstream qube's list needs that qube's address.
    const v4 =
      chains.length === 0
        ? v4Rules
        : { ...v4Rules, addresses: unique([...v4Rules.addresses, ...chains.map((c) => c.qube)]).sort(compare) };
    return {
      qube,
      stem: saltStem(qube),
      placement: placementOf(qube, graph, profile),
      ...v4,
      ipv6: graph.get(qube)?.ipv6 === true,
      v6,
      hasPacketRules: v4.hasRules || v6.hasRules || ownList !== undefined || chains.length > 0,
      connects: [...d.connects].sort((a, b) => a.localPort - b.localPort),
      decisions: d.decisions,
      ...(guestOf === undefined ? {} : { host: { qube: guestOf.host, kind: guestOf.kind } }),
      ...(ownList === undefined ? {} : { outbound: ownList }),
      ...(chains.length === 0 ? {} : { overflows: chains }),
    };
  });

  const { hosts, teardowns } = planLifecycle(qubes, options);

  const prefs: Dom0Prefs[] = spec.qubes
    .map((q) => ({
      qube: q.name,
      ...(q.netvm === undefined ? {} : { netvm: q.netvm }),
      ...(q.followsDefaultNetvm ? { followsDefault: true as const } : {}),
      ...(q.providesNetwork ? { providesNetwork: true as const } : {}),
      ...(q.ip === undefined ? {} : { ip: q.ip }),
      ...(q.create?.templateForDispvms ? { templateForDispvms: true as const } : {}),
      ...(q.create !== undefined && q.netvm === undefined && !q.followsDefaultNetvm ? { noNetvm: true as const } : {}),
    }))
    .filter((p) => Object.keys(p).length > 1);

  const created = new Set(spec.qubes.flatMap((q) => (q.create === undefined ? [] : [q.name])));
  const creates: Dom0Create[] = spec.qubes.flatMap((q) =>
    q.create === undefined
      ? []
      : [
          {
            qube: q.name,
            class: q.create.class,
            template: q.create.template,
            label: q.create.label,
            templateCreated: created.has(q.create.template),
          },
        ],
  );

  const pins = new Map<QubeName, string>();
  for (const q of spec.qubes) if (q.ip !== undefined) pins.set(q.name, q.ip);

  return {
    release: spec.release,
    backend: profile.backend,
    prefs,
    ...(spec.defaultNetvm !== undefined && spec.qubes.some((q) => q.followsDefaultNetvm)
      ? { defaultNetvm: spec.defaultNetvm.name }
      : {}),
    creates,
    firewalls: outbound.firewalls,
    ipv6Qubes: spec.qubes.filter((q) => q.ipv6).map((q) => q.name),
    qrexecPolicy,
    qubes,
    hosts,
    teardowns,
    pins,
    // A guest's files are in its host: the host is the target, the guest never.
    targets: [
      ...qubes.filter((q) => q.host === undefined).map((q) => q.qube),
      ...hosts.map((h) => h.host),
      ...teardowns.map((t) => t.qube),
    ].sort(compare),
    reconnect: reconnectOrder(spec, graph),
  };
}

/** What runs a qube's script: the release's placements (a guest of a template: the template's hook folder). */
function placementOf(qube: QubeName, graph: NetvmGraph, profile: ReleaseProfile): Placement {
  const q = graph.get(qube);
  const { placements } = profile;
  if (q?.guestOf?.kind === "template") return "template-qubes-firewall.d";
  if (!q?.providesNetwork) return placements.leaf;
  return q.netvm === undefined && placements.top !== undefined ? placements.top : placements.net;
}
