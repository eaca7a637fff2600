/** `qwire check [file]`: parse, validate and resolve the topology; prints every problem, writes nothing. */
import { check } from "../check.js";
import { EXIT } from "./exit-codes.js";
import { readFleet, sourcesOf } from "./read-source.js";
import { printDiagnostics, type OutputFormat } from "./report.js";

export async function runCheck(file: string, opts: { format: OutputFormat; host?: string }): Promise<number> {
  const read = await readFleet(file, opts.host);
  if (typeof read === "number") return read;
  const { source, files } = read;
  const result = check(source, files.fleet);
  printDiagnostics(result.diagnostics, source, opts.format, sourcesOf(files.texts));
  if (opts.format === "text" && result.diagnostics.length === 0) process.stdout.write(`${source.name}: ok\n`);
  return result.diagnostics.some((d) => d.severity === "error") ? EXIT.diagnostics : EXIT.ok;
}
