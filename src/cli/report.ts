/** Prints diagnostics to stderr (text) or stdout (json). */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { formatJson, formatText } from "../diagnostics/format.js";
import type { SourceFile } from "../parse/index.js";

export type OutputFormat = "text" | "json";

/** `others`: texts of included files and host overlays, for diagnostics that point into them. */
export function printDiagnostics(diagnostics: readonly Diagnostic[], source: SourceFile, format: OutputFormat, others?: ReadonlyMap<string, string>): void {
  if (format === "json") {
    process.stdout.write(`${formatJson(diagnostics, source.name)}\n`);
    return;
  }
  if (diagnostics.length > 0) process.stderr.write(`${formatText(diagnostics, source.name, source.text, others)}\n`);
}
