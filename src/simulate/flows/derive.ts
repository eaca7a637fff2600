/**
 * The flows to check for a topology: the `expect:` entries as written, plus
 * what every intent implies (issue #3):
 *
 * - forward: open from a client inside `from` on its external port (first
 *   and last of a range), closed from a client outside `from`, on the
 *   neighbouring port, in the other protocol, from every other qube, and,
 *   when it enters elsewhere than the top netvm's uplink (a service qube's
 *   tunnel), from a client inside `from` on that uplink;
 * - link: open from `from` to `to` on its ports, closed in the other
 *   direction unless `both_ways`, on the neighbouring port, in the other
 *   protocol, and from every third qube.
 * - qrexec link: 127.0.0.1:local_port in `from` reaches `to`'s port (and
 *   back in `to` with both_ways, else closed there); in every third qube
 *   127.0.0.1:local_port reaches no other qube and a direct
 *   `qrexec-client-vm @default qubes.ConnectTCP+PORT` is denied.
 *
 * IPv6: a forward's IPv6 `from` networks get the same flows from IPv6
 * clients (inside and outside them), to the entry's IPv6 address on that
 * interface; a link between two ipv6 qubes the same flows over IPv6.
 *
 * Every derived expectation is settled by one oracle over all intents, so a
 * port that one intent closes and another opens is expected open.
 */
import type { ForwardRoute, Topology } from "../../topology/index.js";
import type { PortRange, Proto, QubeName } from "../../validate/index.js";
import { contains, parseCidr, pickInside, pickOutside, type Network } from "../model/ipv4.js";
import { contains6, parseCidr6, pickInside6, pickOutside6, type Network6 } from "../model/ipv6.js";
import type { LanRequest } from "../model/network.js";
import { flowKey, type Dial, type Flow, type LanKey, type Source } from "./flow.js";
import { internetOracle, outboundFlows } from "./outbound.js";

export interface DerivedFlows {
  readonly flows: readonly Flow[];
  /** Every outside network the model needs, with the client addresses flows use there. */
  readonly lans: readonly LanRequest[];
  /** Expect entries that cannot be probed in the model, with the reason. */
  readonly unprobeable: readonly { readonly origin: string; readonly reason: string }[];
}

const ALL_TRAFFIC_SAMPLE = 2222;

/** The uplink the model gives a top netvm that declares none, for its internet traffic. */
const UPLINK = "inet0";

export function deriveFlows(topology: Topology): DerivedFlows {
  const lans = new LanBook(topology);
  const flows = new Map<string, Flow>();
  const unprobeable: { origin: string; reason: string }[] = [];
  const add = (f: Flow) => {
    const key = flowKey(f);
    if (!flows.has(key)) flows.set(key, f);
  };
  /** A flow an intent implies; the oracle says whether it is open, and to whom (else `target` on `serverPort`). */
  const derived = (
    from: Source,
    dial: Dial,
    proto: Proto,
    port: number,
    origin: string,
    why: string,
    target: QubeName,
    serverPort = port,
  ) => {
    const verdict = oracle(topology, from, dial, proto, port);
    add({
      from,
      dial,
      proto,
      port,
      to: verdict.open ? (verdict.reaches ?? target) : target,
      serverPort: verdict.open ? (verdict.serverPort ?? serverPort) : serverPort,
      expect: verdict.open ? "open" : "closed",
      origin,
      why: verdict.open && verdict.by !== origin ? `${why}; open by ${verdict.by}` : why,
    });
  };

  topology.spec.expect.forEach((e, i) => {
    const origin = `expect #${i + 1}`;
    if (e.from.kind === "qube") {
      add({
        from: { kind: "qube", qube: e.from.qube },
        dial: { kind: "qube", qube: e.to },
        proto: e.proto,
        port: e.port,
        to: e.to,
        serverPort: e.port,
        expect: e.result,
        origin,
        why: "as written in qwire.yaml",
      });
      return;
    }
    const route = topology.forwards.find(
      (r) => r.forward.to === e.to && r.forward.proto === e.proto && inRange(r.forward.externalPort, e.port),
    );
    const lan = route ? { qube: route.entry, iface: route.interfaces[0]! } : lans.defaultFor(e.to);
    if (!lan) {
      unprobeable.push({
        origin,
        reason: `no outside interface leads to '${e.to}' (no forward for ${e.proto} ${e.port}, and its top netvm has no uplink)`,
      });
      return;
    }
    lans.use(lan, e.from.address);
    add({
      from: { kind: "outside", address: e.from.address, lan },
      dial: { kind: "lan", lan },
      proto: e.proto,
      port: e.port,
      to: e.to,
      serverPort: route ? mapPort(route, e.port) : e.port,
      expect: e.result,
      origin,
      why: "as written in qwire.yaml",
    });
  });

  const qubes = topology.graph.names().sort();
  const hasIpv6 = (q: QubeName) => topology.graph.get(q)?.ipv6 === true;
  for (const route of topology.forwards) {
    const f = route.forward;
    const origin = `forward ${f.name}`;
    const families: {
      suffix: string;
      inside: (lan: LanKey) => string | undefined;
      outside: (lan: LanKey) => string | undefined;
      any: boolean;
    }[] = [];
    const nets = f.from.map((c) => parseCidr(c.text));
    families.push({
      suffix: "",
      any: nets.length > 0,
      inside: (lan) => (nets.length > 0 ? lans.inside(lan, nets[0]!) : undefined),
      outside: (lan) => lans.outside(lan, nets),
    });
    const nets6 = f.from6.map((c) => parseCidr6(c.text));
    if (nets6.length > 0)
      families.push({
        suffix: " (IPv6)",
        any: true,
        inside: (lan) => lans.inside6(lan, nets6[0]!),
        outside: (lan) => lans.outside6(lan, nets6),
      });
    for (const iface of route.interfaces) {
      const lan: LanKey = { qube: route.entry, iface };
      const dial: Dial = { kind: "lan", lan };
      for (const fam of families) {
        const inside = fam.inside(lan);
        if (inside) {
          const src: Source = { kind: "outside", address: inside, lan };
          for (const p of new Set([f.externalPort.first, f.externalPort.last]))
            derived(src, dial, f.proto, p, origin, `client inside 'from'${fam.suffix}`, f.to, mapPort(route, p));
          const neighbour = f.externalPort.last < 65535 ? f.externalPort.last + 1 : f.externalPort.first - 1;
          derived(
            src,
            dial,
            f.proto,
            neighbour,
            origin,
            `neighbouring port${fam.suffix}`,
            f.to,
            mapPort(route, neighbour),
          );
          derived(
            src,
            dial,
            other(f.proto),
            f.externalPort.first,
            origin,
            `${other(f.proto)} instead of ${f.proto}${fam.suffix}`,
            f.to,
            f.port.first,
          );
        }
        const outside = fam.any ? fam.outside(lan) : undefined;
        if (outside)
          derived(
            { kind: "outside", address: outside, lan },
            dial,
            f.proto,
            f.externalPort.first,
            origin,
            `client outside 'from'${fam.suffix}`,
            f.to,
            f.port.first,
          );
      }
    }
    // A forward that enters elsewhere (a VPN qube's tunnel): a client inside 'from' on the top netvm's uplink must not get in.
    const top = lans.defaultFor(f.to);
    if (top && nets.length > 0 && !(top.qube === route.entry && route.interfaces.includes(top.iface as never))) {
      const client = lans.inside(top, nets[0]!);
      if (client)
        derived(
          { kind: "outside", address: client, lan: top },
          { kind: "lan", lan: top },
          f.proto,
          f.externalPort.first,
          origin,
          `client inside 'from' on ${top.qube}:${top.iface}, not the entry`,
          f.to,
          f.port.first,
        );
    }
    for (const q of qubes)
      if (q !== f.to)
        derived(
          { kind: "qube", qube: q },
          { kind: "qube", qube: f.to },
          f.proto,
          f.port.first,
          origin,
          "from another qube",
          f.to,
        );
    if (hasIpv6(f.to)) {
      for (const q of qubes)
        if (q !== f.to && hasIpv6(q))
          derived(
            { kind: "qube", qube: q },
            { kind: "qube", qube: f.to, ipv6: true },
            f.proto,
            f.port.first,
            origin,
            "from another qube (IPv6)",
            f.to,
          );
    }
  }

  for (const { link } of topology.links) {
    const origin = `link ${link.name}`;
    const samples: { proto: Proto; port: number }[] =
      link.traffic === "all"
        ? [
            { proto: "tcp", port: ALL_TRAFFIC_SAMPLE },
            { proto: "udp", port: ALL_TRAFFIC_SAMPLE },
          ]
        : link.traffic.protos.flatMap((proto) =>
            (link.traffic === "all" ? [] : link.traffic.ports).flatMap((r) =>
              [...new Set([r.first, r.last])].map((port) => ({ proto, port })),
            ),
          );
    const a: Source = { kind: "qube", qube: link.from };
    const b: Source = { kind: "qube", qube: link.to };
    // The link carries IPv6 when both ends have it (qwire's validator makes their firewall qube have it too).
    const families: { v6?: true; suffix: string }[] = [
      { suffix: "" },
      ...(hasIpv6(link.from) && hasIpv6(link.to) ? [{ v6: true as const, suffix: " (IPv6)" }] : []),
    ];
    for (const fam of families) {
      const to = (qube: QubeName): Dial => (fam.v6 ? { kind: "qube", qube, ipv6: true } : { kind: "qube", qube });
      for (const s of samples) {
        derived(a, to(link.to), s.proto, s.port, origin, `from 'from' to 'to'${fam.suffix}`, link.to);
        derived(
          b,
          to(link.from),
          s.proto,
          s.port,
          origin,
          `${link.bothWays ? "back, both_ways" : "the other direction"}${fam.suffix}`,
          link.from,
        );
        for (const q of qubes) {
          if (q === link.from || q === link.to || (fam.v6 && !hasIpv6(q))) continue;
          derived(
            { kind: "qube", qube: q },
            to(link.to),
            s.proto,
            s.port,
            origin,
            `from a third qube${fam.suffix}`,
            link.to,
          );
        }
      }
    }
    if (link.traffic !== "all") {
      const last = Math.max(...link.traffic.ports.map((r) => r.last));
      derived(
        a,
        { kind: "qube", qube: link.to },
        link.traffic.protos[0]!,
        last < 65535 ? last + 1 : last - 1,
        origin,
        "neighbouring port",
        link.to,
      );
      if (link.traffic.protos.length === 1) {
        const p = link.traffic.protos[0]!;
        derived(
          a,
          { kind: "qube", qube: link.to },
          other(p),
          link.traffic.ports[0]!.first,
          origin,
          `${other(p)} instead of ${p}`,
          link.to,
        );
      }
    }
  }

  for (const link of topology.qrexecLinks) {
    const origin = `qrexec link ${link.name}`;
    const loopback: Dial = { kind: "loopback" };
    for (const { port, localPort } of link.ports) {
      derived(
        { kind: "qube", qube: link.from },
        loopback,
        "tcp",
        localPort,
        origin,
        "127.0.0.1 in 'from'",
        link.to,
        port,
      );
      derived(
        { kind: "qube", qube: link.to },
        loopback,
        "tcp",
        localPort,
        origin,
        link.bothWays ? "127.0.0.1 in 'to', both_ways" : "127.0.0.1 in 'to' (one way)",
        link.from,
        port,
      );
      for (const q of qubes) {
        if (q === link.from || q === link.to) continue;
        derived(
          { kind: "qube", qube: q },
          loopback,
          "tcp",
          localPort,
          origin,
          "127.0.0.1 in a third qube",
          link.to,
          port,
        );
        derived(
          { kind: "qube", qube: q },
          { kind: "qrexec" },
          "tcp",
          port,
          origin,
          "direct qrexec call from a third qube",
          link.to,
          port,
        );
      }
    }
  }

  for (const f of outboundFlows(topology, {
    lanFor: (q) => lans.lanFor(q),
    inside: (l, c) => lans.insideCidr(l, c),
    outside: (l, c) => lans.outsideCidrs(l, c),
  }))
    add(f);

  return { flows: [...flows.values()], lans: lans.requests(), unprobeable };
}

/**
 * Whether qwire.yaml opens a flow, and to whom: a forward for an outside
 * client on its entry interface, a link between two qubes.
 */
export function oracle(
  topology: Topology,
  from: Source,
  dial: Dial,
  proto: Proto,
  port: number,
): { open: boolean; reaches?: QubeName; serverPort?: number; by?: string } {
  if (from.kind === "qube" && dial.kind === "internet") {
    const verdict = internetOracle(topology, from.qube, dial.address, proto, port);
    return verdict.open ? { open: true, by: `firewall ${from.qube}` } : { open: false };
  }
  if (from.kind === "outside" && dial.kind === "lan") {
    const lan = dial.lan;
    const route = topology.forwards.find(
      (r) =>
        r.entry === lan.qube &&
        r.interfaces.includes(lan.iface as never) &&
        r.forward.proto === proto &&
        inRange(r.forward.externalPort, port) &&
        (from.address.includes(":")
          ? r.forward.from6.some((c) => contains6(parseCidr6(c.text), from.address))
          : r.forward.from.some((c) => contains(parseCidr(c.text), from.address))),
    );
    if (route)
      return {
        open: true,
        reaches: route.forward.to,
        serverPort: mapPort(route, port),
        by: `forward ${route.forward.name}`,
      };
    return { open: false };
  }
  if (from.kind === "qube" && (dial.kind === "loopback" || dial.kind === "qrexec")) {
    // dom0's policy: the connecting qube's socket (local port) or call (service port) and its one target.
    if (proto !== "tcp") return { open: false };
    for (const link of topology.qrexecLinks) {
      const directions: [QubeName, QubeName][] = link.bothWays
        ? [
            [link.from, link.to],
            [link.to, link.from],
          ]
        : [[link.from, link.to]];
      for (const [a, b] of directions) {
        if (a !== from.qube) continue;
        const hit = link.ports.find((p) => (dial.kind === "loopback" ? p.localPort : p.port) === port);
        if (hit) return { open: true, reaches: b, serverPort: hit.port, by: `qrexec link ${link.name}` };
      }
    }
    return { open: false };
  }
  if (from.kind === "qube" && dial.kind === "qube") {
    const v6 = dial.ipv6 === true;
    for (const { link, firewall } of topology.links) {
      if (v6 && ![link.from, link.to, firewall].every((q) => topology.graph.get(q)?.ipv6 === true)) continue;
      const forward = link.from === from.qube && link.to === dial.qube;
      const back = link.bothWays && link.to === from.qube && link.from === dial.qube;
      if (!forward && !back) continue;
      if (
        link.traffic === "all" ||
        (link.traffic.protos.includes(proto) && link.traffic.ports.some((r) => inRange(r, port)))
      ) {
        return { open: true, by: `link ${link.name}` };
      }
    }
  }
  return { open: false };
}

function inRange(r: PortRange, port: number): boolean {
  return r.first <= port && port <= r.last;
}

function mapPort(route: ForwardRoute, port: number): number {
  const mapped = port - route.forward.externalPort.first + route.forward.port.first;
  return mapped >= 1 && mapped <= 65535 ? mapped : port;
}

function other(p: Proto): Proto {
  return p === "tcp" ? "udp" : "tcp";
}

/** Outside networks and the client addresses placed on them; one address lives on one network of an entry qube. */
class LanBook {
  readonly #lans = new Map<string, { key: LanKey; clients: Set<string>; uplink: boolean }>();
  readonly #byQube = new Map<QubeName, Map<string, string>>();

  constructor(private readonly topology: Topology) {
    for (const q of topology.spec.qubes) for (const iface of q.uplinks) this.#lan({ qube: q.name, iface }, true);
    for (const r of topology.forwards) for (const iface of r.interfaces) this.#lan({ qube: r.entry, iface });
  }

  #lan(key: LanKey, uplink = false) {
    const k = `${key.qube}:${key.iface}`;
    let l = this.#lans.get(k);
    if (!l) {
      l = { key, clients: new Set(), uplink };
      this.#lans.set(k, l);
    }
    return l;
  }

  /** Where a qube's internet traffic leaves: the top netvm's first uplink, or the model's own "inet0" when it declares none. */
  lanFor(q: QubeName): LanKey | undefined {
    if (this.topology.graph.get(q)?.netvm === undefined) return undefined;
    const up = this.topology.graph.upstream(q);
    const top = this.topology.graph.get(up[up.length - 1]!);
    if (!top) return undefined;
    const key = { qube: top.name, iface: top.uplinks[0] ?? UPLINK };
    this.#lan(key, true);
    return key;
  }

  /** A client or internet host inside an IPv4 CIDR (text). */
  insideCidr(key: LanKey, cidr: string): string | undefined {
    return this.inside(key, parseCidr(cidr));
  }

  outsideCidrs(key: LanKey, cidrs: readonly string[]): string | undefined {
    return this.outside(key, cidrs.map(parseCidr));
  }

  /** The network of the top of `to`'s netvm chain (its first uplink). */
  defaultFor(to: QubeName): LanKey | undefined {
    const up = this.topology.graph.upstream(to);
    const top = this.topology.graph.get(up[up.length - 1]!);
    return top && top.uplinks.length > 0 ? { qube: top.name, iface: top.uplinks[0]! } : undefined;
  }

  use(key: LanKey, address: string): void {
    this.#lan(key).clients.add(address);
    const used = this.#byQube.get(key.qube) ?? new Map<string, string>();
    used.set(address, key.iface);
    this.#byQube.set(key.qube, used);
  }

  #taken(key: LanKey): Set<string> {
    const used = this.#byQube.get(key.qube) ?? new Map<string, string>();
    return new Set([...used].filter(([, iface]) => iface !== key.iface).map(([a]) => a));
  }

  inside(key: LanKey, net: Network): string | undefined {
    const a = pickInside(net, this.#taken(key));
    if (a) this.use(key, a);
    return a;
  }

  outside(key: LanKey, nets: readonly Network[]): string | undefined {
    const a = pickOutside(nets, this.#taken(key));
    if (a) this.use(key, a);
    return a;
  }

  inside6(key: LanKey, net: Network6): string | undefined {
    const a = pickInside6(net, this.#taken(key));
    if (a) this.use(key, a);
    return a;
  }

  outside6(key: LanKey, nets: readonly Network6[]): string | undefined {
    const a = pickOutside6(nets, this.#taken(key));
    if (a) this.use(key, a);
    return a;
  }

  requests(): LanRequest[] {
    return [...this.#lans.values()].map((l) => ({
      qube: l.key.qube,
      iface: l.key.iface,
      clients: [...l.clients].sort(),
      uplink: l.uplink,
    }));
  }
}
