/**
 * Stage 3, topology: IntentSpec -> Topology.
 *
 * Resolves every reference and every path through the netvm graph, and
 * refuses layouts Qubes cannot carry: QW3001 (undeclared qube), QW3002
 * (netvm cycle), QW3003 (netvm without provides_network), QW3004-QW3006,
 * QW3009, QW3010, QW3013 (forward paths), QW3007, QW3011 (links), QW3008
 * (client behind a service qube), QW3014, QW3015 (naming and pins), QW3030
 * (a created qube's template, create.ts).
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type { ParsedDocument, YamlPath } from "../parse/index.js";
import { AUTO_UPLINK, type OutsideInterface } from "../validate/index.js";
import type {
  FirewallRule,
  ForwardSpec,
  IntentSpec,
  LinkSpec,
  NetworkLinkSpec,
  PortRange,
  QrexecLinkSpec,
  QubeName,
  QubeSpec,
} from "../validate/index.js";
import { formatPortRange } from "../validate/values.js";
import { ipv4Range, rangesOverlap } from "../addresses/ipv4.js";
import { profileOf } from "../release/index.js";
import { linkDirections } from "./directions.js";
import { composeOutbound, type OutboundList } from "./outbound.js";
import { NetvmGraph } from "./graph.js";
import { r32FirewallOf, warnR32Overflow } from "./firewall-r32.js";
import { checkOverflow } from "./firewall-overflow.js";
import { checkCreates } from "./create.js";

export { overflows, r32FirewallOf } from "./firewall-r32.js";
export { overflowsQubesd } from "./firewall-overflow.js";
export type { OutboundList } from "./outbound.js";

export { NetvmGraph } from "./graph.js";
export { linkDirections } from "./directions.js";

/** A forward with its path resolved: entry first, target last. */
export interface ForwardRoute {
  readonly forward: ForwardSpec;
  readonly entry: QubeName;
  /** Where it arrives at the entry: named interfaces, or `[AUTO_UPLINK]` (found at run time). */
  readonly interfaces: readonly OutsideInterface[];
  /** [entry, ..., to]; length >= 1 (1 when the entry is the target itself). */
  readonly hops: readonly QubeName[];
}

/** A network link: both qubes sit behind `firewall`. */
export interface LinkRoute {
  readonly link: NetworkLinkSpec;
  readonly firewall: QubeName;
  /**
   * Accepts added in front of a connecting qube's own outbound rules when its
   * policy is drop: otherwise qubes-firewall in the netvm drops the link's
   * traffic before qwire's rules see it (Qubes #3644).
   */
  readonly outboundAccepts: readonly { readonly qube: QubeName; readonly rules: readonly FirewallRule[] }[];
}

export interface Topology {
  readonly spec: IntentSpec;
  readonly graph: NetvmGraph;
  readonly forwards: readonly ForwardRoute[];
  readonly links: readonly LinkRoute[];
  /** qrexec links need no route: dom0's policy joins the two qubes. */
  readonly qrexecLinks: readonly QrexecLinkSpec[];
  /** Each outbound policy's whole list, as dom0 sets it, by qube (topology/outbound.ts). */
  readonly outbound: ReadonlyMap<QubeName, OutboundList>;
}

export interface TopologyOptions {
  /**
   * Only report references to undeclared qubes (QW3001): used when the
   * validator refused some values, so paths would be checked on partial data.
   */
  readonly referencesOnly?: boolean;
  /** Names already reported as invalid; a reference to one is not an error again. */
  readonly ignore?: ReadonlySet<string>;
}

export function resolveTopology(
  spec: IntentSpec,
  doc: ParsedDocument,
  diag: DiagnosticBag,
  options: TopologyOptions = {},
): Topology | undefined {
  const graph = new NetvmGraph(spec);
  const at = (path: YamlPath) => doc.positions.value(path);
  const declaredAt = (q: QubeName) => doc.positions.key(graph.get(q)?.path ?? []);

  /** QW3001 unless `name` is declared. */
  const known = (name: QubeName, path: YamlPath): boolean => {
    if (graph.has(name)) return true;
    if (options.ignore?.has(name)) return false;
    const suggestion = didYouMean(name, graph.names());
    diag.error(
      "QW3001",
      at(path),
      `qube '${name}' is not declared under 'qubes'`,
      suggestion ? { notes: [{ message: suggestion }] } : { hint: `declare '${name}' under 'qubes:', or fix the name` },
    );
    return false;
  };

  if (options.referencesOnly) {
    if (spec.defaultNetvm !== undefined) known(spec.defaultNetvm.name, spec.defaultNetvm.path);
    for (const q of spec.qubes)
      if (q.netvm !== undefined && !q.followsDefaultNetvm) known(q.netvm, [...q.path, "netvm"]);
    for (const f of spec.forwards) {
      known(f.to, [...f.path, "to"]);
      if (f.entry !== undefined) known(f.entry, [...f.path, "entry"]);
    }
    for (const l of spec.links) {
      known(l.from, [...l.path, "from"]);
      known(l.to, [...l.path, "to"]);
    }
    for (const e of spec.expect) {
      if (e.from.kind === "qube") known(e.from.qube, [...e.path, "from"]);
      known(e.to, [...e.path, "to"]);
    }
    for (const f of spec.firewall) known(f.qube, [...f.path]);
    return undefined;
  }

  checkQubes(spec, graph, doc, diag, known, declaredAt);

  const forwards: ForwardRoute[] = [];
  for (const f of spec.forwards) {
    const route = resolveForward(f, graph, doc, diag, known, declaredAt);
    if (route) forwards.push(route);
  }
  checkForwardClashes(forwards, doc, diag);

  const links: LinkRoute[] = [];
  const qrexecLinks: QrexecLinkSpec[] = [];
  for (const l of spec.links) {
    if (!linkEndsKnown(l, doc, diag, known)) continue;
    if (l.via === "qrexec") qrexecLinks.push(l);
    else {
      const route = resolveLink(l, graph, doc, diag, declaredAt);
      if (route) links.push(route);
    }
  }

  checkQrexecClashes(qrexecLinks, doc, diag);
  checkGuests(spec, graph, doc, diag, forwards, links, qrexecLinks, declaredAt);
  checkCreates(spec, graph, doc, diag, declaredAt);

  for (const e of spec.expect) {
    if (e.from.kind === "qube") known(e.from.qube, [...e.path, "from"]);
    known(e.to, [...e.path, "to"]);
  }
  for (const f of spec.firewall) known(f.qube, [...f.path]);
  const outbound = composeOutbound(spec.firewall, links);
  const overflow = profileOf(spec.release).outbound.overflow;
  if (overflow === "in-qube")
    for (const f of spec.firewall) warnR32Overflow(f, r32FirewallOf(f, outbound.get(f.qube)!), doc, diag);
  if (overflow === "netvm")
    for (const f of spec.firewall) checkOverflow(f, outbound.get(f.qube)!.rules, graph, doc, diag);

  if (diag.hasErrors()) return undefined;
  return { spec, graph, forwards, links, qrexecLinks, outbound };
}

function checkQubes(
  spec: IntentSpec,
  graph: NetvmGraph,
  doc: ParsedDocument,
  diag: DiagnosticBag,
  known: (n: QubeName, p: YamlPath) => boolean,
  declaredAt: (q: QubeName) => ReturnType<ParsedDocument["positions"]["key"]>,
): void {
  /** QW3003 at `default_netvm` unless the qube it names provides network. */
  const providesNetwork = (name: QubeName, path: YamlPath): boolean => {
    if (graph.get(name)!.providesNetwork) return true;
    diag.error("QW3003", doc.positions.value(path), `dom0's default netvm '${name}' does not provide network`, {
      notes: [{ message: `'${name}' is declared here`, span: declaredAt(name) }],
      hint: `add 'provides_network: true' to '${name}', or name the qube that 'qubes-prefs default_netvm' prints`,
    });
    return false;
  };
  const stems = new Map<string, QubeSpec>();
  const pins = new Map<string, QubeSpec>();
  // `netvm: default` qubes share one reference, checked once where it is written.
  const defaultNetvm = spec.defaultNetvm;
  const defaultUsable =
    defaultNetvm === undefined ||
    (known(defaultNetvm.name, defaultNetvm.path) && providesNetwork(defaultNetvm.name, defaultNetvm.path));
  for (const q of spec.qubes) {
    if (q.followsDefaultNetvm && defaultNetvm === undefined) {
      diag.error(
        "QW3021",
        doc.positions.value([...q.path, "netvm"]),
        `'${q.name}' follows dom0's default netvm, but qwire.yaml does not say which qube that is`,
        {
          hint: "add a top-level 'default_netvm: sys-firewall' (what 'qubes-prefs default_netvm' prints in dom0); dom0 checks it before it resets the qube's netvm",
        },
      );
    }
    const checked = q.followsDefaultNetvm
      ? defaultUsable
      : q.netvm !== undefined && known(q.netvm, [...q.path, "netvm"]);
    if (q.netvm !== undefined && checked) {
      const netvm = graph.get(q.netvm)!;
      if (!netvm.providesNetwork && !q.followsDefaultNetvm) {
        diag.error(
          "QW3003",
          doc.positions.value([...q.path, "netvm"]),
          `'${q.name}' uses '${netvm.name}' as its netvm, but '${netvm.name}' does not provide network`,
          {
            notes: [{ message: `'${netvm.name}' is declared here`, span: declaredAt(netvm.name) }],
            hint: `add 'provides_network: true' to '${netvm.name}', or pick another netvm`,
          },
        );
      } else if (netvm.role === "service" && !q.providesNetwork) {
        diag.error(
          "QW3008",
          doc.positions.value([...q.path, "netvm"]),
          `'${q.name}' sits directly behind the service qube '${netvm.name}'`,
          {
            notes: [{ message: `'${netvm.name}' is a service qube`, span: declaredAt(netvm.name) }],
            hint: `put a firewall qube between them (sys-net <-> sys-firewall-1 <-> ${netvm.name} <-> sys-firewall-2 <-> ${q.name}), so qvm-firewall rules of '${q.name}' are enforced by a qube it cannot reach`,
          },
        );
      }
    }
    const stem = saltStem(q.name);
    const other = stems.get(stem);
    if (other) {
      diag.error(
        "QW3014",
        doc.positions.key(q.path),
        `qubes '${other.name}' and '${q.name}' would share the Salt file name '${stem}'`,
        {
          notes: [{ message: `'${other.name}' is declared here`, span: declaredAt(other.name) }],
          hint: "Salt state names cannot hold '.', so qwire writes it as '_'; rename one of the qubes",
        },
      );
    } else stems.set(stem, q);
    if (q.ip !== undefined) {
      const twin = pins.get(q.ip);
      if (twin) {
        diag.error(
          "QW3015",
          doc.positions.value([...q.path, "ip"]),
          `'${q.name}' and '${twin.name}' are both pinned to ${q.ip}`,
          {
            notes: [{ message: "the other pin is here", span: doc.positions.value([...twin.path, "ip"]) }],
          },
        );
      } else pins.set(q.ip, q);
    }
  }
  for (const q of spec.qubes) {
    if (!q.ipv6) continue;
    const without = graph
      .upstream(q.name)
      .slice(1)
      .find((n) => !graph.get(n)?.ipv6);
    if (without !== undefined) {
      diag.error(
        "QW3017",
        doc.positions.key([...q.path, "ipv6"]),
        `'${q.name}' has IPv6, but its netvm chain does not: '${without}' lacks 'ipv6: true'`,
        {
          notes: [{ message: `'${without}' is declared here`, span: declaredAt(without) }],
          hint: `add 'ipv6: true' to '${without}' (Qubes: qvm-features ${without} ipv6 1), or remove it here`,
        },
      );
    }
  }
  for (const cycle of graph.cycles()) {
    const first = graph.get(cycle[0]!)!;
    diag.error(
      "QW3002",
      doc.positions.value([...first.path, "netvm"]),
      `the netvm chain loops: ${[...cycle, cycle[0]].join(" -> ")}`,
      {
        notes: cycle.slice(1).map((q) => ({
          message: `'${q}' is part of the loop`,
          span: doc.positions.value([...graph.get(q)!.path, "netvm"]),
        })),
        hint: "one qube of the loop must be the top of the chain (no netvm), e.g. sys-net",
      },
    );
  }
}

/**
 * Guests (qubes whose files live in a host: disposable_template, placement:
 * template): only net qubes, since only qubes-firewall runs the hook
 * directories a host can fill (a leaf's rc.local.d is /rw/config only);
 * a host holds guests' files and nothing of its own, and is not a guest.
 */
function checkGuests(
  spec: IntentSpec,
  graph: NetvmGraph,
  doc: ParsedDocument,
  diag: DiagnosticBag,
  forwards: readonly ForwardRoute[],
  links: readonly LinkRoute[],
  qrexecLinks: readonly QrexecLinkSpec[],
  declaredAt: (q: QubeName) => ReturnType<ParsedDocument["positions"]["key"]>,
): void {
  const carrying = new Set<QubeName>([
    ...forwards.flatMap((f) => f.hops),
    ...links.flatMap((l) => [l.link.from, l.link.to, l.firewall]),
    ...qrexecLinks.flatMap((l) => linkDirections(l).map(([from]) => from)),
  ]);
  const stems = new Map(spec.qubes.map((q) => [saltStem(q.name), q.name] as const));
  // Qubes whose address another qube's script needs: forward hops after the entry, link ends.
  const addressed = new Set<QubeName>([
    ...forwards.flatMap((f) => f.hops.slice(1)),
    ...links.flatMap((l) => [l.link.from, l.link.to]),
  ]);
  for (const q of spec.qubes) {
    const g = q.guestOf;
    if (g === undefined) continue;
    const key = g.kind === "disposable" ? "disposable_template" : "placement: template";
    if (!q.providesNetwork) {
      diag.error(
        "QW3018",
        doc.positions.key(g.path),
        `'${q.name}' does not provide network, so nothing would run its rules from ${g.kind === "disposable" ? `'${g.host}'` : `the template '${g.host}'`}`,
        {
          hint: `only net qubes (provides_network: true) run qubes-firewall, which runs the hook folders a ${g.kind === "disposable" ? "disposable template" : "template"} can hold; remove '${key}' here`,
        },
      );
      continue;
    }
    const host = graph.get(g.host);
    if (g.host === q.name || host?.guestOf !== undefined) {
      diag.error(
        "QW3019",
        doc.positions.value(g.path),
        g.host === q.name
          ? `'${q.name}' names itself as its ${g.kind === "disposable" ? "disposable template" : "template"}`
          : `'${q.name}' puts its files in '${g.host}', whose own files live in '${host!.guestOf!.host}'`,
        {
          ...(host && g.host !== q.name
            ? { notes: [{ message: `'${g.host}' is declared here`, span: declaredAt(g.host) }] }
            : {}),
          hint: `name the qube that owns the files: the disposable template (qvm-prefs ${q.name} template) or the template of the qube`,
        },
      );
      continue;
    }
    if (carrying.has(g.host)) {
      diag.error(
        "QW3020",
        doc.positions.value(g.path),
        `'${g.host}' holds the files of '${q.name}' and carries qwire rules of its own`,
        {
          notes: [{ message: `'${g.host}' is declared here`, span: declaredAt(g.host) }],
          hint: `a ${g.kind === "disposable" ? "disposable template" : "template"} should not route traffic; take '${g.host}' out of the forwards and links`,
        },
      );
      continue;
    }
    const twin = stems.get(saltStem(g.host));
    if (twin !== undefined && twin !== g.host) {
      diag.error(
        "QW3014",
        doc.positions.value(g.path),
        `'${g.host}' and '${twin}' would share the Salt file name '${saltStem(g.host)}'`,
        {
          notes: [{ message: `'${twin}' is declared here`, span: declaredAt(twin) }],
          hint: "Salt state names cannot hold '.', so qwire writes it as '_'; rename one of the qubes",
        },
      );
      continue;
    }
    if (g.kind === "disposable" && addressed.has(q.name) && q.ip === undefined) {
      diag.warning(
        "QW2018",
        doc.positions.key(g.path),
        `other qubes' rules send traffic to the disposable '${q.name}' at the address dom0 gives it when the bundle is applied`,
        {
          hint: `disposables get 10.138.x.y addresses; if '${q.name}' comes back with another one, re-apply the bundle, or pin it with 'ip:' so no other qube can hold it`,
        },
      );
    }
  }
}

function resolveForward(
  f: ForwardSpec,
  graph: NetvmGraph,
  doc: ParsedDocument,
  diag: DiagnosticBag,
  known: (n: QubeName, p: YamlPath) => boolean,
  declaredAt: (q: QubeName) => ReturnType<ParsedDocument["positions"]["key"]>,
): ForwardRoute | undefined {
  const at = (path: YamlPath) => doc.positions.value(path);
  const toKnown = known(f.to, [...f.path, "to"]);
  const entryKnown = f.entry === undefined || known(f.entry, [...f.path, "entry"]);
  if (!toKnown || !entryKnown) return undefined;

  const up = graph.upstream(f.to); // [to, ..., top]
  // A chain that does not end in a qube without netvm ends in a loop or an
  // undeclared netvm, both reported already.
  if (graph.get(up[up.length - 1]!)?.netvm !== undefined) return undefined;
  if (up.length === 1 && f.entry === undefined) {
    diag.error("QW3004", at([...f.path, "to"]), `'${f.to}' has no netvm, so nothing can forward to it`, {
      notes: [{ message: `'${f.to}' is declared here`, span: declaredAt(f.to) }],
      hint: `give '${f.to}' a netvm (e.g. 'netvm: sys-firewall')`,
    });
    return undefined;
  }
  const entry = f.entry ?? up[up.length - 1]!;
  const entryIndex = up.indexOf(entry);
  if (entryIndex === -1) {
    diag.error(
      "QW3004",
      at([...f.path, "entry"]),
      `'${entry}' is not on the netvm chain of '${f.to}' (${up.join(" <- ")})`,
      {
        hint: `pick one of ${up
          .slice(1)
          .map((q) => `'${q}'`)
          .join(", ")} as entry`,
      },
    );
    return undefined;
  }
  const hops = up.slice(0, entryIndex + 1).reverse(); // entry ... to
  for (const hop of hops.slice(1, -1)) {
    if (graph.get(hop)?.role === "service") {
      diag.error(
        "QW3005",
        at(f.path),
        `forward '${f.name}' would pass through the service qube '${hop}' (${hops.join(" -> ")})`,
        {
          notes: [{ message: `'${hop}' is a service qube`, span: declaredAt(hop) }],
          hint: `a service qube (VPN, DNS) must not carry LAN traffic around its own rules; expose the port from '${hop}' itself with 'entry: ${hop}' and its tunnel 'interface:', or move '${f.to}' out from behind it`,
        },
      );
      return undefined;
    }
  }
  if (hops.length === 1 && formatPortRange(f.port) !== formatPortRange(f.externalPort)) {
    diag.error(
      "QW3013",
      at([...f.path, "external_port"]),
      `'${f.to}' is its own entry, so the port cannot be translated`,
      {
        hint: "leave external_port out, or let the forward start in a qube above it",
      },
    );
    return undefined;
  }
  if (f.from6.length > 0) {
    const without = hops.find((h) => !graph.get(h)?.ipv6);
    if (without !== undefined) {
      diag.error(
        "QW3017",
        at([...f.path, "from"]),
        `forward '${f.name}' has IPv6 sources, but '${without}' on its path has no 'ipv6: true'`,
        {
          notes: [{ message: `'${without}' is declared here`, span: declaredAt(without) }],
          hint: `add 'ipv6: true' to every qube from '${hops[0]}' to '${f.to}', or list IPv4 sources only`,
        },
      );
      return undefined;
    }
  }
  // 0.0.0.0/0 ("any") has its own warning, QW2010.
  const internal = f.from.filter((c) => c.text !== "0.0.0.0/0" && QUBES_INTERNAL.some((q) => overlapsV4(c.text, q)));
  if (internal.length > 0 && hops.length > 1) {
    diag.warning(
      "QW2017",
      at([...f.path, "from"]),
      `${internal.map((c) => `'${c.text}'`).join(", ")} includes Qubes' own addresses (${QUBES_INTERNAL.join(", ")})`,
      {
        hint: `'${hops[hops.length - 2]}', the netvm of '${f.to}', can then reach ${f.to}:${formatPortRange(f.port)} as well; list only the outside networks that need it`,
      },
    );
  }
  const entrySpec = graph.get(entry)!;
  if (f.interface !== undefined && entrySpec.uplinks[0] === AUTO_UPLINK) {
    // The named interface is either a second one (then auto finds two and fails closed) or the one auto finds.
    diag.error(
      "QW3025",
      at([...f.path, "interface"]),
      `forward '${f.name}' names interface '${f.interface}' of '${entry}', whose 'uplink: auto' finds its one interface besides lo and vif*: with '${f.interface}' there would be two`,
      {
        notes: [{ message: `'${entry}' is declared here`, span: declaredAt(entry) }],
        hint: `name the uplink of '${entry}' instead of 'auto' (e.g. 'uplink: [ens6, ${f.interface}]'), or leave 'interface:' out`,
      },
    );
    return undefined;
  }
  const interfaces = f.interface !== undefined ? [f.interface] : entrySpec.uplinks;
  if (interfaces.length === 0) {
    diag.error("QW3009", at(f.path), `the entry qube '${entry}' has no outside interface for forward '${f.name}'`, {
      notes: [{ message: `'${entry}' is declared here`, span: declaredAt(entry) }],
      hint: `add 'uplink: ens6' (the name of its network card, see 'ip -br link' in ${entry}) to '${entry}', or 'interface:' to the forward`,
    });
    return undefined;
  }
  return { forward: f, entry, interfaces, hops };
}

/**
 * QW3006: two forwards listen on the same entry interface, port and protocol.
 * QW3010: two forwards arrive at the same inner qube on the same port and
 * protocol; that qube could not tell them apart (it only sees its uplink).
 */
function checkForwardClashes(routes: readonly ForwardRoute[], doc: ParsedDocument, diag: DiagnosticBag): void {
  const claims = new Map<string, PortClaims>();
  for (const route of routes) {
    const f = route.forward;
    const mine: PortClaim[] = route.interfaces.map((i) => ({
      route,
      qube: route.entry,
      where: `interface ${i}`,
      ports: f.externalPort,
    }));
    route.hops.slice(1).forEach((hop, i) => {
      const last = i === route.hops.length - 2;
      mine.push({ route, qube: hop, where: "uplink", ports: last ? f.port : f.externalPort });
    });
    const keyOf = (c: PortClaim) => `${c.qube}\u0000${c.where}\u0000${f.proto}`;
    for (const c of mine) {
      const clash = claims.get(keyOf(c))?.earliestOverlap(c.ports);
      if (!clash) continue;
      const onEntry = c.where !== "uplink";
      diag.error(
        onEntry ? "QW3006" : "QW3010",
        doc.positions.value(f.path),
        onEntry
          ? `forwards '${clash.route.forward.name}' and '${f.name}' both claim ${f.proto} ${formatPortRange(c.ports)} on ${c.where} of '${c.qube}'`
          : `forwards '${clash.route.forward.name}' and '${f.name}' both reach '${c.qube}' on ${f.proto} ${formatPortRange(c.ports)}; '${c.qube}' could not tell them apart`,
        {
          notes: [
            { message: `'${clash.route.forward.name}' is here`, span: doc.positions.value(clash.route.forward.path) },
          ],
          hint: "give one of them another external_port",
        },
      );
      break;
    }
    for (const c of mine) {
      const key = keyOf(c);
      if (!claims.has(key)) claims.set(key, new PortClaims());
      claims.get(key)!.add(c);
    }
  }
}

interface PortClaim {
  readonly route: ForwardRoute;
  readonly qube: QubeName;
  readonly where: string;
  readonly ports: PortRange;
}

/**
 * The claims on one qube, place and protocol, so that a new claim finds the
 * earliest one it overlaps without walking them all: single ports by number,
 * ranges (rare) in a list. 10,000 forwards took 48 s with a walk.
 */
class PortClaims {
  readonly #singles = new Map<number, { claim: PortClaim; order: number }>();
  readonly #ranges: { claim: PortClaim; order: number }[] = [];
  #count = 0;

  add(claim: PortClaim): void {
    const entry = { claim, order: this.#count++ };
    if (claim.ports.first !== claim.ports.last) this.#ranges.push(entry);
    else if (!this.#singles.has(claim.ports.first)) this.#singles.set(claim.ports.first, entry);
  }

  earliestOverlap(ports: PortRange): PortClaim | undefined {
    let best: { claim: PortClaim; order: number } | undefined;
    const consider = (e: { claim: PortClaim; order: number } | undefined) => {
      if (e && (best === undefined || e.order < best.order)) best = e;
    };
    for (const e of this.#ranges) if (overlaps(e.claim.ports, ports)) consider(e);
    if (ports.last - ports.first < this.#singles.size) {
      for (let p = ports.first; p <= ports.last; p++) consider(this.#singles.get(p));
    } else {
      for (const [p, e] of this.#singles) if (p >= ports.first && p <= ports.last) consider(e);
    }
    return best?.claim;
  }
}

function overlaps(a: PortRange, b: PortRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/**
 * QW3016: the connecting qube calls `@default` and dom0's policy picks the
 * target by source and port (reference §5), so one qube cannot reach two
 * qubes on the same port; and one local port can only listen once.
 */
function checkQrexecClashes(links: readonly QrexecLinkSpec[], doc: ParsedDocument, diag: DiagnosticBag): void {
  const seen = new Map<string, QrexecLinkSpec>();
  for (const l of links) {
    for (const [from, to] of linkDirections(l)) {
      for (const { port, localPort } of l.ports) {
        for (const [key, what] of [
          [`${from} port ${port}`, `port ${port}`],
          [`${from} local ${localPort}`, `local port ${localPort}`],
        ] as const) {
          const first = seen.get(key);
          if (first === undefined) {
            seen.set(key, l);
            continue;
          }
          if (first === l) continue;
          diag.error(
            "QW3016",
            doc.positions.value(l.path),
            `qrexec links '${first.name}' and '${l.name}' both use ${what} in '${from}' (to '${to}')`,
            {
              notes: [{ message: `'${first.name}' is here`, span: doc.positions.value(first.path) }],
              hint: "dom0's policy picks the target by source qube and port: give one of them another port or local_port",
            },
          );
        }
      }
    }
  }
  // qubes.ConnectTCP delivers to 127.0.0.1:PORT in the target (reference §5):
  // if the target listens there with a qwire socket of its own, the call comes
  // back to that socket instead of the service (a loop, with both_ways and
  // local_port = port).
  const served = new Map<string, QrexecLinkSpec>();
  for (const l of links) {
    for (const [, to] of linkDirections(l)) for (const { port } of l.ports) served.set(`${to} ${port}`, l);
  }
  for (const l of links) {
    for (const [from] of linkDirections(l)) {
      for (const { localPort } of l.ports) {
        const other = served.get(`${from} ${localPort}`);
        if (other === undefined) continue;
        diag.error(
          "QW3016",
          doc.positions.value(l.path),
          `qrexec link '${l.name}' listens on 127.0.0.1:${localPort} in '${from}', where '${from}' also serves port ${localPort} to qrexec link '${other.name}'`,
          {
            ...(other === l
              ? {}
              : { notes: [{ message: `'${other.name}' is here`, span: doc.positions.value(other.path) }] }),
            hint: "the call would reach qwire's own socket instead of the service: give the link a local_port that the qube does not serve",
          },
        );
      }
    }
  }
}

/** QW3001 for undeclared ends, QW3011 for a link from a qube to itself. */
function linkEndsKnown(
  l: LinkSpec,
  doc: ParsedDocument,
  diag: DiagnosticBag,
  known: (n: QubeName, p: YamlPath) => boolean,
): boolean {
  const fromKnown = known(l.from, [...l.path, "from"]);
  const toKnown = known(l.to, [...l.path, "to"]);
  if (!fromKnown || !toKnown) return false;
  if (l.from === l.to) {
    diag.error("QW3011", doc.positions.value([...l.path, "to"]), `link '${l.name}' goes from '${l.from}' to itself`, {
      hint: "a qube reaches itself on 127.0.0.1 already; remove the link",
    });
    return false;
  }
  return true;
}

function resolveLink(
  l: NetworkLinkSpec,
  graph: NetvmGraph,
  doc: ParsedDocument,
  diag: DiagnosticBag,
  declaredAt: (q: QubeName) => ReturnType<ParsedDocument["positions"]["key"]>,
): LinkRoute | undefined {
  const a = graph.get(l.from)!;
  const b = graph.get(l.to)!;
  if (a.netvm === undefined || a.netvm !== b.netvm) {
    const describeNetvm = (q: QubeSpec) =>
      q.netvm === undefined ? `'${q.name}' has no netvm` : `'${q.name}' is behind '${q.netvm}'`;
    diag.error(
      "QW3007",
      doc.positions.value(l.path),
      `link '${l.name}': ${describeNetvm(a)} and ${describeNetvm(b)}; a network link needs both behind one firewall qube`,
      {
        notes: [
          { message: `'${a.name}' is declared here`, span: declaredAt(a.name) },
          { message: `'${b.name}' is declared here`, span: declaredAt(b.name) },
        ],
        hint: "use 'via: qrexec' (qubes.ConnectTCP, no shared netvm needed), or give both qubes the same netvm",
      },
    );
    return undefined;
  }
  return { link: l, firewall: a.netvm, outboundAccepts: outboundAccepts(l, graph, doc, diag) };
}

/** The Qubes network that holds every qube address (10.137.x.y, ADMIN qubes/vm/mix/net.py). */
const QUBES_NETWORK = "10.137.0.0/16";

function outboundAccepts(
  l: NetworkLinkSpec,
  graph: NetvmGraph,
  doc: ParsedDocument,
  diag: DiagnosticBag,
): LinkRoute["outboundAccepts"] {
  const out: { qube: QubeName; rules: FirewallRule[] }[] = [];
  for (const [from, to] of linkDirections(l)) {
    if (graph.firewall(from)?.policy !== "drop") continue;
    // Without a pin the address is only known in dom0 at apply time; the
    // Qubes network is the narrowest fixed match. It opens nothing by
    // itself: the firewall qube still drops qube-to-qube traffic that no
    // qwire link lets through.
    const pin = graph.get(to)?.ip;
    const dsthost = { kind: "4" as const, text: pin === undefined ? QUBES_NETWORK : `${pin}/32` };
    const rules: FirewallRule[] =
      l.traffic === "all"
        ? [{ action: "accept", dsthost }]
        : l.traffic.protos.flatMap((proto) =>
            (l.traffic === "all" ? [] : l.traffic.ports).map((dstports) => ({
              action: "accept" as const,
              proto,
              dsthost,
              dstports,
            })),
          );
    out.push({ qube: from, rules });
    diag.warning(
      "QW2015",
      doc.positions.value(l.path),
      `link '${l.name}': '${from}' has an outbound policy of drop, so qwire adds ${rules.length === 1 ? "an accept" : `${rules.length} accepts`} for ${pin === undefined ? `the Qubes network ${QUBES_NETWORK}` : `${to} (${pin})`} in front of its rules`,
      {
        hint: `qubes-firewall in '${graph.get(from)?.netvm}' would drop the link otherwise (Qubes #3644); other qubes stay closed by qwire's forward rules`,
      },
    );
  }
  return out;
}

/** Qube addresses (10.137), disposables (10.138) and the virtual DNS (10.139): ADMIN qubes/vm/mix/net.py. */
const QUBES_INTERNAL = ["10.137.0.0/16", "10.138.0.0/16", "10.139.0.0/16"] as const;

function overlapsV4(a: string, b: string): boolean {
  return rangesOverlap(ipv4Range(a), ipv4Range(b));
}

/** Salt state and pillar names cannot hold '.', which Qubes allows in qube names. */
export function saltStem(name: QubeName): string {
  return name.replace(/\./g, "_");
}
