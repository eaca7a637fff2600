/**
 * Stage 2, validate: ParsedDocument -> IntentSpec.
 *
 * The language is defined once, in sections/ (one zod schema per section of
 * qwire.yaml: structure, value grammar, diagnostic code, default). This file
 * runs it for the document's release, turns its issues into diagnostics
 * (issues.ts) and hands on zod's parsed output. Cross-references between
 * intents are the topology stage's job.
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { ParsedDocument } from "../parse/index.js";
import { profileOf, type Release } from "../release/index.js";
import { isMapping, qwireParams } from "./grammar.js";
import { reportIssues } from "./issues.js";
import { documentSchema, releaseOf, salvage, type LanguageOptions } from "./sections/document.js";
import type { ForwardSpec, IntentSpec, LinkSpec } from "./spec.js";
import { describe } from "./values.js";

export * from "./spec.js";
export { ruleString } from "./firewall-rule.js";
export * from "./firewall-r32.js";
export { mergeRanges } from "./sections/links.js";
export { MAX_FIREWALL_RULES, MAX_OVERFLOW_RULES, RELEASES } from "../release/index.js";

/**
 * The spec, also when some values were refused: the topology stage can then
 * still report wrong references in the same run ("all errors at once").
 * `complete` is false when anything was refused; such a spec is never planned.
 */
export interface Validated {
  readonly spec: IntentSpec;
  readonly complete: boolean;
  /** Qube keys refused as names: references to them are not reported again. */
  readonly rejectedQubes: ReadonlySet<string>;
}

const schemas = new Map<string, ReturnType<typeof documentSchema>>();

/** The language for one release (memoized: building the schemas costs more than using them). */
export function language(release: Release, warnings: boolean): ReturnType<typeof documentSchema> {
  const key = `${release} ${warnings}`;
  let schema = schemas.get(key);
  if (schema === undefined) {
    schema = documentSchema({ profile: profileOf(release), warnings });
    schemas.set(key, schema);
  }
  return schema;
}

export function validate(doc: ParsedDocument, diag: DiagnosticBag): Validated | undefined {
  if (!isMapping(doc.value)) {
    const found = doc.value === undefined || doc.value === null ? "the file is empty" : `found ${describe(doc.value)}`;
    diag.error("QW2002", doc.positions.value([]), `qwire.yaml must be a mapping with 'version' and 'qubes'; ${found}`, {
      hint: "start from 'version: 1' and 'qubes:' (see formulas/ for examples)",
    });
    return undefined;
  }
  const release = releaseOf(doc.value);
  const options: LanguageOptions = { profile: profileOf(release), warnings: true };
  const schema = language(release, true);
  const parsed = schema.safeParse(doc.value);
  let spec: IntentSpec;
  let rejectedQubes: ReadonlySet<string> = new Set();
  let complete = true;
  if (parsed.success) spec = parsed.data;
  else {
    reportIssues(parsed.error.issues, schema, doc, diag);
    const onlyWarnings = parsed.error.issues.every((i) => qwireParams(i)?.severity === "warning");
    // Warnings are issues to zod too: without them the document parses.
    const quiet = onlyWarnings ? language(release, false).safeParse(doc.value) : undefined;
    if (quiet?.success) spec = quiet.data;
    else {
      complete = false;
      ({ spec, rejectedQubes } = salvage(doc.value, options));
    }
  }
  if (!uniqueNames([...spec.forwards, ...spec.links], doc, diag)) complete = false;
  return { spec, complete, rejectedQubes };
}

/** QW3012: forwards and links share one name space (script comments, logs, plan.json). */
function uniqueNames(intents: readonly (ForwardSpec | LinkSpec)[], doc: ParsedDocument, diag: DiagnosticBag): boolean {
  const seen = new Map<string, ForwardSpec | LinkSpec>();
  let unique = true;
  for (const it of intents) {
    const first = seen.get(it.name);
    if (first === undefined) {
      seen.set(it.name, it);
      continue;
    }
    unique = false;
    diag.error("QW3012", doc.positions.value(it.path), `two intents are named '${it.name}'`, {
      notes: [{ message: "the first one is here", span: doc.positions.value(first.path) }],
      hint: "give one of them a 'name:' of its own",
    });
  }
  return unique;
}
