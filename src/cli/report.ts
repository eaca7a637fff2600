/** Prints diagnostics to stderr (text) or stdout (json). */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { formatJson, formatText } from "../diagnostics/format.js";
import type { SourceFile } from "../parse/index.js";

export type OutputFormat = "text" | "json";

/** `others`: files besides the document that diagnostics may point into (the previous plan.json). */
export function printDiagnostics(
  diagnostics: readonly Diagnostic[],
  source: SourceFile,
  format: OutputFormat,
  others: readonly SourceFile[] = [],
): void {
  if (format === "json") {
    process.stdout.write(`${formatJson(diagnostics, source.name)}\n`);
    return;
  }
  if (diagnostics.length > 0)
    process.stderr.write(
      `${formatText(diagnostics, source.name, source.text, new Map(others.map((o) => [o.name, o.text])))}\n`,
    );
}
