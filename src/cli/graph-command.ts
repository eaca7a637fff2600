/**
 * `qwire graph [file] --format mermaid|dot|svg`: the netvm tree, forwards
 * hop by hop from outside, links and qrexec links, on stdout. A file with
 * errors gets its diagnostics and exit 1, no picture.
 */
import { EXIT } from "./exit-codes.js";
import { checkedTopology } from "./read-source.js";

type GraphFormat = "mermaid" | "dot" | "svg";

export async function runGraph(file: string, format: GraphFormat): Promise<number> {
  const topology = await checkedTopology(file);
  if (typeof topology === "number") return topology;
  const { graphOf, toMermaid, toDot, dotToSvg, DotMissingError } = await import("../graph/index.js");
  const graph = graphOf(topology);
  if (format === "mermaid") process.stdout.write(toMermaid(graph));
  else if (format === "dot") process.stdout.write(toDot(graph));
  else {
    try {
      process.stdout.write(await dotToSvg(toDot(graph)));
    } catch (e) {
      process.stderr.write(
        `qwire graph: ${e instanceof DotMissingError ? e.message : `dot failed: ${(e as Error).message}`}\n`,
      );
      return EXIT.failure;
    }
  }
  return EXIT.ok;
}
