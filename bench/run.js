// qwire benchmarks: `npm run bench` (builds first). Prints a table; never a test.
// Compile time and memory of the pipeline (parse -> render) for growing qwire.yaml files.
import { performance } from "node:perf_hooks";
import { compile } from "../dist/pipeline.js";

/** A realistic large setup: N client qubes behind F firewall qubes, forwards and links among them. */
function scenario(clients, firewalls) {
  const lines = ["version: 1", "qubes:", "  sys-net: { provides_network: true, uplink: ens6 }"];
  for (let f = 0; f < firewalls; f++) lines.push(`  sys-fw-${f}: { netvm: sys-net, provides_network: true }`);
  for (let c = 0; c < clients; c++) lines.push(`  app-${c}: { netvm: sys-fw-${c % firewalls} }`);
  lines.push("forwards:");
  for (let c = 0; c < clients; c++) {
    lines.push(`  - { to: app-${c}, port: 443, external_port: ${10000 + c}, from: [192.168.${c % 250}.0/24, 10.${c % 250}.0.0/16] }`);
  }
  lines.push("links:");
  for (let c = 0; c + firewalls < clients; c++) {
    lines.push(`  - { from: app-${c}, to: app-${c + firewalls}, ports: [22, 5432, "8000-8010"] }`);
  }
  return lines.join("\n") + "\n";
}

function measure(text, runs) {
  const times = [];
  let files = 0;
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = compile({ name: "qwire.yaml", text });
    times.push(performance.now() - t0);
    if (!r.artifacts) throw new Error(`benchmark input has errors: ${r.diagnostics[0]?.message}`);
    files = r.artifacts.length;
    bytes = r.artifacts.reduce((n, a) => n + a.content.length, 0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], files, bytes };
}

const rows = [];
for (const [clients, firewalls, runs] of [
  [3, 1, 20],
  [50, 2, 10],
  [200, 4, 5],
  [1000, 8, 3],
]) {
  const text = scenario(clients, firewalls);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const m = measure(text, runs);
  const heapAfter = process.memoryUsage().heapUsed;
  rows.push({
    qubes: clients + firewalls + 1,
    intents: clients + Math.max(0, clients - firewalls),
    "yaml KiB": (text.length / 1024).toFixed(1),
    "median ms": m.median.toFixed(1),
    files: m.files,
    "bundle KiB": (m.bytes / 1024).toFixed(0),
    "heap MiB (delta)": ((heapAfter - heapBefore) / 2 ** 20).toFixed(1),
    "rss MiB": (process.memoryUsage().rss / 2 ** 20).toFixed(0),
  });
}
console.log("qwire build (in-process compile, median of runs)");
console.table(rows);
