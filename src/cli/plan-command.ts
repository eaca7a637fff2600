/**
 * `qwire plan [file] --against DIR|plan.json`: what building qwire.yaml
 * would change against the bundle applied now, per qube in words, the
 * teardowns, the exact qubes install.sh will target, and dom0's changes.
 * Writes nothing. Exit 0 when nothing changes, 4 when something does
 * (so scripts and CI can gate on it), 1 errors in qwire.yaml, 2 usage.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { compareBundles, type BundleFacts, type ChangeReport } from "../changes/index.js";
import { EmitError, readPreviousPlan } from "../emit/index.js";
import { compile } from "../pipeline.js";
import { bundleDigest } from "../render/install-list.js";
import { EXIT } from "./exit-codes.js";
import { readSource } from "./read-source.js";
import { printDiagnostics, type OutputFormat } from "./report.js";

interface PlanCliOptions {
  readonly against: string;
  readonly format: OutputFormat;
}

async function readFacts(dir: string): Promise<BundleFacts | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, "plan.json"), "utf8");
  } catch {
    return undefined;
  }
  const installList = await readFile(join(dir, "install.list"), "utf8").catch(() => undefined);
  return { planJson: JSON.parse(text) as unknown, ...(installList === undefined ? {} : { installList }) };
}

export async function runPlan(file: string, opts: PlanCliOptions): Promise<number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const dir = basename(opts.against) === "plan.json" ? dirname(opts.against) : opts.against;
  let previousQubes: readonly string[] = [];
  let previousHosts: readonly string[] = [];
  let previous: BundleFacts | undefined;
  try {
    const p = await readPreviousPlan(dir);
    previousQubes = p?.qubes ?? [];
    previousHosts = p?.hosts ?? [];
    if (p !== undefined) previous = await readFacts(dir);
  } catch (e) {
    if (!(e instanceof EmitError)) throw e;
    process.stderr.write(`qwire: ${e.message}\n`);
    return EXIT.usage;
  }
  if (previous === undefined && basename(opts.against) === "plan.json") {
    process.stderr.write(`qwire: ${opts.against} is not a plan.json written by qwire\n`);
    return EXIT.usage;
  }
  const result = compile(source, { previousQubes, previousHosts });
  // json: one document on stdout, the report; warnings of a good file go to stderr as text.
  if (!result.artifacts) {
    printDiagnostics(result.diagnostics, source, opts.format);
    return EXIT.diagnostics;
  }
  printDiagnostics(result.diagnostics, source, "text");
  const text = (path: string) => result.artifacts!.find((a) => a.path === path)?.content;
  const next: BundleFacts = {
    planJson: JSON.parse(text("plan.json") ?? "{}") as unknown,
    installList: text("install.list") ?? "",
  };
  const report = compareBundles(previous, next);
  const digest = bundleDigest(result.artifacts);
  if (opts.format === "json")
    process.stdout.write(`${JSON.stringify({ against: join(dir, "plan.json"), digest, ...report }, null, 2)}\n`);
  else process.stdout.write(words(report, join(dir, "plan.json"), digest));
  return report.changed ? EXIT.changes : EXIT.ok;
}

function words(r: ChangeReport, against: string, digest: string): string {
  const lines = [`qwire plan: against ${against}; the new bundle's digest would be sha256 ${digest}`];
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const q of r.qubes) {
    lines.push(`${q.qube}:`);
    for (const a of q.added) lines.push(`  + ${a}`);
    for (const c of q.changed) lines.push(`  ~ ${c.before}`, `    -> ${c.after}`);
    for (const d of q.removed) lines.push(`  - ${d}`);
  }
  for (const t of r.teardowns) lines.push(`teardown: ${t} (carried qwire rules before; its state removes them)`);
  lines.push(r.dom0.length === 0 ? "dom0: no change" : "dom0:", ...r.dom0.map((d) => `  ${d}`));
  if (r.targets.length === 0)
    lines.push(`install.sh will target no qube (of ${r.targetable}), unless a qube's needed addresses changed in dom0`);
  else {
    lines.push(
      `install.sh will target ${r.targets.length} of ${r.targetable} qube(s), and any qube whose needed addresses changed in dom0:`,
    );
    for (const t of r.targets) lines.push(`  ${t.qube}: ${t.why}`);
  }
  lines.push(r.changed ? "something changes (exit 4)" : "nothing changes (exit 0)");
  return `${lines.join("\n")}\n`;
}
