/**
 * The front half of the pipeline (parse -> validate -> topology): what
 * `qwire check` runs. Its own module so that checking never loads the
 * planner, the renderer or Handlebars (start-up time of `qwire check`).
 */
import { DiagnosticBag, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { SourceFile } from "./parse/index.js";
import { parseFleet, type FleetOptions } from "./parse/fleet.js";
import { resolveTopology, type Topology } from "./topology/index.js";
import { validate } from "./validate/index.js";

/** Everything up to the topology: what `qwire check` runs; `fleet` reads `include:`d files and the host overlay. */
export function check(
  source: SourceFile,
  fleet?: FleetOptions,
): { diagnostics: readonly Diagnostic[]; topology?: Topology } {
  const diag = new DiagnosticBag();
  const doc = parseFleet(source, diag, fleet);
  const validated = doc && validate(doc, diag);
  const topology =
    doc &&
    validated &&
    resolveTopology(validated.spec, doc, diag, {
      referencesOnly: !validated.complete,
      ignore: validated.rejectedQubes,
    });
  return { diagnostics: diag.sorted(), ...(topology ? { topology } : {}) };
}
