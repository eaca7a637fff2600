/** `qwire check [file]`: parse, validate and resolve the topology; prints every problem, writes nothing. */
import { check } from "../check.js";
import { EXIT } from "./exit-codes.js";
import { fleetReader, readSource, sourcesOf } from "./read-source.js";
import { printDiagnostics, type OutputFormat } from "./report.js";

export async function runCheck(file: string, opts: { format: OutputFormat; host?: string }): Promise<number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const files = fleetReader(file, opts.host);
  if (typeof files === "string") {
    process.stderr.write(`qwire: ${files}\n`);
    return EXIT.usage;
  }
  const result = check(source, files.fleet);
  printDiagnostics(result.diagnostics, source, opts.format, sourcesOf(files.texts));
  if (opts.format === "text" && result.diagnostics.length === 0) process.stdout.write(`${source.name}: ok\n`);
  return result.diagnostics.some((d) => d.severity === "error") ? EXIT.diagnostics : EXIT.ok;
}
