// qwire simulate benchmark (Linux, root): `npm run build && sudo node bench/simulate.js`.
// Times the whole simulation (model, every event, every flow) of a 5-qube,
// 4-intent machine and of each recipe in formulas/. Prints a table; never a test.
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { simulate } from "../dist/simulate/index.js";

export const FIVE_QUBES_FOUR_INTENTS = `version: 1
release: "4.2"
qubes:
  sys-net:      { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web:          { netvm: sys-firewall }
  work:         { netvm: sys-firewall }
  dev:          { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
  - { name: dev-ssh, to: dev, port: 22, external_port: 2222, from: [192.168.1.0/24, 10.20.0.0/16] }
links:
  - { name: work-dev-ssh, from: work, to: dev, ports: [22] }
  - { name: work-web-dns, from: work, to: web, ports: [53], proto: udp, both_ways: true }
`;

async function time(name, text) {
  const t0 = performance.now();
  const { report, diagnostics } = await simulate({ name, text });
  const ms = performance.now() - t0;
  if (!report) throw new Error(`${name}: ${diagnostics.map((d) => d.message).join("; ")}`);
  const flows = report.events.reduce((n, e) => n + e.flows.length, 0);
  const slowest = [...report.events].sort((a, b) => b.durationMs - a.durationMs)[0];
  return { name, qubes: Object.keys(report.addresses).length, events: report.events.length, flows, result: report.passed ? "PASS" : "FAIL", seconds: (ms / 1000).toFixed(1), slowest: `${slowest.name} ${(slowest.durationMs / 1000).toFixed(1)} s` };
}

const rows = [await time("5 qubes, 4 intents", FIVE_QUBES_FOUR_INTENTS)];
for (const f of readdirSync("formulas").filter((f) => f.endsWith(".yaml")).sort()) {
  rows.push(await time(`formulas/${f}`, readFileSync(`formulas/${f}`, "utf8")));
}
const cols = ["name", "qubes", "events", "flows", "result", "seconds", "slowest"];
const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(width[i])).join("  ");
console.log(`qwire simulate on ${(await import("node:os")).cpus().length} cores (budget: 5 qubes, 4 intents, all events < 30 s)`);
console.log(line(cols));
console.log(line(width.map((w) => "-".repeat(w))));
for (const r of rows) console.log(line(cols.map((c) => r[c])).trimEnd());
if (rows.some((r) => r.result !== "PASS")) process.exitCode = 3;
