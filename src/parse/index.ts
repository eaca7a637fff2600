/**
 * Stage 1, parse: text -> plain data + a position side table.
 * Emits QW1001 (syntax) and QW1002 (duplicate key).
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

/** A UTF-8 byte order mark: js-yaml drops it, so positions are counted without it. */
const BOM = /^\uFEFF/;

/** One file's document; its positions are that file's own index (fleet files merge several, src/parse/fleet.ts). */
export function parse(input: SourceFile, diag: DiagnosticBag): (ParsedDocument & { readonly positions: PositionIndex }) | undefined {
  const source = BOM.test(input.text) ? { ...input, text: input.text.replace(BOM, "") } : input;
  const recorder = new PositionRecorder();
  let value: unknown;
  try {
    value = yaml.load(source.text, {
      filename: source.name,
      // CORE_SCHEMA: no timestamps or other surprises from the default schema.
      schema: yaml.CORE_SCHEMA,
      listener: recorder.listener as (this: unknown, event: "open" | "close", state: unknown) => void,
    });
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      const mark = e.mark as { line: number; column: number } | undefined;
      const span = { line: (mark?.line ?? 0) + 1, column: (mark?.column ?? 0) + 1, length: 1 };
      const duplicate = e.reason.startsWith("duplicated mapping key");
      diag.error(duplicate ? "QW1002" : "QW1001", span, duplicate ? "this key appears twice in the same mapping" : e.reason, {
        hint: duplicate ? "keep one of the two entries" : "fix the YAML syntax at the caret",
      });
      return undefined;
    }
    throw e;
  }
  return { source, value, positions: recorder.index(source.text) };
}

export type { LoaderState };
