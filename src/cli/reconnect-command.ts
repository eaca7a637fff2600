/** `qwire reconnect [file]`: prints the dom0 commands that re-attach every declared qube to its netvm. */
import { reconnect } from "../pipeline.js";
import { EXIT } from "./exit-codes.js";
import { includeReader, readSource, sourcesOf } from "./read-source.js";
import { printDiagnostics, type OutputFormat } from "./report.js";

export async function runReconnect(file: string, opts: { format: OutputFormat }): Promise<number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const files = includeReader(file);
  const result = reconnect(source, files.fleet);
  printDiagnostics(result.diagnostics, source, opts.format, sourcesOf(files.texts));
  if (result.script === undefined) return EXIT.diagnostics;
  if (opts.format === "text") process.stdout.write(result.script);
  return EXIT.ok;
}
