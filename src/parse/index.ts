/**
 * Stage 1, parse: text -> plain data + a position side table.
 * Emits QW1001 (syntax, or nesting past js-yaml's 100 levels), QW1002
 * (duplicate key) and QW1009 (aliases that expand to too much: an alias bomb).
 */
import yaml from "js-yaml";
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { PositionIndex, PositionRecorder, type LoaderState } from "./position-index.js";

export type { YamlPath } from "./position-index.js";
export { PositionIndex } from "./position-index.js";

export interface SourceFile {
  /** Name shown in diagnostics, as the user gave it. */
  readonly name: string;
  readonly text: string;
}

export interface ParsedDocument {
  readonly source: SourceFile;
  readonly value: unknown;
  /** Spans of keys and values by YAML path (for fleet files, each in the file the value came from). */
  readonly positions: Pick<PositionIndex, "value" | "key">;
}

/**
 * How many values YAML aliases may add to the document. js-yaml shares an
 * aliased node instead of copying it, but every later stage walks the value
 * as a tree, so "billion laughs" (9 levels of 10 aliases: 10^9 values in a
 * few hundred bytes) would hang the validator. Real files reuse a `from:`
 * list a few dozen times; this is far above that and far below a hang.
 */
export const ALIAS_EXPANSION_LIMIT = 100_000;

/** js-yaml's own limit (its maxDepth option), kept: no qwire.yaml nests past 10. */
const MAX_DEPTH = 100;

/** A UTF-8 byte order mark: js-yaml drops it, so positions are counted without it. */
const BOM = /^\uFEFF/;

/** One file's document; its positions are that file's own index (fleet files merge several, src/parse/fleet.ts). */
export function parse(
  input: SourceFile,
  diag: DiagnosticBag,
): (ParsedDocument & { readonly positions: PositionIndex }) | undefined {
  const source = BOM.test(input.text) ? { ...input, text: input.text.replace(BOM, "") } : input;
  let value: unknown;
  try {
    value = load(source);
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      // From the offset, not js-yaml's line and column: those are off for a NUL
      // (it counts no newline before it) and point past the line's end.
      const mark = e.mark as { position?: number } | undefined;
      const offset = Math.min(Math.max(mark?.position ?? 0, 0), source.text.length);
      const span = { ...new PositionIndex(source.text).position(offset), length: 1 };
      const duplicate = e.reason.startsWith("duplicated mapping key");
      const tooDeep = e.reason.startsWith("nesting exceeded maxDepth");
      diag.error(
        duplicate ? "QW1002" : "QW1001",
        span,
        duplicate
          ? "this key appears twice in the same mapping"
          : tooDeep
            ? `the YAML nests deeper than ${MAX_DEPTH} levels here`
            : e.reason,
        {
          hint: duplicate
            ? "keep one of the two entries"
            : tooDeep
              ? "a qwire.yaml needs fewer than 10 levels: flatten it"
              : "fix the YAML syntax at the caret",
        },
      );
      return undefined;
    }
    throw e;
  }
  // Positions only when a diagnostic asks: the same text loaded again, this time with the listener.
  const positions = new PositionIndex(source.text, () => {
    const recorder = new PositionRecorder();
    load(source, recorder.listener);
    return recorder.root();
  });
  const added = aliasExpansion(value, ALIAS_EXPANSION_LIMIT);
  if (added > ALIAS_EXPANSION_LIMIT) {
    diag.error(
      "QW1009",
      positions.firstAlias() ?? { line: 1, column: 1, length: 1 },
      `the YAML aliases of this file expand it by more than ${ALIAS_EXPANSION_LIMIT.toLocaleString("en-US")} values (an alias bomb); qwire does not expand them`,
      { hint: "write the repeated values out, or alias only small lists such as a `from:` list" },
    );
    return undefined;
  }
  return { source, value, positions };
}

function load(source: SourceFile, listener?: PositionRecorder["listener"]): unknown {
  return yaml.load(source.text, {
    filename: source.name,
    // CORE_SCHEMA: no timestamps or other surprises from the default schema.
    schema: yaml.CORE_SCHEMA,
    // Not in @types/js-yaml, but an option of js-yaml 4's loader.
    ...({ maxDepth: MAX_DEPTH } as yaml.LoadOptions),
    ...(listener === undefined ? {} : { listener }),
  });
}

/**
 * The values that repeated references (aliases) add to `value` when it is
 * walked as a tree, counted in time linear in its distinct nodes (each
 * node's tree size is computed once); stops counting past `limit`.
 */
function aliasExpansion(value: unknown, limit: number): number {
  const sizes = new Map<object, number>();
  let added = 0;
  const size = (v: unknown): number => {
    if (v === null || typeof v !== "object") return 1;
    const known = sizes.get(v);
    if (known !== undefined) {
      added += known;
      return known;
    }
    let n = 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      n += size(child);
      if (added > limit) break;
    }
    sizes.set(v, n);
    return n;
  };
  size(value);
  return added;
}

export type { LoaderState };
