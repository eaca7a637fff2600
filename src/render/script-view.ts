/**
 * The view every backend's qube script template gets: the same data for nft
 * and iptables, built from a qube's plan without decisions of its own. Only
 * the rule text differs between backends, and that lives in their templates
 * (templates/<backend>/qube-script.sh.hbs); the skeleton is in
 * templates/_partials/.
 */
import type {
  Arrival,
  FamilyRules,
  ForwardHop,
  LinkInput,
  LinkPass,
  OverflowChain,
  Placement,
  QubePlan,
  Traffic,
} from "../plan/index.js";
import type { R32Firewall, Release } from "../validate/index.js";
import { profileOf } from "../release/index.js";
import { withoutCovered } from "./covered-networks.js";
import { sentences } from "./words.js";

/** When the qube runs the script, one comment line each. */
const RUNS: Record<Placement, readonly string[]> = {
  "qubes-firewall.d": ["qubes-firewall runs it when it starts; qubesctl runs it on every apply."],
  "rc.local.d": ["The qube runs it at boot; qubesctl runs it on every apply."],
  "rc.local": [
    "The qube runs it at boot (a marked block in /rw/config/rc.local calls it);",
    "qubesctl runs it on every apply.",
  ],
  "qubes-firewall-user-script": [
    "qubes-firewall runs it after every reload (a marked block in",
    "/rw/config/qubes-firewall-user-script calls it); qubesctl on every apply.",
  ],
  "template-qubes-firewall.d": ["qubes-firewall runs it when it starts, before the /rw/config hooks."],
};

/** When a guest's script runs: never at apply time (its host is not the guest). */
function guestRuns(q: QubePlan): string[] {
  const host = q.host!;
  return host.kind === "disposable"
    ? [
        `It is in the /rw of the disposable template ${host.qube}, which each disposable`,
        `starts from: qubes-firewall runs it when ${q.qube} starts. qubesctl does not run it.`,
      ]
    : [
        `It is in the template ${host.qube}: qubes-firewall runs it when ${q.qube} starts,`,
        "before the /rw/config hooks (which R4.3 custom-persist skips). qubesctl does not run it.",
      ];
}

export function scriptView(q: QubePlan, release: Release, installedAs: string, family: string, addresses: string) {
  const families = [familyView("ip", q, q.overflows ?? [])];
  if (q.ipv6) families.push(familyView("ip6", q.v6, []));
  return {
    qube: q.qube,
    release,
    family,
    installedAs,
    addresses,
    guest: q.host !== undefined,
    host: q.host?.qube ?? "",
    runs: q.host !== undefined ? guestRuns(q) : RUNS[q.placement],
    summary: sentences(q),
    ipv6: q.ipv6,
    // `uplink: auto`: the script finds the entry qube's outside interface at run time.
    detectsUplink: [q, q.v6].some((r) => r.forwardHops.some((h) => h.arrival.kind === "detected")),
    // R3.2 only (iptables): the outbound list past qvm-firewall's limit, or the cleanup of an old one.
    outbound: q.outbound === undefined ? null : outboundView(q.outbound),
    dropsOutbound: profileOf(release).outbound.model === "exceptions" && q.outbound === undefined,
    // IPv4 at the top level, for backends without IPv6 (iptables).
    ...families[0]!,
    families,
  };
}

/** One address family: table ip qubes (IPv4) or ip6 qubes (IPv6). */
function familyView(table: "ip" | "ip6", rules: FamilyRules, overflows: readonly OverflowChain[]) {
  const suffix = table === "ip6" ? " (IPv6)" : "";
  const addr = table === "ip" ? "ipv4_addr" : "ipv6_addr";
  const hopArrivals = arrivalsOf(rules.forwardHops);
  const inputArrivals = arrivalsOf(rules.forwardInputs);
  const hopNames = (a: Arrival) => {
    const n = hopArrivals.findIndex((h) => sameArrival(h, a)) + 1;
    return { dnat: `qwire-dnat-${n}`, dnatPort: `qwire-dnat-port-${n}`, accept: `qwire-fwd-${n}` };
  };
  const inputSet = (a: Arrival) => `qwire-fin-${inputArrivals.findIndex((i) => sameArrival(i, a)) + 1}`;
  const hops = rules.forwardHops.map((h) => hopView(h, hopNames(h.arrival), `forward ${h.intent}${suffix}`));
  // The forwards arriving one way, for the log line when their rules are left out.
  const namesOf = (a: Arrival) =>
    `forward ${[...new Set(rules.forwardHops.filter((h) => sameArrival(h.arrival, a)).map((h) => h.intent))].join(", ")}${suffix}`;
  const hopSets = hopArrivals.map((a) => ({
    arrival: a,
    detected: a.kind === "detected",
    label: namesOf(a),
    ...hopNames(a),
    keepsPort: hops.some((h) => sameArrival(h.arrival, a) && !h.translated),
    translatesPort: hops.some((h) => sameArrival(h.arrival, a) && h.translated),
  }));
  // A qube with `uplink: auto` has no netvm (QW3025) and a forward ends only in a qube with one (QW3004):
  // the interface found at run time is only ever a hop's, whose rules are the groups that need it.
  if (inputArrivals.some((a) => a.kind === "detected")) throw new Error("a forward ends in a qube with 'uplink: auto'");
  const inputSets = inputArrivals.map((a) => ({ arrival: a, set: inputSet(a) }));
  return {
    table,
    addrType: addr,
    // Every set and map qwire owns in this table, emptied on each run by deleting and declaring it again.
    objects: [
      {
        kind: "set",
        name: "qwire-link-ports",
        key: [addr, addr, "inet_proto", "inet_service"],
        value: [],
        interval: true,
      },
      { kind: "set", name: "qwire-link-all", key: [addr, addr], value: [], interval: false },
      { kind: "set", name: "qwire-in-ports", key: [addr, "inet_proto", "inet_service"], value: [], interval: true },
      { kind: "set", name: "qwire-in-all", key: [addr], value: [], interval: false },
      ...hopSets.flatMap((h) => [
        { kind: "map", name: h.dnat, key: [addr, "inet_proto", "inet_service"], value: [addr], interval: true },
        {
          kind: "map",
          name: h.dnatPort,
          key: [addr, "inet_proto", "inet_service"],
          value: [addr, "inet_service"],
          interval: true,
        },
        { kind: "set", name: h.accept, key: [addr, addr, "inet_proto", "inet_service"], value: [], interval: true },
      ]),
      ...inputSets.map((i) => ({
        kind: "set",
        name: i.set,
        key: [addr, "inet_proto", "inet_service"],
        value: [],
        interval: true,
      })),
    ],
    hopSets,
    inputSets,
    // The first arrival number past this bundle's: maps and sets from there on are an earlier bundle's.
    staleHopSets: hopArrivals.length + 1,
    staleInputSets: inputArrivals.length + 1,
    // Fields written out, not spread: a spread per forward was most of this view's time at 10,000 forwards.
    forwardInputs: rules.forwardInputs.map((i) => ({
      intent: i.intent,
      arrival: i.arrival,
      sources: withoutCovered(i.sources),
      proto: i.proto,
      dport: i.dport,
      set: inputSet(i.arrival),
      label: `forward ${i.intent}${suffix}`,
    })),
    forwardHops: hops,
    linkPasses: rules.linkPasses.map((p: LinkPass) => ({
      label: `link ${p.intents.join(", ")}${suffix}`,
      from: p.from,
      to: p.to,
      traffic: p.traffic.map(trafficView),
    })),
    linkInputs: rules.linkInputs.map((i: LinkInput) => ({
      label: `link ${i.intents.join(", ")}${suffix}`,
      from: i.from,
      traffic: i.traffic.map(trafficView),
    })),
    overflows: overflows.map(overflowView),
  };
}

/**
 * The interfaces forwards arrive on, each with its own maps and sets (so an
 * interval set's key never holds an interface name, which makes the kernel's
 * concatenated interval sets many times slower to load): the uplink first,
 * then the one found at run time, then named interfaces in name order.
 */
function arrivalsOf(items: readonly { readonly arrival: Arrival }[]): Arrival[] {
  const out: Arrival[] = [];
  for (const { arrival } of items) if (!out.some((a) => sameArrival(a, arrival))) out.push(arrival);
  // An entry qube with `uplink: auto` has no named interface and no Qubes uplink (validated), so "*" sorts nothing in practice.
  const key = (a: Arrival) => (a.kind === "uplink" ? "" : a.kind === "detected" ? "*" : `:${a.name}`);
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function sameArrival(a: Arrival, b: Arrival): boolean {
  return a.kind === b.kind && (a.kind !== "interface" || a.name === (b as { name: string }).name);
}

/** Elements per `add element` line: one nft command stays readable and small. */
const CHUNK = 250;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * A downstream qube's outbound list past qubesd's limit, enforced in this
 * netvm (chain qwire-out-<n>). Accept is `return` (the packet goes on
 * through qwire-forward and Qubes' own forward rules, e.g. `oifgroup 2
 * drop`, exactly as a qubes-firewall accept would); drop is qubes-firewall's
 * `reject with icmp type admin-prohibited`.
 */
function overflowView(c: OverflowChain) {
  const setSteps = c.steps.flatMap((s) => (s.kind === "ports" || s.kind === "nets" ? [s] : []));
  return {
    qube: c.qube,
    chain: c.chain,
    label: `outbound policy of ${c.qube}`,
    count: String(c.rules),
    portSets: setSteps.filter((s) => s.kind === "ports").map((s) => s.set),
    netSets: setSteps.filter((s) => s.kind === "nets").map((s) => s.set),
    steps: c.steps.map((s) => ({
      chain: c.chain,
      accept: s.verdict === "accept",
      ports: s.kind === "ports",
      nets: s.kind === "nets",
      icmp: s.kind === "icmp",
      dns: s.kind === "dns",
      set: s.kind === "ports" || s.kind === "nets" ? s.set : "",
      portChunks: s.kind === "ports" ? chunks(s.elements) : [],
      netChunks: s.kind === "nets" ? chunks(s.elements) : [],
      net: s.kind === "icmp" ? s.net : "",
      hasIcmpType: s.kind === "icmp" && s.icmptype !== null,
      icmptype: s.kind === "icmp" ? (s.icmptype ?? 0) : 0,
      protos: s.kind === "dns" ? s.protos.join(", ") : "",
      bothProtos: s.kind === "dns" && s.protos.length === 2,
      dnsProto: s.kind === "dns" ? s.protos[0]! : "",
    })),
    policyDrops: c.policy === "drop",
  };
}

/**
 * One forward's hop with the names of its arrival's maps and sets: one
 * object literal, as spreading a hop and its names into a third object cost
 * a forward 20 us (most of sys-net's view at 5,000 forwards).
 */
function hopView(h: ForwardHop, names: { dnat: string; dnatPort: string; accept: string }, label: string) {
  const translated = h.translateTo !== undefined;
  return {
    intent: h.intent,
    arrival: h.arrival,
    detected: h.arrival.kind === "detected",
    sources: withoutCovered(h.sources),
    proto: h.proto,
    dport: h.dport,
    next: h.next,
    translated,
    targetPort: h.translateTo ?? h.dport.first,
    // After DNAT the forward chain sees the translated port.
    acceptPort: translated ? { first: h.translateTo, last: h.translateTo } : h.dport,
    dnat: names.dnat,
    dnatPort: names.dnatPort,
    accept: names.accept,
    label,
  };
}

/** Templates run in strict mode: every field exists in both shapes. */
function trafficView(t: Traffic) {
  return t.kind === "all" ? { all: true, proto: "", ports: [] } : { all: false, proto: t.proto, ports: t.ports };
}

/**
 * R3.2's outbound policy in the qube (chain QWIRE-OUT). An allow-list
 * (policy deny) writes the switches that allow, a deny-list those that deny;
 * each exception is a network or a host name resolved at run time.
 */
function outboundView(fw: R32Firewall) {
  const allowList = fw.policy === "deny";
  const differs = (s: "allow" | "deny") => (allowList ? s === "allow" : s === "deny");
  return {
    allowList,
    dns: differs(fw.dns),
    icmp: differs(fw.icmp),
    exceptions: fw.exceptions.map((e) => {
      const host = !/^[0-9./]+$/.test(e.address);
      return {
        label: `${e.address} ${e.proto}${e.ports ? ` ${e.ports.first === e.ports.last ? e.ports.first : `${e.ports.first}-${e.ports.last}`}` : ""}`,
        host,
        name: host ? e.address : "",
        net: host ? "" : e.address.includes("/") ? e.address : `${e.address}/32`,
        any: e.proto === "any",
        proto: e.proto === "any" ? "" : e.proto,
        ports: e.ports ?? null,
      };
    }),
  };
}
