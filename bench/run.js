// qwire benchmarks: `npm run bench` (builds first; Linux and root for the
// load tables). Prints tables; never a test, and nothing here asserts a time.
// QWIRE_BENCH=smoke runs every table at a tiny size once (CI's smoke test);
// QWIRE_BENCH_TABLES=load,connections,compile (any of them) runs only those
// (the whole run takes ~20 minutes, the load table most of it).
//
// Ratios come from pairs measured back to back in the same run; each cell is
// the median of the repetitions. The manual way at 10,000 rules is not run
// (about 20,000 nft processes, many minutes): it is extrapolated linearly from
// its median at 1,000, which underestimates it (each call reads the whole
// ruleset, so it grows faster than linearly).
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { compileScenario, timeBuild } from "./compile.js";
import { connectionPair } from "./connections.js";
import { manualCommands, qwireScript, timeManual, timeScript } from "./load.js";
import { missingNamespaceTools } from "./namespace-tools.js";

const smoke = process.env.QWIRE_BENCH === "smoke";
const TABLES = ["load", "connections", "compile"];
const chosen = (process.env.QWIRE_BENCH_TABLES ?? TABLES.join(",")).split(",");
for (const t of chosen)
  if (!TABLES.includes(t)) throw new Error(`QWIRE_BENCH_TABLES: no table '${t}' (${TABLES.join(", ")})`);
const runs = (t) => chosen.includes(t);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (s) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);
const times = (r) => `${r.toFixed(r < 10 ? 1 : 0)}x`;

/** The CPU, its cores, node, and how long `node -e 0` takes here (median of 5): a yardstick for every table. */
function machineLine() {
  const cpu = cpus();
  const start = Array.from({ length: 5 }, () => {
    const t0 = performance.now();
    spawnSync(process.execPath, ["-e", "0"]);
    return (performance.now() - t0) / 1000;
  });
  return `machine: ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${cpu.length} cores, node ${process.version}, \`node -e 0\` ${fmt(median(start))}`;
}

function table(title, rows) {
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(width[i])).join(" | ")} |`;
  console.log(`\n${title}\n${line(cols)}\n|${width.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}

// The machine, first: this VM's cores have changed under the project (twice as fast
// one day to the next), so a table means something only next to the machine it ran on.
console.log(machineLine());

const isRoot = process.getuid?.() === 0;
const missing = missingNamespaceTools();
const inNamespaces = isRoot && missing.length === 0;
if (!isRoot) console.log("load and connections tables skipped: they need root (network namespaces)");
else if (missing.length > 0)
  console.log(
    `load and connections tables skipped: ${missing.join(", ")} not installed ` +
      "(Debian: apt-get install nftables iptables iproute2 python3, as .ci/run does)",
  );
if (inNamespaces && runs("load")) {
  const rows = [];
  const sizes = smoke
    ? [[10, 1, 1]]
    : [
        [100, 5, 5],
        [1000, 5, 5],
        [10000, 5, 0],
      ];
  for (const backend of ["nft", "iptables"]) {
    for (const kind of ["forwards", "links"]) {
      let manualPer = undefined;
      for (const [n, reps, manualReps] of sizes) {
        const script = qwireScript(kind, n, backend === "nft" ? "4.2" : "4.1");
        const cmds = manualCommands(kind, n, backend);
        const boot = [];
        const apply = [];
        const m = [];
        for (let i = 0; i < Math.max(reps, manualReps); i++) {
          if (i < reps) {
            const t = timeScript(script, backend);
            boot.push(t.boot);
            apply.push(t.apply);
          }
          if (i < manualReps) m.push(timeManual(cmds, backend));
        }
        const qs = median(boot);
        const as = median(apply);
        const ms = m.length > 0 ? median(m) : manualPer * n;
        if (m.length > 0) manualPer = ms / n;
        rows.push({
          backend: backend === "nft" ? "nft (R4.2)" : "iptables (R4.1)",
          what: `${n} ${kind}`,
          "qwire boot hook": fmt(qs),
          "qwire 1st apply": fmt(as),
          "manual way": `${fmt(ms)}${m.length > 0 ? "" : " (extrapolated)"}`,
          "ratio (boot)": times(ms / qs),
          "ratio (apply)": times(ms / as),
          reps: `${boot.length}/${m.length}`,
        });
      }
    }
  }
  table(
    "Load: qwire's script vs one command per rule (fresh namespace with the Qubes base rules each time; median; reps qwire/manual).\n" +
      "Boot hook: a reboot of an applied qube (it loads; its record in /rw spares it listing the ruleset). " +
      "1st apply: `--salt` with no record (it loads, then lists what is live to record it).",
    rows,
  );
}

if (inNamespaces && runs("connections")) {
  const rows = [];
  const sizes = smoke ? [10] : [10, 1000, 5000];
  const reps = smoke ? 1 : 5;
  const seconds = smoke ? 0.5 : 2;
  for (const kind of ["forwards", "links"]) {
    // Every repetition measures every size, so that "vs 10" compares cells
    // measured minutes apart as little as the pairs do (the machine's load drifts).
    const runs = sizes.map(() => []);
    for (let i = 0; i < reps; i++) sizes.forEach((n, j) => runs[j].push(connectionPair(kind, n, seconds)));
    let base;
    for (const [j, n] of sizes.entries()) {
      const q = median(runs[j].map((r) => r.qwire));
      const l = median(runs[j].map((r) => r.linear));
      base ??= q;
      rows.push({
        rules: `${n} ${kind}`,
        "qwire (sets, maps)": `${q.toFixed(0)}/s`,
        "vs 10": `${((q / base - 1) * 100).toFixed(0)}%`,
        "one rule (pair) each": `${l.toFixed(0)}/s`,
        "qwire / one each": `${(q / l).toFixed(2)}x`,
        reps,
      });
    }
  }
  table(
    `New connections/s matching the last rule (${seconds} s of connect+reset per cell, python3 client; median): ` +
      "forwards from the LAN through sys-net's DNAT, links from one app qube to another through sys-firewall",
    rows,
  );
}

if (runs("compile")) {
  const rows = [];
  const sizes = smoke
    ? [[10, 20, 1]]
    : [
        [1000, 2000, 5],
        [5000, 2000, 5],
        [10000, 2000, 5],
      ];
  let t1k;
  for (const [n, q, reps] of sizes) {
    const { text, qubes } = compileScenario(n, q);
    const runs = Array.from({ length: reps }, () => timeBuild(text));
    const s = median(runs.map((r) => r.s));
    if (n === 1000) t1k = s;
    rows.push({
      intents: n,
      qubes,
      "qwire build (whole process)": fmt(s),
      "peak RSS": `${median(runs.map((r) => r.mib)).toFixed(0)} MiB`,
      "t / t(1k)": t1k === undefined ? "-" : (s / t1k).toFixed(1),
      reps,
    });
  }
  table("Compile: `qwire build` as a process, half forwards and half links over 20 firewalls (median)", rows);
}
