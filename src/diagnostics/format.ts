/**
 * Diagnostics for people (GNU style, clickable in editors, with the source
 * line and a caret) and for programs (`--format json`).
 */
import type { Diagnostic } from "./diagnostic.js";

/** `others`: the texts of included files and host overlays, for spans that name their file. */
export function formatText(diagnostics: readonly Diagnostic[], fileName: string, sourceText: string, others: ReadonlyMap<string, string> = new Map()): string {
  const linesOf = (file: string | undefined) => (file === undefined ? sourceText : (others.get(file) ?? "")).replace(/^\uFEFF/, "").split(/\r?\n/);
  const where = (span: { file?: string; line: number; column: number }) => `${span.file ?? fileName}:${span.line}:${span.column}`;
  const out: string[] = [];
  for (const d of diagnostics) {
    out.push(`${where(d.span)}: ${d.severity} ${d.code}: ${d.message}`);
    const text = linesOf(d.span.file)[d.span.line - 1];
    if (text !== undefined) {
      const gutter = String(d.span.line).padStart(4);
      out.push(`${gutter} | ${text}`);
      const width = Math.max(1, Math.min(d.span.length, text.length - d.span.column + 1));
      out.push(`${" ".repeat(gutter.length)} | ${" ".repeat(d.span.column - 1)}^${"~".repeat(width - 1)}`);
    }
    for (const note of d.notes) {
      out.push(note.span ? `${where(note.span)}: note: ${note.message}` : `  note: ${note.message}`);
    }
    if (d.hint !== undefined) out.push(`  hint: ${d.hint}`);
  }
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length > 0) out.push(`${plural(errors, "error")}, ${plural(warnings, "warning")}`);
  return out.join("\n");
}

export function formatJson(diagnostics: readonly Diagnostic[], fileName: string): string {
  return JSON.stringify(
    diagnostics.map((d) => ({ file: d.span.file ?? fileName, ...d })),
    null,
    2,
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
