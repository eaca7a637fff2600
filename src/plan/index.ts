/**
 * Stage 4, plan: Topology -> Plan. Decides which qube carries which rule,
 * which addresses each qube must learn at apply time, and what is torn down.
 * Everything is sorted here so that later stages are deterministic.
 * No user errors are possible at this point; the topology stage refused them.
 */
import { linkDirections, overflows, overflowsQubesd, r32FirewallOf, saltStem, type Topology } from "../topology/index.js";
import { MAX_FIREWALL_RULES, mergeRanges, ruleString, type IntentName, type PortRange, type Proto, type QubeName, type R32Firewall } from "../validate/index.js";
import { overflowChain, type OverflowChain } from "./overflow.js";
import { formatPortRange } from "../validate/values.js";
import { reconnectOrder } from "./reconnect.js";
import { profileOf } from "../release/index.js";
import type { Arrival, Dom0Prefs, HostPlan, FamilyRules, OutboundPolicy, QrexecConnect, QrexecPolicyLine, ForwardHop, ForwardInput, LinkInput, LinkPass, Plan, QubePlan, Teardown, Traffic } from "./plan.js";

export * from "./plan.js";
export * from "./overflow.js";
export { reconnectOrder, type Reattach } from "./reconnect.js";

export interface PlanOptions {
  /** Qubes that carried qwire files in the previous build (its plan.json). */
  readonly previousQubes?: readonly QubeName[];
  /** Hosts of guest net qubes in the previous build (its plan.json). */
  readonly previousHosts?: readonly QubeName[];
}

/** The rules of one address family in one qube, as they are collected. */
interface FamilyDraft {
  forwardHops: ForwardHop[];
  forwardInputs: ForwardInput[];
  passes: Map<string, { from: QubeName; to: QubeName; intents: IntentName[]; traffic: Traffic[] }>;
  inputs: Map<QubeName, { intents: IntentName[]; traffic: Traffic[] }>;
}

interface Draft {
  v4: FamilyDraft;
  v6: FamilyDraft;
  connects: QrexecConnect[];
  summary: string[];
}

const emptyFamily = (): FamilyDraft => ({ forwardHops: [], forwardInputs: [], passes: new Map(), inputs: new Map() });

export function plan(topology: Topology, options: PlanOptions = {}): Plan {
  const drafts = new Map<QubeName, Draft>();
  const draft = (q: QubeName): Draft => {
    let d = drafts.get(q);
    if (!d) {
      d = { v4: emptyFamily(), v6: emptyFamily(), connects: [], summary: [] };
      drafts.set(q, d);
    }
    return d;
  };

  for (const route of topology.forwards) {
    const f = route.forward;
    const { hops } = route;
    const last = hops.length - 1;
    const arrivalsAt = (i: number): Arrival[] => (i === 0 ? route.interfaces.map((name) => ({ kind: "interface", name })) : [{ kind: "uplink" }]);
    for (const [family, sources] of [
      ["v4", f.from],
      ["v6", f.from6],
    ] as const) {
      if (sources.length === 0) continue;
      const ip = family === "v6" ? " (IPv6)" : "";
      const what = `${f.proto} ${formatPortRange(f.externalPort)} from ${sources.map((c) => c.text).join(", ")}`;
      for (let i = 0; i < last; i++) {
        const next = hops[i + 1]!;
        const translate = i === last - 1 && f.port.first !== f.externalPort.first;
        for (const arrival of arrivalsAt(i)) {
          draft(hops[i]!)[family].forwardHops.push({
            intent: f.name,
            arrival,
            sources,
            proto: f.proto,
            dport: f.externalPort,
            next,
            ...(translate ? { translateTo: f.port.first } : {}),
          });
        }
        draft(hops[i]!).summary.push(
          `forward ${f.name}${ip}: ${what}, arriving on ${i === 0 ? route.interfaces.join(", ") : "the uplink from " + hops[i - 1]}: DNAT to ${next}${translate ? ` port ${f.port.first}` : ""} and let it through`,
        );
      }
      for (const arrival of arrivalsAt(last)) {
        draft(f.to)[family].forwardInputs.push({ intent: f.name, arrival, sources, proto: f.proto, dport: f.port });
      }
      draft(f.to).summary.push(
        `forward ${f.name}${ip}: accept ${f.proto} ${formatPortRange(f.port)} from ${sources.map((c) => c.text).join(", ")}, ${last === 0 ? `on ${route.interfaces.join(", ")}` : `coming in through ${hops.slice(0, -1).join(" -> ")}`}`,
      );
    }
  }

  const graph = topology.graph;
  for (const { link, firewall } of topology.links) {
    const traffic: Traffic[] =
      link.traffic === "all" ? [{ kind: "all" }] : link.traffic.protos.map((proto) => ({ kind: "ports", proto, ports: link.traffic === "all" ? [] : link.traffic.ports }));
    const what = describeTraffic(traffic);
    // A link also carries IPv6 when both qubes and their firewall qube have it.
    const families = [link.from, link.to, firewall].every((q) => graph.get(q)?.ipv6) ? (["v4", "v6"] as const) : (["v4"] as const);
    for (const family of families) {
      const ip = family === "v6" ? " (IPv6)" : "";
      for (const [from, to] of linkDirections(link)) {
        const fw = draft(firewall)[family];
        const key = `${from} ${to}`;
        const pass = fw.passes.get(key) ?? { from, to, intents: [], traffic: [] };
        pass.intents.push(link.name);
        pass.traffic.push(...traffic);
        fw.passes.set(key, pass);
        draft(firewall).summary.push(`link ${link.name}${ip}: let ${from} reach ${to} (${what})`);
        const target = draft(to)[family];
        const input = target.inputs.get(from) ?? { intents: [], traffic: [] };
        input.intents.push(link.name);
        input.traffic.push(...traffic);
        target.inputs.set(from, input);
        draft(to).summary.push(`link ${link.name}${ip}: accept ${what} from ${from}`);
      }
    }
  }

  // The target of a qrexec link needs nothing installed (qrexec itself serves
  // qubes.ConnectTCP), so it is not a target of the VM phase: a vault with no
  // network is not even started for it.
  const qrexecPolicy: QrexecPolicyLine[] = [];
  for (const link of topology.qrexecLinks) {
    for (const [from, to] of linkDirections(link)) {
      for (const { port, localPort } of link.ports) {
        draft(from).connects.push({ intent: link.name, to, port, localPort });
        draft(from).summary.push(`qrexec link ${link.name}: 127.0.0.1:${localPort} here reaches ${to} port ${port} (qubes.ConnectTCP)`);
        qrexecPolicy.push({ intent: link.name, port, from, to });
      }
    }
  }
  qrexecPolicy.sort((a, b) => a.port - b.port || compare(a.from, b.from) || compare(a.to, b.to));

  // R3.2: qvm-firewall's policy + exceptions; past the 3 kB budget the qube holds the list.
  const r32 = new Map<QubeName, { fw: R32Firewall; inQube: boolean }>();
  const profile = profileOf(topology.spec.release);
  if (profile.outbound.model === "exceptions") {
    for (const f of topology.spec.firewall) {
      const fw = r32FirewallOf(f, topology.outbound.get(f.qube)!);
      const inQube = overflows(fw);
      r32.set(f.qube, { fw, inQube });
      if (inQube) {
        const kind = fw.policy === "deny" ? "allow-list" : "deny-list";
        draft(f.qube).summary.push(`outbound policy: ${fw.exceptions.length} exceptions, past R3.2's qvm-firewall limit, enforced here (${kind} in chain QWIRE-OUT)`);
      }
    }
  }

  // R4.2/R4.3 past qubesd's limit (Qubes #4228): the netvm enforces the whole list.
  const overflowLists = new Map<QubeName, { netvm: QubeName; rules: number }>();
  const netvmChains = new Map<QubeName, OverflowChain[]>();
  if (profile.outbound.overflow === "netvm") {
    for (const f of [...topology.spec.firewall].sort((a, b) => compare(a.qube, b.qube))) {
      const rules = topology.outbound.get(f.qube)!.rules;
      const netvm = graph.get(f.qube)?.netvm;
      if (!overflowsQubesd(rules) || netvm === undefined) continue;
      const chains = netvmChains.get(netvm) ?? [];
      const chain = overflowChain(f.qube, chains.length + 1, rules, f.policy);
      chains.push(chain);
      netvmChains.set(netvm, chains);
      overflowLists.set(f.qube, { netvm, rules: rules.length });
      draft(netvm).summary.push(
        `outbound policy of ${f.qube}: ${rules.length} rules, past qubesd's limit (Qubes #4228): enforced here for ${f.qube}'s address in chain ${chain.chain} (${chain.steps.length} steps), then policy ${f.policy}`,
      );
    }
  }

  const placements = profile.placements;
  const qubes: QubePlan[] = [...drafts.entries()].sort(([a], [b]) => compare(a, b)).map(([qube, d]) => {
    const v4Rules = familyRules(d.v4);
    const v6 = familyRules(d.v6);
    const guestOf = graph.get(qube)?.guestOf;
    const outbound = r32.get(qube)?.inQube ? r32.get(qube)?.fw : undefined;
    const chains = netvmChains.get(qube) ?? [];
    const v4 = chains.length === 0 ? v4Rules : { ...v4Rules, addresses: unique([...v4Rules.addresses, ...chains.map((c) => c.qube)]).sort(compare) };
    return {
      qube,
      stem: saltStem(qube),
      placement:
        guestOf?.kind === "template"
          ? "template-qubes-firewall.d"
          : !graph.get(qube)?.providesNetwork
            ? placements.leaf
            : graph.get(qube)?.netvm === undefined && placements.top !== undefined
              ? placements.top
              : placements.net,
      ...v4,
      ipv6: graph.get(qube)?.ipv6 === true,
      v6,
      hasPacketRules: v4.hasRules || v6.hasRules || outbound !== undefined || chains.length > 0,
      connects: [...d.connects].sort((a, b) => a.localPort - b.localPort),
      summary: d.summary,
      ...(guestOf === undefined ? {} : { host: { qube: guestOf.host, kind: guestOf.kind } }),
      ...(outbound === undefined ? {} : { outbound }),
      ...(chains.length === 0 ? {} : { overflows: chains }),
    };
  });

  const carrying = new Set(qubes.map((q) => q.qube));
  const previous = new Set(options.previousQubes ?? []);
  // Hosts now, and hosts of the previous build that lost all their guests (unless they carry rules now).
  const hostNames = unique([...qubes.flatMap((q) => (q.host ? [q.host.qube] : [])), ...(options.previousHosts ?? []).filter((h) => !carrying.has(h))]).sort(compare);
  const hosts: HostPlan[] = hostNames.map((host) => ({
    host,
    stem: saltStem(host),
    guests: qubes.filter((q) => q.host?.qube === host).map((q) => ({ qube: q.qube, kind: q.host!.kind })),
    teardown: previous.has(host),
  }));
  const hostSet = new Set(hostNames);
  const teardowns: Teardown[] = unique(options.previousQubes ?? [])
    .filter((q) => !carrying.has(q) && !hostSet.has(q))
    .sort(compare)
    .map((qube) => ({ qube, stem: saltStem(qube) }));

  const prefs: Dom0Prefs[] = topology.spec.qubes
    .map((q) => ({
      qube: q.name,
      ...(q.netvm === undefined ? {} : { netvm: q.netvm }),
      ...(q.providesNetwork ? { providesNetwork: true as const } : {}),
      ...(q.ip === undefined ? {} : { ip: q.ip }),
    }))
    .filter((p) => Object.keys(p).length > 1);

  const firewalls: OutboundPolicy[] = topology.spec.firewall.map((f) => {
    const added = topology.outbound.get(f.qube)!.added.map(ruleString);
    const own = f.rules.map(ruleString);
    const legacy = r32.get(f.qube);
    const set = legacy?.inQube ? { ...legacy.fw, policy: "allow" as const, exceptions: [] } : legacy?.fw;
    const overflow = overflowLists.get(f.qube);
    if (overflow !== undefined) {
      // qubes-firewall decides only what its first rules decide; the netvm's chain decides the rest (a packet must pass both).
      return { qube: f.qube, rules: [...[...added, ...own].slice(0, MAX_FIREWALL_RULES - 1), "action=accept"], addedForLinks: added.length, overflow };
    }
    return {
      qube: f.qube,
      rules: [...added, ...own, `action=${f.policy}`],
      addedForLinks: added.length,
      ...(legacy === undefined || set === undefined ? {} : { r32: { set, inQube: legacy.inQube } }),
    };
  });

  const pins = new Map<QubeName, string>();
  for (const q of topology.spec.qubes) if (q.ip !== undefined) pins.set(q.name, q.ip);

  return {
    release: topology.spec.release,
    backend: profile.backend,
    prefs,
    firewalls,
    ipv6Qubes: topology.spec.qubes.filter((q) => q.ipv6).map((q) => q.name),
    qrexecPolicy,
    qubes,
    hosts,
    teardowns,
    pins,
    // A guest's files are in its host: the host is the target, the guest never.
    targets: [...qubes.filter((q) => q.host === undefined).map((q) => q.qube), ...hostNames, ...teardowns.map((t) => t.qube)].sort(compare),
    reconnect: reconnectOrder(topology.spec, graph),
  };
}

/** Sorted, merged rules of one family, and the qube addresses they need. */
function familyRules(d: FamilyDraft): FamilyRules & { hasRules: boolean } {
  const linkPasses: LinkPass[] = [...d.passes.values()]
    .map((p) => ({ from: p.from, to: p.to, intents: unique(p.intents), traffic: normalizeTraffic(p.traffic) }))
    .sort((a, b) => compare(a.from, b.from) || compare(a.to, b.to));
  const linkInputs: LinkInput[] = [...d.inputs.entries()]
    .map(([from, p]) => ({ from, intents: unique(p.intents), traffic: normalizeTraffic(p.traffic) }))
    .sort((a, b) => compare(a.from, b.from));
  const addresses = unique([...d.forwardHops.map((h) => h.next), ...linkPasses.flatMap((p) => [p.from, p.to]), ...linkInputs.map((i) => i.from)]).sort(compare);
  return {
    forwardHops: d.forwardHops,
    forwardInputs: d.forwardInputs,
    linkPasses,
    linkInputs,
    addresses,
    hasRules: d.forwardHops.length + d.forwardInputs.length + linkPasses.length + linkInputs.length > 0,
  };
}

/**
 * One entry per protocol with disjoint, sorted port ranges ("all" absorbs
 * the rest): an nft interval set refuses overlapping elements.
 */
function normalizeTraffic(traffic: readonly Traffic[]): Traffic[] {
  if (traffic.some((t) => t.kind === "all")) return [{ kind: "all" }];
  const byProto = new Map<Proto, PortRange[]>();
  for (const t of traffic) if (t.kind === "ports") byProto.set(t.proto, [...(byProto.get(t.proto) ?? []), ...t.ports]);
  return [...byProto.entries()].sort(([a], [b]) => compare(a, b)).map(([proto, ports]) => ({ kind: "ports", proto, ports: mergeRanges(ports) }));
}

function describeTraffic(traffic: readonly Traffic[]): string {
  return traffic.map((t) => (t.kind === "all" ? "all traffic" : `${t.proto} ${t.ports.map(formatPortRange).join(", ")}`)).join(", ");
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** Code-point order: the same on every machine, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
