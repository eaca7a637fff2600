/** `qwire check [file]`: parse, validate and resolve the topology; prints every problem, writes nothing. */
import { check } from "../check.js";
import { EXIT } from "./exit-codes.js";
import { readSource } from "./read-source.js";
import { printDiagnostics, type OutputFormat } from "./report.js";

export async function runCheck(file: string, opts: { format: OutputFormat }): Promise<number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const result = check(source);
  printDiagnostics(result.diagnostics, source, opts.format);
  if (opts.format === "text" && result.diagnostics.length === 0) process.stdout.write(`${source.name}: ok\n`);
  return result.diagnostics.some((d) => d.severity === "error") ? EXIT.diagnostics : EXIT.ok;
}
