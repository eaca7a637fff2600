/**
 * Diagnostics for people (GNU style, clickable in editors, with the source
 * line and a caret) and for programs (`--format json`). A diagnostic names
 * the file its span is in: the document being checked unless the span says
 * another (plan.json of the previous build, an included file).
 */
import type { Diagnostic, Span } from "./diagnostic.js";

/** Texts of files other than the document, by the name spans give them, for the source lines. */
export type OtherSources = ReadonlyMap<string, string>;

export function formatText(
  diagnostics: readonly Diagnostic[],
  fileName: string,
  sourceText: string,
  others: OtherSources = new Map(),
): string {
  const linesOf = new Map<string | undefined, string[]>([[undefined, splitLines(sourceText)]]);
  for (const [name, text] of others) linesOf.set(name, splitLines(text));
  const nameOf = (span: Span) => span.file ?? fileName;
  const out: string[] = [];
  for (const d of diagnostics) {
    out.push(`${nameOf(d.span)}:${d.span.line}:${d.span.column}: ${d.severity} ${d.code}: ${d.message}`);
    const text = linesOf.get(d.span.file)?.[d.span.line - 1];
    if (text !== undefined) {
      const gutter = String(d.span.line).padStart(4);
      out.push(`${gutter} | ${text}`);
      const width = Math.max(1, Math.min(d.span.length, text.length - d.span.column + 1));
      out.push(`${" ".repeat(gutter.length)} | ${" ".repeat(d.span.column - 1)}^${"~".repeat(width - 1)}`);
    }
    for (const note of d.notes) {
      out.push(
        note.span
          ? `${nameOf(note.span)}:${note.span.line}:${note.span.column}: note: ${note.message}`
          : `  note: ${note.message}`,
      );
    }
    if (d.hint !== undefined) out.push(`  hint: ${d.hint}`);
  }
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length > 0) out.push(`${plural(errors, "error")}, ${plural(warnings, "warning")}`);
  return out.join("\n");
}

/** `file` is the file of the diagnostic's span; a note names its file only when that differs. */
export function formatJson(diagnostics: readonly Diagnostic[], fileName: string): string {
  return JSON.stringify(
    diagnostics.map((d) => {
      const file = d.span.file ?? fileName;
      const { file: _spanFile, ...span } = d.span;
      const notes = d.notes.map((n) => {
        if (n.span === undefined) return n;
        const { file: noteFile, ...at } = n.span;
        const name = noteFile ?? fileName;
        return { ...n, span: name === file ? at : { file: name, ...at } };
      });
      return { file, ...d, span, notes };
    }),
    null,
    2,
  );
}

function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, "").split(/\r?\n/);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
