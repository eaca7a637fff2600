/**
 * The front half of the pipeline (parse -> validate -> topology): what
 * `qwire check` runs. Its own module so that checking never loads the
 * planner, the renderer or Handlebars (start-up time of `qwire check`).
 */
import { DiagnosticBag, type Diagnostic } from "./diagnostics/diagnostic.js";
import { parse, type SourceFile } from "./parse/index.js";
import { resolveTopology, type Topology } from "./topology/index.js";
import { validate } from "./validate/index.js";

/** Everything up to the topology: what `qwire check` runs. */
export function check(source: SourceFile): { diagnostics: readonly Diagnostic[]; topology?: Topology } {
  const diag = new DiagnosticBag();
  const doc = parse(source, diag);
  const validated = doc && validate(doc, diag);
  const topology =
    doc && validated && resolveTopology(validated.spec, doc, diag, { referencesOnly: !validated.complete, ignore: validated.rejectedQubes });
  return { diagnostics: diag.sorted(), ...(topology ? { topology } : {}) };
}
