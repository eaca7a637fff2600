/**
 * The picture of a topology as nodes and edges, before any syntax: the netvm
 * tree, each forward hop by hop from its outside network, network links
 * (through their firewall qube), qrexec links and service qubes. Mermaid and
 * DOT are two printings of this one model, so they always show the same thing.
 */
import type { Topology } from "../topology/index.js";
import { AUTO_UPLINK, type QubeName } from "../validate/index.js";
import { formatPortRange } from "../validate/values.js";

export type NodeKind = "net" | "service" | "qube" | "outside";

export interface GraphNode {
  /** Stable, syntax-free id: q0, q1, ... for qubes (sorted by name), o0, ... for outside networks. */
  readonly id: string;
  readonly kind: NodeKind;
  /** First line: the qube name, or "outside <qube>:<iface>". */
  readonly title: string;
  /** Further lines: role, uplinks, outbound policy. */
  readonly details: readonly string[];
}

export type EdgeKind = "netvm" | "forward" | "link" | "qrexec";

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** The intent's name and what it carries; empty for netvm edges. */
  readonly label: string;
}

export interface QwireGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export function graphOf(topology: Topology): QwireGraph {
  const names = topology.graph.names().sort();
  const ids = new Map<QubeName, string>(names.map((n, i) => [n, `q${i}`]));
  const id = (q: QubeName) => ids.get(q)!;
  const nodes: GraphNode[] = names.map((name) => {
    const q = topology.graph.get(name)!;
    const fw = topology.graph.firewall(name);
    const details = [
      ...(q.role === "service" ? ["service qube"] : []),
      ...(q.uplinks.length > 0
        ? [`uplink ${q.uplinks[0] === AUTO_UPLINK ? "auto (found at run time)" : q.uplinks.join(", ")}`]
        : []),
      ...(fw ? [`outbound: ${fw.rules.length} rule(s), then ${fw.policy}`] : []),
      ...(q.providesNetwork || q.netvm !== undefined ? [] : ["no network"]),
    ];
    return {
      id: id(name),
      kind: q.role === "service" ? "service" : q.providesNetwork ? "net" : "qube",
      title: name,
      details,
    };
  });
  const edges: GraphEdge[] = [];
  // The tree points downstream, the way packets from outside travel.
  for (const name of names) {
    const netvm = topology.graph.get(name)!.netvm;
    if (netvm !== undefined && ids.has(netvm)) edges.push({ from: id(netvm), to: id(name), kind: "netvm", label: "" });
  }
  const outside = new Map<string, string>();
  for (const route of topology.forwards) {
    const f = route.forward;
    const ports =
      f.externalPort.first === f.port.first && f.externalPort.last === f.port.last
        ? formatPortRange(f.port)
        : `${formatPortRange(f.externalPort)}→${formatPortRange(f.port)}`;
    const label = `${f.name}: ${f.proto}/${ports} from ${[...f.from, ...f.from6].map((c) => c.text).join(", ")}`;
    for (const iface of route.interfaces) {
      const key = `${route.entry}:${iface}`;
      if (!outside.has(key)) {
        const oid = `o${outside.size}`;
        outside.set(key, oid);
        nodes.push({ id: oid, kind: "outside", title: `outside ${key}`, details: [] });
      }
      edges.push({ from: outside.get(key)!, to: id(route.entry), kind: "forward", label });
    }
    for (let i = 1; i < route.hops.length; i++)
      edges.push({ from: id(route.hops[i - 1]!), to: id(route.hops[i]!), kind: "forward", label: f.name });
  }
  for (const { link, firewall } of topology.links) {
    const carries =
      link.traffic === "all"
        ? "all traffic"
        : `${link.traffic.protos.join("+")}/${link.traffic.ports.map(formatPortRange).join(",")}`;
    edges.push({
      from: id(link.from),
      to: id(link.to),
      kind: "link",
      label: `${link.name}: ${carries} via ${firewall}${link.bothWays ? ", both ways" : ""}`,
    });
  }
  for (const link of topology.qrexecLinks) {
    const carries = link.ports
      .map((p) => (p.localPort === p.port ? `${p.port}` : `${p.localPort}→${p.port}`))
      .join(",");
    edges.push({
      from: id(link.from),
      to: id(link.to),
      kind: "qrexec",
      label: `${link.name}: qrexec tcp/${carries}${link.bothWays ? ", both ways" : ""}`,
    });
  }
  return { nodes, edges };
}
