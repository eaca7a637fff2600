// The whole `qwire build` process (start-up, compile, write the bundle) on
// qwire.yaml files of growing size, with the process's peak RSS.
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const CLI = new URL("../dist/cli.js", import.meta.url).pathname;
/** Prints the process's peak RSS (KiB) on stderr when it exits. */
const PEAK = `data:text/javascript,${encodeURIComponent('process.on("exit", () => process.stderr.write(`qwbench-maxrss ${process.resourceUsage().maxRSS}\\n`));')}`;

/** `n` intents (half forwards into sys-net, half links) over `q` qubes: sys-net, `f` firewalls, app qubes behind them. */
export function compileScenario(n, q, f = q >= 200 ? 20 : 2) {
  const apps = Math.max(f, Math.floor((q - f - 1) / f) * f);
  const lines = ["version: 1", 'release: "4.2"', "qubes:", "  sys-net: { provides_network: true, uplink: ens6 }"];
  for (let k = 0; k < f; k++) lines.push(`  sys-fw-${k}: { netvm: sys-net, provides_network: true }`);
  for (let a = 0; a < apps; a++) lines.push(`  app-${a}: { netvm: sys-fw-${a % f} }`);
  const forwards = Math.ceil(n / 2);
  lines.push("forwards:");
  for (let i = 0; i < forwards; i++) {
    lines.push(
      `  - { name: f-${i}, to: app-${i % apps}, port: ${1000 + Math.floor(i / apps)}, external_port: ${10000 + i}, from: [192.168.${i % 250}.0/24] }`,
    );
  }
  lines.push("links:");
  for (let i = 0; i < n - forwards; i++) {
    const a = i % apps;
    lines.push(
      `  - { name: l-${i}, from: app-${a}, to: app-${(a + f * (1 + Math.floor(i / apps))) % apps}, ports: [${2000 + (i % 100)}] }`,
    );
  }
  return { text: lines.join("\n") + "\n", qubes: apps + f + 1 };
}

/**
 * Where the bundles are written: tmpfs (/dev/shm) when there is one, as the
 * goal is stated, so that the table times qwire and not a disk's write-back
 * of 50 MB; the system's temporary folder otherwise.
 */
function scratchRoot() {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

/** Wall seconds and peak RSS (MiB) of one `qwire build` process. */
export function timeBuild(text) {
  const dir = mkdtempSync(join(scratchRoot(), "qwbench-build-"));
  try {
    writeFileSync(join(dir, "qwire.yaml"), text);
    const t0 = performance.now();
    const r = spawnSync("node", ["--import", PEAK, CLI, "build", "qwire.yaml", "-o", "out"], {
      cwd: dir,
      encoding: "utf8",
    });
    const s = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`qwire build failed (${r.status}): ${r.stderr}`);
    const kib = Number(/qwbench-maxrss (\d+)/.exec(r.stderr)?.[1] ?? NaN);
    return { s, mib: kib / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
