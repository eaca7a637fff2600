/**
 * Diagnostics as data (cf. esbuild's logger): every stage appends to a bag
 * instead of throwing, so a user sees all of their mistakes in one run.
 */
import type { DiagnosticCode } from "./codes.js";

/** A place in one of the user's files. Line and column are 1-based. */
export interface Span {
  /**
   * The file, when it is not the document being checked: the previous
   * build's plan.json, an included file. Undefined means that document.
   */
  readonly file?: string;
  readonly line: number;
  readonly column: number;
  /** Characters to underline; 1 when unknown. */
  readonly length: number;
}

export type Severity = "error" | "warning";

export interface Note {
  readonly message: string;
  readonly span?: Span;
}

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly span: Span;
  readonly notes: readonly Note[];
  /** One sentence telling the user how to fix it. */
  readonly hint?: string;
}

export class DiagnosticBag {
  readonly #items: Diagnostic[] = [];
  readonly #seen = new Set<string>();

  error(code: DiagnosticCode, span: Span, message: string, extra: { notes?: Note[]; hint?: string } = {}): void {
    this.#push("error", code, span, message, extra);
  }

  warning(code: DiagnosticCode, span: Span, message: string, extra: { notes?: Note[]; hint?: string } = {}): void {
    this.#push("warning", code, span, message, extra);
  }

  #push(
    severity: Severity,
    code: DiagnosticCode,
    span: Span,
    message: string,
    extra: { notes?: Note[]; hint?: string },
  ): void {
    const d: Diagnostic = {
      severity,
      code,
      message: oneLine(message),
      span,
      notes: (extra.notes ?? []).map((n) => ({ ...n, message: oneLine(n.message) })),
      ...(extra.hint === undefined ? {} : { hint: oneLine(extra.hint) }),
    };
    // The same mistake can be reached from two rules (e.g. a typo'd qube used twice
    // on one line); report it once. A set, not a search: 40,000 clashes in a file took minutes.
    const key = `${d.code}\u0000${d.span.file ?? ""}\u0000${d.span.line}:${d.span.column}\u0000${d.message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#items.push(d);
  }

  hasErrors(): boolean {
    return this.#items.some((d) => d.severity === "error");
  }

  /** Sorted by position, then code: stable output for tests and for people. */
  sorted(): Diagnostic[] {
    return [...this.#items].sort(
      (a, b) =>
        compareFiles(a.span.file, b.span.file) ||
        a.span.line - b.span.line ||
        a.span.column - b.span.column ||
        a.code.localeCompare(b.code),
    );
  }
}

/**
 * Every message is one line of bounded length, whatever value it quotes (a
 * key holding a newline, a 10 MB port): control characters escaped, and a
 * run of more than 80 non-blank characters cut to its first 40.
 */
function oneLine(text: string): string {
  // Split, not /\S{81,}/: that regex overflows the stack on a 10 MB run.
  return (
    text
      .split(/(\s)/)
      .map((run) => (run.length > 80 ? `${run.slice(0, 40)}…` : run))
      .join("")
      // eslint-disable-next-line no-control-regex -- control characters are what this escapes
      .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
  );
}

/** The document being checked first, then other files by name. */
function compareFiles(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return a < b ? -1 : 1;
}
