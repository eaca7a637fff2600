/**
 * `qwire simulate [file]`: proves a bundle in a network-namespace model of
 * the Qubes network (src/simulate/) and prints, per event, a connectivity
 * matrix and PASS/FAIL per flow with the reason. Exit 0 only if every flow
 * and check held after every event; 1 errors in qwire.yaml; 3 otherwise.
 * The command and its options are declared in main.ts.
 */
import {
  simulate,
  SimulateError,
  EVENT_NAMES,
  formatMatrix,
  sourceLabel,
  dialLabel,
  type EventName,
  type SimulationReport,
} from "../simulate/index.js";
import { EXIT } from "./exit-codes.js";
import { readFleet, sourcesOf } from "./read-source.js";
import { printDiagnostics, type OutputFormat } from "./report.js";

interface SimulateCliOptions {
  readonly format: OutputFormat;
  readonly events?: string;
  readonly quiet?: boolean;
  readonly host?: string;
}

export async function runSimulate(file: string, opts: SimulateCliOptions): Promise<number> {
  let events: EventName[] | undefined;
  if (opts.events !== undefined) {
    const names = opts.events
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !(EVENT_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0) {
      process.stderr.write(`qwire: unknown event(s) ${unknown.join(", ")}; known: ${EVENT_NAMES.join(", ")}\n`);
      return EXIT.usage;
    }
    events = names as EventName[];
  }
  const read = await readFleet(file, opts.host);
  if (typeof read === "number") return read;
  const { source, files } = read;
  const progress =
    opts.format === "text" ? (line: string) => process.stderr.write(`qwire simulate: ${line}\n`) : undefined;
  try {
    const result = await simulate(source, {
      fleet: files.fleet,
      ...(events ? { events } : {}),
      ...(progress ? { onProgress: progress } : {}),
    });
    if (!result.report) {
      printDiagnostics(result.diagnostics, source, opts.format, sourcesOf(files.texts));
      return EXIT.diagnostics;
    }
    if (opts.format === "json")
      process.stdout.write(`${JSON.stringify({ diagnostics: result.diagnostics, report: result.report }, null, 2)}\n`);
    else {
      printDiagnostics(result.diagnostics, source, "text", sourcesOf(files.texts));
      process.stdout.write(formatReport(result.report, opts.quiet === true));
    }
    return result.report.passed ? EXIT.ok : EXIT.failure;
  } catch (e) {
    if (!(e instanceof SimulateError)) throw e;
    if (opts.format === "json")
      process.stdout.write(`${JSON.stringify({ error: { kind: e.kind, message: e.message } }, null, 2)}\n`);
    else process.stderr.write(`qwire simulate: ${e.message}\n`);
    return EXIT.failure;
  }
}

function formatReport(report: SimulationReport, quiet: boolean): string {
  const out: string[] = [];
  out.push(`qwire simulate: ${report.file} (Qubes R${report.release}), run ${report.runId}`);
  out.push(
    `addresses: ${Object.entries(report.addresses)
      .map(([q, ip]) => `${q} ${ip}`)
      .join(", ")}`,
  );
  // Which Salt ran: never the real one here (test/real-stack compares the two on every golden).
  out.push("salt: qwire's built-in interpreter of DESIGN.md §3's state subset, pillars rendered by Jinja2");
  for (const e of report.events) {
    out.push("", `== ${e.name}: ${e.title}  ${e.passed ? "PASS" : "FAIL"} (${(e.durationMs / 1000).toFixed(1)} s)`);
    for (const a of e.applies) {
      const states = a.targets.flatMap((t) => t.states);
      out.push(
        `   salt  ${states.length} states in ${a.targets.length} target(s), ${states.filter((x) => x.changed).length} changed, ${states.filter((x) => !x.result).length} failed`,
      );
    }
    for (const c of e.checks)
      if (!quiet || !c.pass) out.push(`   ${c.pass ? "PASS" : "FAIL"}  check ${c.name}: ${c.detail}`);
    for (const n of e.notes) out.push(`   note  ${n}`);
    for (const h of e.hookFailures)
      out.push(
        `   note  ${h.qube}: ${h.hook} exited ${h.exitCode}${h.output ? `: ${h.output.split("\n").slice(-2).join(" | ")}` : ""}`,
      );
    if (e.flows.length > 0) {
      out.push(
        "",
        ...formatMatrix(e.flows)
          .trimEnd()
          .split("\n")
          .map((l) => `   ${l}`),
        "",
      );
    }
    for (const r of e.flows) {
      if (quiet && r.pass) continue;
      const f = r.flow;
      out.push(
        `   ${r.pass ? "PASS" : "FAIL"}  ${sourceLabel(f.from)} -> ${dialLabel(f.dial)} ${f.proto}/${f.port} want ${f.expect} (${f.origin}: ${f.why}): ${r.reason}`,
      );
    }
  }
  const flows = report.events.reduce((n, e) => n + e.flows.length, 0);
  const failed = report.events.reduce(
    (n, e) => n + e.flows.filter((r) => !r.pass).length + e.checks.filter((c) => !c.pass).length,
    0,
  );
  out.push(
    "",
    report.passed
      ? `result: PASS, every flow held after every event (${report.events.length} events, ${flows} flow checks, ${(report.durationMs / 1000).toFixed(1)} s)`
      : `result: FAIL, ${failed} failure(s) in ${report.events
          .filter((e) => !e.passed)
          .map((e) => e.name)
          .join(", ")} (${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  return `${out.join("\n")}\n`;
}
