/**
 * `qwire explain FROM TO PORT[/PROTO] [file]`: one packet hop by hop, the
 * rule that decides at each hop, and the verdict. Exit 0 open, 4 closed
 * (so scripts can test it), 1 errors in qwire.yaml, 2 a question that
 * does not fit the file (unknown qube: the nearest name is suggested).
 */
import { check } from "../check.js";
import { EXIT } from "./exit-codes.js";
import { includeReader, readSource, sourcesOf } from "./read-source.js";
import { printDiagnostics } from "./report.js";

export async function runExplain(fromArg: string, toArg: string, portArg: string, file: string, via: "network" | "qrexec"): Promise<number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const files = includeReader(source.name);
  const checked = check(source, files.fleet);
  printDiagnostics(checked.diagnostics, source, "text", sourcesOf(files.texts));
  if (!checked.topology) return EXIT.diagnostics;
  const { explainFlow, formatExplanation, nearestPort, resolveQuery } = await import("../explain/index.js");
  const resolved = resolveQuery(checked.topology, fromArg, toArg, portArg, via);
  if (!resolved.ok) {
    process.stderr.write(`qwire explain: ${resolved.message}\n`);
    return EXIT.usage;
  }
  const q = resolved.query;
  const e = explainFlow(checked.topology, q.from, q.dial, q.proto, q.port, q.target);
  process.stdout.write(formatExplanation(q.title, e, e.open ? undefined : nearestPort(checked.topology, q)));
  return e.open ? EXIT.ok : EXIT.closed;
}
