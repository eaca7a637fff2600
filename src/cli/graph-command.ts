/**
 * `qwire graph [file] --format mermaid|dot|svg`: the netvm tree, forwards
 * hop by hop from outside, links and qrexec links, on stdout. A file with
 * errors gets its diagnostics and exit 1, no picture.
 */
import { check } from "../check.js";
import { EXIT } from "./exit-codes.js";
import { includeReader, readSource, sourcesOf } from "./read-source.js";
import { printDiagnostics } from "./report.js";

type GraphFormat = "mermaid" | "dot" | "svg";

export async function runGraph(file: string, format: GraphFormat): Promise<number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const files = includeReader(source.name);
  const checked = check(source, files.fleet);
  printDiagnostics(checked.diagnostics, source, "text", sourcesOf(files.texts));
  if (!checked.topology) return EXIT.diagnostics;
  const { graphOf, toMermaid, toDot, dotToSvg, DotMissingError } = await import("../graph/index.js");
  const graph = graphOf(checked.topology);
  if (format === "mermaid") process.stdout.write(toMermaid(graph));
  else if (format === "dot") process.stdout.write(toDot(graph));
  else {
    try {
      process.stdout.write(await dotToSvg(toDot(graph)));
    } catch (e) {
      process.stderr.write(`qwire graph: ${e instanceof DotMissingError ? e.message : `dot failed: ${(e as Error).message}`}\n`);
      return EXIT.failure;
    }
  }
  return EXIT.ok;
}
