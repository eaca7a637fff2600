/** `qwire graph`: a picture of the topology as Mermaid, DOT or (through graphviz) SVG. */
export { graphOf, type QwireGraph, type GraphNode, type GraphEdge } from "./model.js";
export { toMermaid } from "./mermaid.js";
export { toDot } from "./dot.js";
export { dotToSvg, DotMissingError } from "./svg.js";
