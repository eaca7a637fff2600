/**
 * Turns zod's issues into qwire diagnostics with positions and plain words.
 * Issues the language files raised (grammar.ts) carry their code, place and
 * hint; zod's own (unknown keys, wrong types, missing keys, wrong choices)
 * get qwire's wording here, so no raw "invalid input" reaches a Qubes user.
 * The known keys of a hint are read from the schema itself.
 */
import type { z } from "zod";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type { ParsedDocument, YamlPath } from "../parse/index.js";
import { qwireParams } from "./grammar.js";
import { describe } from "./values.js";

export function reportIssues(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  doc: ParsedDocument,
  diag: DiagnosticBag,
): void {
  for (const issue of issues) reportIssue(issue, pathOf(issue), schema, doc, diag);
}

function pathOf(issue: { path: PropertyKey[] }): YamlPath {
  return issue.path.filter((p): p is string | number => typeof p !== "symbol");
}

function reportIssue(
  issue: z.core.$ZodIssue,
  path: YamlPath,
  schema: z.ZodType,
  doc: ParsedDocument,
  diag: DiagnosticBag,
): void {
  const qwire = qwireParams(issue);
  if (qwire !== undefined) {
    const span = qwire.at === "key" ? doc.positions.key(path) : doc.positions.value(path);
    const extra = qwire.hint === undefined ? {} : { hint: qwire.hint };
    if (qwire.severity === "warning") diag.warning(qwire.code, span, issue.message, extra);
    else diag.error(qwire.code, span, issue.message, extra);
    return;
  }
  switch (issue.code) {
    case "invalid_key":
      // A record's key failed its grammar (a qube name): point at the key.
      for (const inner of issue.issues) {
        const params = qwireParams(inner);
        if (params !== undefined) diag.error(params.code, doc.positions.key(path), inner.message);
        else reportIssue(inner, [...path, ...pathOf(inner)], schema, doc, diag);
      }
      break;
    case "unrecognized_keys": {
      // `include:` is read (and removed) by parse/fleet.ts before validation; a typo of it is still a top-level key.
      const known = path.length === 0 ? [...keysAt(schema, path), "include"] : keysAt(schema, path);
      for (const key of issue.keys) {
        const suggestion = didYouMean(key, known);
        diag.error("QW2001", doc.positions.key([...path, key]), `unknown key '${key}'${where(path)}`, {
          ...(suggestion ? { notes: [{ message: suggestion }] } : {}),
          hint: known.length > 0 ? `known keys here: ${known.join(", ")}` : "remove it",
        });
      }
      break;
    }
    case "invalid_type": {
      const found = valueAt(doc.value, path);
      if (found === undefined) {
        const parent = path.slice(0, -1);
        const key = String(path[path.length - 1]);
        diag.error("QW2002", doc.positions.value(parent), `missing required key '${key}'${where(parent)}`, {
          hint: `add '${key}:'`,
        });
      } else {
        diag.error(
          "QW2002",
          doc.positions.value(path),
          `'${pathText(path)}' must be ${article(issue.expected)}, found ${describe(found)}`,
        );
      }
      break;
    }
    case "invalid_value": {
      const choices = issue.values.map((v) => JSON.stringify(v)).join(", ");
      diag.error(
        "QW2002",
        doc.positions.value(path),
        `'${pathText(path)}' must be one of ${choices}, found ${describe(valueAt(doc.value, path))}`,
      );
      break;
    }
    default:
      diag.error("QW2002", doc.positions.value(path), `'${pathText(path)}': ${issue.message}`);
  }
}

/**
 * The keys of the mapping at `path` in `schema`, in the order the schema
 * declares them: what an unknown key there could have meant.
 */
export function keysAt(schema: z.ZodType, path: YamlPath): string[] {
  let at: z.core.$ZodType | undefined = schema;
  for (const step of [...path, undefined]) {
    // Look through wrappers (optional, nullable, default, pipes) to the shape underneath.
    for (;;) {
      const def: Record<string, unknown> & { type: string } = at._zod.def as never;
      if (def.type === "pipe") at = def.in as z.core.$ZodType;
      else if (def.type === "optional" || def.type === "nullable" || def.type === "default" || def.type === "prefault")
        at = def.innerType as z.core.$ZodType;
      else break;
    }
    const def: Record<string, unknown> & { type: string } = at._zod.def as never;
    if (step === undefined) return def.type === "object" ? Object.keys(def.shape as object) : [];
    if (def.type === "object") at = (def.shape as Record<string, z.core.$ZodType>)[step];
    else if (def.type === "record") at = def.valueType as z.core.$ZodType;
    else if (def.type === "array") at = def.element as z.core.$ZodType;
    else return [];
    if (at === undefined) return [];
  }
  return [];
}

function valueAt(root: unknown, path: YamlPath): unknown {
  let v = root;
  for (const step of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[step];
  }
  return v;
}

export function pathText(path: YamlPath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function where(path: YamlPath): string {
  return path.length === 0 ? " at the top level" : ` in '${pathText(path)}'`;
}

function article(expected: string): string {
  switch (expected) {
    case "array":
      return "a list";
    case "object":
    case "record":
      return "a mapping";
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}
