/**
 * The one place the stages are chained: parse -> validate -> topology ->
 * plan -> render. Pure: no file system, clock or environment; emit and the
 * CLI do the I/O. Stops after the first stage that reports an error, having
 * collected every error that stage could find. The front half (up to the
 * topology) is check.ts.
 */
import { check } from "./check.js";
import { DiagnosticBag, type Diagnostic, type Span } from "./diagnostics/diagnostic.js";
import type { SourceFile } from "./parse/index.js";
import { parseFleet, type FleetOptions } from "./parse/fleet.js";
import { plan, reconnectOrder, type Plan } from "./plan/index.js";
import { reconnectScript } from "./render/reconnect.js";
import { render, type Artifact } from "./render/index.js";
import { resolveTopology, type Topology } from "./topology/index.js";
import { validate, type QubeName } from "./validate/index.js";
import { parseQubeName, printable } from "./validate/values.js";

export { check };

export interface CompileOptions {
  /** Qube names from the previous build's plan.json, for teardowns. */
  readonly previousQubes?: readonly string[];
  /** Hosts of guest net qubes in the previous build's plan.json. */
  readonly previousHosts?: readonly string[];
  /** Reads `include:`d files and the host overlay; without it qwire.yaml stands alone. */
  readonly fleet?: FleetOptions;
  /** That plan.json (its name and text): a diagnostic about it points into it. */
  readonly previousPlan?: SourceFile;
}

export interface CompileResult {
  readonly diagnostics: readonly Diagnostic[];
  readonly topology?: Topology;
  readonly plan?: Plan;
  readonly artifacts?: readonly Artifact[];
}

/**
 * The qvm-prefs commands that re-attach every declared qube to its netvm.
 * Needs only a valid netvm layout, so it also works where a net qube's files
 * could not be placed on the release (QW4001 is about the bundle's files).
 */
export function reconnect(
  source: SourceFile,
  fleet?: FleetOptions,
): { diagnostics: readonly Diagnostic[]; script?: string } {
  const diag = new DiagnosticBag();
  const doc = parseFleet(source, diag, fleet);
  const validated = doc && validate(doc, diag);
  const diagnostics = diag.sorted();
  const blocking = diagnostics.filter((d) => d.severity === "error" && d.code !== "QW4001");
  if (!doc || !validated || blocking.length > 0) return { diagnostics };
  const bag = new DiagnosticBag();
  const topology = resolveTopology(validated.spec, doc, bag);
  if (!topology) return { diagnostics: [...blocking, ...bag.sorted()] };
  return {
    diagnostics: bag.sorted(),
    script: reconnectScript(validated.spec.release, reconnectOrder(validated.spec, topology.graph)),
  };
}

export function compile(source: SourceFile, options: CompileOptions = {}): CompileResult {
  const planned = compilePlan(source, options);
  return planned.plan ? { ...planned, artifacts: render(planned.plan) } : planned;
}

/**
 * Every stage but render: the diagnostics, and the plan when there are no
 * errors. `qwire build` renders that plan straight into emit (renderTo).
 */
export function compilePlan(source: SourceFile, options: CompileOptions = {}): Omit<CompileResult, "artifacts"> {
  const checked = check(source, options.fleet);
  if (!checked.topology) return checked;
  const diag = new DiagnosticBag();
  const previousQubes: QubeName[] = [];
  const previousHosts: QubeName[] = [];
  for (const [name, into] of [
    ...(options.previousQubes ?? []).map((n) => [n, previousQubes] as const),
    ...(options.previousHosts ?? []).map((n) => [n, previousHosts] as const),
  ]) {
    const parsed = parseQubeName(name);
    if (parsed.ok) into.push(parsed.value);
    else
      diag.error(
        "QW1004",
        spanIn(options.previousPlan, JSON.stringify(name)),
        `the previous build's plan.json names '${printable(name)}': ${parsed.message}`,
        {
          hint: "that plan.json was not written by qwire; delete it, or build into a fresh folder",
        },
      );
  }
  const diagnostics = [...checked.diagnostics, ...diag.sorted()];
  if (diag.hasErrors()) return { diagnostics };
  const thePlan = plan(checked.topology, { previousQubes, previousHosts });
  return { diagnostics, topology: checked.topology, plan: thePlan };
}

/** Where `needle` first occurs in a file other than the document (plan.json); its first line when it is not found. */
function spanIn(file: SourceFile | undefined, needle: string): Span {
  const name = file?.name ?? "plan.json";
  const text = file?.text ?? "";
  const at = text.indexOf(needle);
  if (at === -1) return { file: name, line: 1, column: 1, length: 1 };
  const before = text.slice(0, at).split("\n");
  return { file: name, line: before.length, column: before[before.length - 1]!.length + 1, length: needle.length };
}
