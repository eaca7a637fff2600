// qwire simulate benchmark (Linux, root): `npm run build && sudo node bench/simulate.js`.
// Times the whole simulation (model, every event, every flow) of a 5-qube,
// 4-intent machine and of each recipe in formulas/. Prints a table; never a test.
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { simulate } from "../dist/simulate/index.js";

export const FIVE_QUBES_FOUR_INTENTS = readFileSync(new URL("five-qubes-four-intents.yaml", import.meta.url), "utf8");

async function time(name, text) {
  const t0 = performance.now();
  const { report, diagnostics } = await simulate({ name, text });
  const ms = performance.now() - t0;
  if (!report) throw new Error(`${name}: ${diagnostics.map((d) => d.message).join("; ")}`);
  const flows = report.events.reduce((n, e) => n + e.flows.length, 0);
  const slowest = [...report.events].sort((a, b) => b.durationMs - a.durationMs)[0];
  return {
    name,
    qubes: Object.keys(report.addresses).length,
    events: report.events.length,
    flows,
    result: report.passed ? "PASS" : "FAIL",
    seconds: (ms / 1000).toFixed(1),
    slowest: `${slowest.name} ${(slowest.durationMs / 1000).toFixed(1)} s`,
  };
}

const rows = [await time("5 qubes, 4 intents", FIVE_QUBES_FOUR_INTENTS)];
for (const f of readdirSync("formulas")
  .filter((f) => f.endsWith(".yaml"))
  .sort()) {
  rows.push(await time(`formulas/${f}`, readFileSync(`formulas/${f}`, "utf8")));
}
const cols = ["name", "qubes", "events", "flows", "result", "seconds", "slowest"];
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(width[i])).join("  ");
console.log(
  `qwire simulate on ${(await import("node:os")).cpus().length} cores (budget: 5 qubes, 4 intents, all events < 30 s)`,
);
console.log(line(cols));
console.log(line(width.map((w) => "-".repeat(w))));
for (const r of rows) console.log(line(cols.map((c) => r[c])).trimEnd());
if (rows.some((r) => r.result !== "PASS")) process.exitCode = 3;
