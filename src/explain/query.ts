/**
 * The command line's question, `FROM TO PORT[/PROTO] [--via qrexec]`, resolved
 * against a topology: which packet to follow, and from which outside network.
 * An unknown qube gets the nearest declared name; a port that no intent
 * between the two ends opens gets the nearest one that does (see nearestPort).
 */
import { closest } from "../diagnostics/suggest.js";
import type { Topology } from "../topology/index.js";
import type { Proto, QubeName } from "../validate/index.js";
import { parseCidr, parsePortRange } from "../validate/values.js";
import { contains, parseCidr as network4 } from "../simulate/model/ipv4.js";
import { contains6, parseCidr6 } from "../simulate/model/ipv6.js";
import type { Dial, LanKey, Source } from "../simulate/flows/flow.js";

export interface ExplainQuery {
  readonly from: Source;
  readonly dial: Dial;
  readonly proto: Proto;
  readonly port: number;
  /** The qube asked about (for the intent that would open a closed path). */
  readonly target?: QubeName;
  /** "outside 192.168.1.50 -> web tcp/443", for the heading. */
  readonly title: string;
}

export type Resolved =
  { readonly ok: true; readonly query: ExplainQuery } | { readonly ok: false; readonly message: string };

const fail = (message: string): Resolved => ({ ok: false, message });

export function resolveQuery(
  topology: Topology,
  fromArg: string,
  toArg: string,
  portArg: string,
  via: "network" | "qrexec",
): Resolved {
  const [portText = "", protoText = "tcp", ...extra] = portArg.split("/");
  const range = parsePortRange(portText);
  if (!range.ok || range.value.first !== range.value.last || extra.length > 0)
    return fail(`'${portArg}' is not PORT or PORT/PROTO (e.g. 443 or 51820/udp)`);
  if (protoText !== "tcp" && protoText !== "udp") return fail(`'${protoText}' is not a protocol: tcp or udp`);
  const port = range.value.first;
  const proto: Proto = protoText;
  const names = topology.graph.names();
  const qube = (arg: string, role: string): QubeName | string => {
    if (topology.graph.has(arg)) return arg;
    const near = closest(arg, names);
    return `${role} '${arg}' is not a qube of this qwire.yaml${near ? `: did you mean '${near}'?` : ` (its qubes: ${[...names].sort().join(", ")})`}`;
  };
  const known = (q: string): q is QubeName => topology.graph.has(q);

  if (fromArg.startsWith("outside:")) {
    const parsed = parseCidr(fromArg.slice("outside:".length));
    if (!parsed.ok || !/\/(32|128)$/.test(parsed.value.cidr.text))
      return fail(`'${fromArg}' is not outside:ADDRESS (e.g. outside:192.168.1.50)`);
    const address = parsed.value.cidr.text.replace(/\/\d+$/, "");
    if (via === "qrexec") return fail("--via qrexec joins two qubes; a packet from outside arrives over the network");
    const to = qube(toArg, "TO");
    if (!known(to)) return fail(to);
    const lan = outsideNetwork(topology, address, to, proto, port);
    if (!lan)
      return fail(
        `no outside network leads to '${to}': no forward to it takes ${proto}/${port}, and the top of its netvm chain declares no uplink`,
      );
    return {
      ok: true,
      query: {
        from: { kind: "outside", address, lan },
        dial: { kind: "lan", lan },
        proto,
        port,
        target: to,
        title: `outside ${address} (on ${lan.qube}:${lan.iface}) -> ${to} ${proto}/${port}`,
      },
    };
  }
  const from = qube(fromArg, "FROM");
  if (!known(from)) return fail(`${from} (or write outside:ADDRESS)`);
  const source: Source = { kind: "qube", qube: from };
  if (via === "qrexec") {
    const to = qube(toArg, "TO");
    if (!known(to)) return fail(to);
    return {
      ok: true,
      query: {
        from: source,
        dial: { kind: "qrexec" },
        proto,
        port,
        target: to,
        title: `${from} -> ${to} ${proto}/${port} over qrexec (qubes.ConnectTCP)`,
      },
    };
  }
  const address = parseCidr(toArg);
  if (!known(toArg) && address.ok && address.value.family === 4 && address.value.cidr.text.endsWith("/32")) {
    const ip = address.value.cidr.text.replace(/\/32$/, "");
    const top = topology.graph.upstream(from).at(-1)!;
    const lan = { qube: top, iface: topology.graph.get(top)?.uplinks[0] ?? "uplink" };
    return {
      ok: true,
      query: {
        from: source,
        dial: { kind: "internet", address: ip, lan },
        proto,
        port,
        title: `${from} -> ${ip} ${proto}/${port} (outbound)`,
      },
    };
  }
  const to = qube(toArg, "TO");
  if (!known(to)) return fail(`${to} (or an IPv4 address for outbound traffic)`);
  return {
    ok: true,
    query: {
      from: source,
      dial: { kind: "qube", qube: to },
      proto,
      port,
      target: to,
      title: `${from} -> ${to} ${proto}/${port}`,
    },
  };
}

/**
 * The outside network the client is on: the entry of a forward to `to` on
 * this port that takes the address, else of any forward to `to` on this
 * port, else the top netvm's first uplink.
 */
function outsideNetwork(
  topology: Topology,
  address: string,
  to: QubeName,
  proto: Proto,
  port: number,
): LanKey | undefined {
  const v6 = address.includes(":");
  const routes = topology.forwards.filter(
    (r) =>
      r.forward.to === to &&
      r.forward.proto === proto &&
      r.forward.externalPort.first <= port &&
      port <= r.forward.externalPort.last,
  );
  const takes = routes.find((r) =>
    v6
      ? r.forward.from6.some((c) => contains6(parseCidr6(c.text), address))
      : r.forward.from.some((c) => contains(network4(c.text), address)),
  );
  const route = takes ?? routes[0];
  if (route) return { qube: route.entry, iface: route.interfaces[0]! };
  const up = topology.graph.upstream(to);
  const top = topology.graph.get(up[up.length - 1]!);
  return top && top.uplinks.length > 0 ? { qube: top.name, iface: top.uplinks[0]! } : undefined;
}

/** For a closed answer: the nearest port some intent opens between the same ends, and the intent. */
export function nearestPort(
  topology: Topology,
  query: ExplainQuery,
): { port: number; proto: Proto; by: string } | undefined {
  const candidates: { port: number; proto: Proto; by: string }[] = [];
  const { from, dial, target } = query;
  if (from.kind === "outside" && target !== undefined) {
    for (const r of topology.forwards)
      if (r.forward.to === target)
        candidates.push({
          port: r.forward.externalPort.first,
          proto: r.forward.proto,
          by: `forward ${r.forward.name}`,
        });
  } else if (from.kind === "qube" && dial.kind === "qube") {
    for (const { link } of topology.links) {
      if (link.traffic === "all") continue;
      const ends = link.bothWays ? [link.from, link.to] : [link.from];
      if (!ends.includes(from.qube) || ![link.from, link.to].includes(dial.qube) || from.qube === dial.qube) continue;
      for (const proto of link.traffic.protos)
        for (const r of link.traffic.ports) candidates.push({ port: r.first, proto, by: `link ${link.name}` });
    }
  } else if (from.kind === "qube" && dial.kind === "qrexec") {
    for (const link of topology.qrexecLinks) {
      const ends = link.bothWays ? [link.from, link.to] : [link.from];
      if (ends.includes(from.qube))
        for (const p of link.ports) candidates.push({ port: p.port, proto: "tcp", by: `qrexec link ${link.name}` });
    }
  }
  const others = candidates.filter((c) => c.port !== query.port || c.proto !== query.proto);
  return others.sort((a, b) => Math.abs(a.port - query.port) - Math.abs(b.port - query.port) || a.port - b.port)[0];
}
