/**
 * qwire simulate (issue #3): builds the bundle, builds a model of the Qubes
 * network from the topology (network namespaces, veths, the Qubes base
 * nftables tables), applies the bundle to it as qubesctl would (pillars
 * rendered with Jinja2, states by the Salt-subset interpreter, scripts run
 * inside the qubes), takes it through the events of events.ts, and probes
 * every expected flow after each one.
 *
 * Needs Linux and root. Never prints; the CLI formats the report. Every
 * namespace, process and temporary file is removed at the end, also when
 * the run fails or is interrupted.
 */
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CORE_SCHEMA, dump, load } from "js-yaml";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { parseFleet, type FleetOptions } from "../parse/fleet.js";
import type { SourceFile } from "../parse/index.js";
import { compile, type CompileResult } from "../pipeline.js";
import type { Artifact } from "../render/index.js";
import type { Topology } from "../topology/index.js";
import type { QubeName } from "../validate/index.js";
import { applyBundle, type ApplyReport } from "./apply/bundle.js";
import { Lifecycle, type HookRun } from "./apply/lifecycle.js";
import { QubeShell } from "./apply/qube-shell.js";
import { writeStubs } from "./apply/stubs.js";
import { abortOnSignals, cleanUp } from "./cleanup.js";
import { SimulateError } from "./errors.js";
import { EVENT_NAMES, runEvent, type Check, type EventContext, type EventName } from "./events.js";
import { AbortError, Runner } from "./exec.js";
import { deriveFlows, oracle, type DerivedFlows } from "./flows/derive.js";
import { flowKey, type Flow } from "./flows/flow.js";
import { DEFAULT_PROBE, probeFlows, type FlowResult, type ProbeOptions } from "./flows/probe.js";
import type { LanRequest } from "./model/network.js";
import { QubesModel } from "./model/network.js";
import { Namespaces } from "./model/namespaces.js";
import { checkPrerequisites } from "./prerequisites.js";
import { Dom0Qrexec } from "./qrexec/dom0-daemon.js";
import { DEFAULT_POLICY } from "./qrexec/policy.js";

export { SimulateError } from "./errors.js";
export { EVENT_NAMES, type Check, type EventName } from "./events.js";
export { formatMatrix } from "./flows/matrix.js";
export { sourceLabel, dialLabel, type Flow } from "./flows/flow.js";
export type { FlowResult, Outcome } from "./flows/probe.js";

export type BundlePhase = "initial" | "after-delete";

export interface SimulateOptions {
  /** Events to run, in the fixed order of EVENT_NAMES; "apply" always runs. Default: all. */
  readonly events?: readonly EventName[];
  readonly probe?: ProbeOptions;
  /** Changes a bundle before it is applied: the self-check tests break bundles on purpose. */
  readonly tamper?: (artifacts: readonly Artifact[], phase: BundlePhase) => readonly Artifact[];
  readonly signal?: AbortSignal;
  /** Called with a line of progress (the CLI prints it on stderr). */
  readonly onProgress?: (line: string) => void;
  /** Reads `include:`d files and the host overlay, as for `qwire build`; delete-intent edits the merged document. */
  readonly fleet?: FleetOptions;
}

export interface EventReport {
  readonly name: EventName;
  readonly title: string;
  readonly passed: boolean;
  readonly durationMs: number;
  readonly checks: readonly Check[];
  readonly flows: readonly FlowResult[];
  /** Hooks (scripts run at boot or by qubes-firewall) that exited non-zero: Qubes ignores it, the report shows it. */
  readonly hookFailures: readonly HookRun[];
  /** What explains failures without being one: qrexec calls dom0 refused, ports a qube's own socket held. */
  readonly notes: readonly string[];
  /** Every Salt apply of the event, state by state (what real Salt's result would list; compared with it in test/real-stack). */
  readonly applies: readonly ApplyReport[];
}

export interface SimulationReport {
  readonly file: string;
  readonly release: string;
  readonly runId: string;
  readonly passed: boolean;
  readonly durationMs: number;
  /** Addresses the model gave the qubes at the start. */
  readonly addresses: Readonly<Record<string, string>>;
  readonly events: readonly EventReport[];
}

export interface SimulateResult {
  readonly diagnostics: readonly Diagnostic[];
  readonly report?: SimulationReport;
}

/** Compiles `source` and simulates its bundle; diagnostics with errors mean nothing was simulated. */
export async function simulate(source: SourceFile, options: SimulateOptions = {}): Promise<SimulateResult> {
  const compiled = compile(source, options.fleet === undefined ? {} : { fleet: options.fleet });
  if (!compiled.topology || !compiled.artifacts || !compiled.plan) return { diagnostics: compiled.diagnostics };
  const report = await simulateCompiled(source, compiled as Required<CompileResult>, options);
  return { diagnostics: compiled.diagnostics, report };
}

export async function simulateCompiled(
  source: SourceFile,
  compiled: Required<CompileResult>,
  options: SimulateOptions = {},
): Promise<SimulationReport> {
  const started = Date.now();
  const controller = new AbortController();
  // Every running child listens on this signal.
  setMaxListeners(0, controller.signal);
  const forward = () => controller.abort();
  options.signal?.addEventListener("abort", forward);
  const removeHandlers = abortOnSignals(controller);
  const runner = new Runner(controller.signal);
  const runId = randomBytes(3).readUIntBE(0, 3).toString(36).padStart(5, "0").slice(-5);
  let namespaces: Namespaces | undefined;
  let dir: string | undefined;
  let qrexec: Dom0Qrexec | undefined;
  const progress = options.onProgress ?? (() => {});
  try {
    await checkPrerequisites(runner, compiled.topology.spec.release);
    const wanted = new Set<EventName>(["apply", ...(options.events ?? EVENT_NAMES)]);
    const events = EVENT_NAMES.filter((e) => wanted.has(e));
    const topology = compiled.topology;
    const initial = deriveFlows(topology);

    // The second bundle of delete-intent, built before anything starts.
    const deletion = wanted.has("delete-intent")
      ? withoutLastIntent(source, topology, compiled, options.fleet)
      : undefined;
    const after =
      deletion && "topology" in deletion
        ? afterDeleteFlows(topology, deletion.topology, deletion.intent, initial)
        : undefined;

    // Not under /tmp: each qube gets its own /tmp, which would hide this directory from it.
    dir = await mkdtemp(join("/var/tmp", `qwire-sim-${runId}-`));
    namespaces = new Namespaces(runner, runId);
    const model = new QubesModel(topology, mergeLans(initial.lans, after?.lans ?? []), namespaces, dir);
    const stubs = await writeStubs(dir);
    // dom0's own directories that the dom0 state may write into, with Qubes' default deny for ConnectTCP.
    const policyDir = join(dir, "dom0root", "etc", "qubes", "policy.d");
    await mkdir(policyDir, { recursive: true });
    await writeFile(join(policyDir, "90-default.policy"), DEFAULT_POLICY);
    qrexec = new Dom0Qrexec(stubs.qrexec, policyDir, model, runner);
    await qrexec.start();
    const shell = new QubeShell(runner, model, stubs);
    const lifecycle = new Lifecycle(model, shell);
    const bundles: Partial<Record<BundlePhase, string>> = {};
    bundles.initial = await writeBundle(
      join(dir, "bundle-initial"),
      options.tamper ? options.tamper(compiled.artifacts, "initial") : compiled.artifacts,
    );
    if (deletion && "artifacts" in deletion) {
      bundles["after-delete"] = await writeBundle(
        join(dir, "bundle-after-delete"),
        options.tamper ? options.tamper(deletion.artifacts, "after-delete") : deletion.artifacts,
      );
    }

    progress(`model: ${model.qubes().length} qubes, ${model.lans().length} outside network(s), run ${runId}`);
    await lifecycle.bootAll();
    const addresses = Object.fromEntries(model.qubes().map((q) => [q.name, q.ip]));
    const carriers = model
      .qubes()
      .map((q) => q.name)
      .filter((n) => compiled.plan.qubes.some((p) => p.qube === n));
    const applies: ApplyReport[] = [];
    const ctx: EventContext = {
      model,
      lifecycle,
      namespaces,
      carriers,
      victim: pickVictim(topology, model),
      deleted: deletion
        ? "intent" in deletion
          ? deletion.intent
          : { none: deletion.none }
        : { none: "not requested" },
      apply: async (phase) => {
        const bundle = bundles[phase];
        if (!bundle) throw new SimulateError("model", `no ${phase} bundle`);
        const applied = await applyBundle(bundle, { runner, model, shell, stubs, dom0Root: join(dir!, "dom0root") });
        applies.push(applied);
        return applied;
      },
    };

    const reports: EventReport[] = [];
    for (const name of events) {
      const t0 = Date.now();
      applies.length = 0;
      const hooksBefore = lifecycle.hooks.length;
      const callsBefore = qrexec.calls.length;
      progress(`event ${name}...`);
      const step = await runEvent(name, ctx);
      const checks = [...step.checks];
      if (name === "apply")
        checks.push(
          ...initial.unprobeable.map((u) => ({ name: `${u.origin} cannot be probed`, pass: false, detail: u.reason })),
        );
      const flows: readonly Flow[] =
        step.flows === "initial" ? initial.flows : step.flows === "after-delete" ? (after?.flows ?? []) : [];
      const probeEnv = { client: join(stubs.bin, "qrexec-client-vm"), socket: stubs.qrexec, path: shell.path() };
      const { results, busy } = await probeFlows(flows, model, runner, probeEnv, options.probe ?? DEFAULT_PROBE);
      const report: EventReport = {
        name,
        title: step.title,
        passed: checks.every((c) => c.pass) && results.every((r) => r.pass),
        durationMs: Date.now() - t0,
        checks,
        flows: results,
        hookFailures: lifecycle.hooks.slice(hooksBefore).filter((h) => h.exitCode !== 0),
        notes: [...busy, ...qrexecNotes(qrexec, callsBefore, results)],
        applies: [...applies],
      };
      reports.push(report);
      progress(
        `event ${name}: ${report.passed ? "PASS" : "FAIL"} (${results.filter((r) => r.pass).length}/${results.length} flows, ${report.durationMs} ms)`,
      );
    }
    return {
      file: source.name,
      release: topology.spec.release,
      runId,
      passed: reports.every((r) => r.passed),
      durationMs: Date.now() - started,
      addresses,
      events: reports,
    };
  } catch (e) {
    if (controller.signal.aborted || e instanceof AbortError)
      throw new SimulateError("interrupted", "interrupted; every namespace and temporary file of this run was removed");
    throw e;
  } finally {
    await qrexec?.close();
    await cleanUp(runner, namespaces, dir);
    removeHandlers();
    options.signal?.removeEventListener("abort", forward);
  }
}

/** Refused qrexec calls made by a qube that has a failing flow in this event: the why behind "no qube answered". */
function qrexecNotes(qrexec: Dom0Qrexec, from: number, results: readonly FlowResult[]): string[] {
  const failing = new Set<string>(
    results.flatMap((r) => (!r.pass && r.flow.from.kind === "qube" ? [r.flow.from.qube] : [])),
  );
  const lines = qrexec.calls
    .slice(from)
    .filter((c) => !c.allowed && failing.has(c.call.source))
    .map((c) => `qrexec refused ${c.detail}`);
  return [...new Set(lines)].sort();
}

async function writeBundle(dir: string, artifacts: readonly Artifact[]): Promise<string> {
  for (const a of artifacts) {
    const path = join(dir, a.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, a.content, { mode: a.mode });
  }
  return dir;
}

/**
 * qwire.yaml without its last forward (or, with none, its last link) and
 * without `expect:`, compiled as the next build. With included files or a
 * host overlay, the merged document is edited (the last intent may be in any
 * of its files) and compiled as one file.
 */
function withoutLastIntent(
  source: SourceFile,
  topology: Topology,
  compiled: Required<CompileResult>,
  fleet: FleetOptions | undefined,
): { intent: string; topology: Topology; artifacts: readonly Artifact[] } | { none: string } {
  const doc = (
    fleet === undefined
      ? load(source.text, { schema: CORE_SCHEMA })
      : structuredClone(parseFleet(source, new DiagnosticBag(), fleet)!.value)
  ) as Record<string, unknown>;
  const forwards = Array.isArray(doc.forwards) ? doc.forwards : [];
  const links = Array.isArray(doc.links) ? doc.links : [];
  let intent: string;
  if (forwards.length > 0) {
    forwards.pop();
    intent = `forward ${topology.spec.forwards.at(-1)!.name}`;
  } else if (links.length > 0) {
    links.pop();
    intent = `link ${topology.spec.links.at(-1)!.name}`;
  } else return { none: "qwire.yaml has no intent to delete" };
  delete doc.expect;
  const text = dump(doc, { schema: CORE_SCHEMA, lineWidth: -1 });
  const next = compile(
    { name: `${source.name} (without ${intent})`, text },
    { previousQubes: compiled.plan.qubes.map((q) => q.qube) },
  );
  if (!next.topology || !next.artifacts) {
    throw new SimulateError(
      "model",
      `qwire.yaml without ${intent} does not compile: ${next.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`,
    );
  }
  return { intent, topology: next.topology, artifacts: next.artifacts };
}

/**
 * Flows after delete-intent: those the new file implies, and every flow of
 * the old file judged again by the new intents, so that what the deleted
 * intent opened must now be closed (unless another intent opens it).
 */
function afterDeleteFlows(before: Topology, after: Topology, intent: string, initial: DerivedFlows): DerivedFlows {
  const derived = deriveFlows(after);
  const flows = new Map(derived.flows.map((f) => [flowKey(f), f]));
  for (const f of initial.flows) {
    const key = flowKey(f);
    if (flows.has(key)) continue;
    const was = oracle(before, f.from, f.dial, f.proto, f.port);
    const now = oracle(after, f.from, f.dial, f.proto, f.port);
    const opened = was.open && was.by === intent;
    flows.set(key, {
      ...f,
      expect: now.open ? "open" : "closed",
      origin: opened ? `deleted ${intent}` : f.origin,
      why: opened ? (now.open ? `still open by ${now.by}` : "its intent was deleted") : f.why,
    });
  }
  return { flows: [...flows.values()], lans: derived.lans, unprobeable: derived.unprobeable };
}

function mergeLans(a: readonly LanRequest[], b: readonly LanRequest[]): LanRequest[] {
  const byKey = new Map<string, LanRequest>();
  for (const l of [...a, ...b]) {
    const k = `${l.qube}:${l.iface}`;
    const prev = byKey.get(k);
    byKey.set(
      k,
      prev
        ? {
            ...prev,
            uplink: prev.uplink === true || l.uplink === true,
            clients: [...new Set([...prev.clients, ...l.clients])].sort(),
          }
        : l,
    );
  }
  return [...byKey.values()];
}

/** The qube `recreate` recreates: the target of the first forward, else of the first link; a qube with network and no pin. */
function pickVictim(topology: Topology, model: QubesModel): QubeName | { none: string } {
  const candidates = [
    ...topology.forwards.map((r) => r.forward.to),
    ...topology.links.map((l) => l.link.to),
    ...topology.links.map((l) => l.link.from),
  ];
  for (const name of candidates) {
    const q = model.qube(name);
    if (q.pinned === undefined && q.netvm !== undefined && !q.providesNetwork) return name;
  }
  return { none: "no intent targets a qube without a pinned address and with a netvm" };
}
