/**
 * Mermaid flowchart of a QwireGraph: renders on GitHub, so it can sit in the
 * user's repository README. Ids are syntax-free (q0, o0) and every label is
 * quoted with Mermaid's entity for '"', so no qube or intent name can break it.
 */
import type { EdgeKind, GraphNode, NodeKind, QwireGraph } from "./model.js";

const SHAPE: Record<NodeKind, (label: string) => string> = {
  net: (l) => `[["${l}"]]`,
  service: (l) => `{{"${l}"}}`,
  qube: (l) => `["${l}"]`,
  outside: (l) => `(("${l}"))`,
};

const ARROW: Record<EdgeKind, string> = { netvm: "---", forward: "==>", link: "-->", qrexec: "-.->" };

export function toMermaid(graph: QwireGraph): string {
  const lines = ["flowchart LR"];
  for (const n of graph.nodes) lines.push(`  ${n.id}${SHAPE[n.kind](nodeLabel(n))}`);
  for (const e of graph.edges) {
    const arrow = ARROW[e.kind];
    lines.push(e.label === "" ? `  ${e.from} ${arrow} ${e.to}` : `  ${e.from} ${arrow}|"${escape(e.label)}"| ${e.to}`);
  }
  return `${lines.join("\n")}\n`;
}

function nodeLabel(n: GraphNode): string {
  return [n.title, ...n.details].map(escape).join("<br/>");
}

function escape(s: string): string {
  return s.replace(/"/g, "#quot;");
}
