/**
 * Graphviz DOT of a QwireGraph (`dot -Tsvg` draws it). The netvm tree is
 * drawn grey and undirected, forwards bold, qrexec links dashed.
 */
import type { EdgeKind, NodeKind, QwireGraph } from "./model.js";

const NODE: Record<NodeKind, string> = {
  net: 'shape=box, style="rounded,filled", fillcolor="#dde8f5"',
  service: 'shape=hexagon, style=filled, fillcolor="#f5e6c8"',
  qube: "shape=box",
  outside: "shape=ellipse, style=dashed",
};

const EDGE: Record<EdgeKind, string> = {
  netvm: 'dir=none, color="#888888"',
  forward: 'style=bold, color="#1f5fa8"',
  link: 'color="#2e7d32"',
  qrexec: 'style=dashed, color="#8e24aa"',
};

export function toDot(graph: QwireGraph): string {
  const lines = [
    "digraph qwire {",
    "  rankdir=LR;",
    '  node [fontname="sans-serif"];',
    '  edge [fontname="sans-serif", fontsize=10];',
  ];
  for (const n of graph.nodes)
    lines.push(`  ${n.id} [label=${quote([n.title, ...n.details].join("\n"))}, ${NODE[n.kind]}];`);
  for (const e of graph.edges)
    lines.push(`  ${e.from} -> ${e.to} [${e.label === "" ? "" : `label=${quote(e.label)}, `}${EDGE[e.kind]}];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** A DOT string: backslash and quote escaped, newlines as DOT's centred line break. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
