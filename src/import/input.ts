/** The dom0 command outputs `qwire import` reads, split into numbered lines for diagnostics. */
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../parse/index.js";

export interface InputLine {
  readonly text: string;
  /** 1-based. */
  readonly line: number;
}

export function lineSpan(l: InputLine): Span {
  return { line: l.line, column: 1, length: Math.max(1, l.text.length) };
}

/**
 * The non-empty lines of a command's output. Every line these commands print
 * ends in a newline, so output that does not was cut off: QW5002 at its last
 * line, which is not read (nothing is imported from a truncated file).
 */
export function outputLines(source: SourceFile, diag: DiagnosticBag): InputLine[] {
  const raw = source.text.split("\n");
  if (source.text !== "" && !source.text.endsWith("\n")) {
    const last = { text: raw.pop()!, line: raw.length + 1 };
    diag.error("QW5002", lineSpan(last), "the output ends in the middle of this line: it looks cut off", {
      hint: "copy the whole output of the dom0 command again (each line it prints ends with a newline)",
    });
  }
  return raw.flatMap((text, i) => (text.trim() === "" ? [] : [{ text: text.replace(/\r$/, ""), line: i + 1 }]));
}
