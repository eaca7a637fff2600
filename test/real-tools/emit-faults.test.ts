/**
 * Emit under real faults: the bundle folder is always the previous bundle or
 * the complete new one, never a mix, and the next build never refuses it and
 * still sees the previous plan.json (so teardowns are not lost).
 * - SIGKILL: the real CLI, run under strace, is killed on entry to one chosen
 *   file operation of emit (strace -e inject=SYSCALL:signal=SIGKILL:when=N);
 *   the points are read from a traced run. All of them with
 *   QWIRE_EMIT_FAULTS=all, a spread of them (every rename included) otherwise.
 * - full disk: a real tmpfs of a few KiB (and one with few inodes), every size
 *   from "the first build does not fit" to "both fit".
 * - read-only: the tmpfs remounted read-only, and the output folder itself a
 *   read-only bind mount.
 * Needs root (mount), /usr/bin/strace; skips with a message otherwise.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { emit, EmitError } from "../../src/emit/index.js";
import { buildInto, expectedBundle, snapshotDir, type BundleSnapshot } from "../helpers/bundle-dir.js";
import { removeDir, tempDir, writeBundle } from "../helpers/tools.js";

const CLI = new URL("../../dist/cli.js", import.meta.url).pathname;
const STRACE = "/usr/bin/strace";

const NET = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  mail: { netvm: sys-firewall }
  dev: { netvm: sys-firewall }
`;
/** The previous build: forwards to web and mail. */
const A = `${NET}forwards:
  - { to: web, port: 443, from: [192.168.1.0/24] }
  - { to: mail, port: 587, from: [192.168.1.0/24] }
`;
/** The new build: mail loses its rules (a teardown, read from A's plan.json), dev gains a link. */
const B = `${NET}forwards:
  - { to: web, port: 443, from: [192.168.1.0/24] }
links:
  - { from: dev, to: web, ports: [22] }
`;

const bundleA = expectedBundle(A);
const afterA = expectedBundle(B, bundleA.artifacts);
const afterB = expectedBundle(B, afterA.artifacts);

async function probeMount(): Promise<string | undefined> {
  const dir = await tempDir("mount-probe");
  try {
    const r = await execa("mount", ["-t", "tmpfs", "-o", "size=4k", "tmpfs", dir], { reject: false });
    if (r.exitCode !== 0) return `cannot mount a tmpfs (${r.stderr.trim() || "not root?"})`;
    await execa("umount", [dir]);
    return undefined;
  } finally {
    await removeDir(dir);
  }
}
const NO_MOUNT = await probeMount();
if (NO_MOUNT) console.warn(`SKIPPED: emit full-disk and read-only tests: ${NO_MOUNT}`);
const NO_STRACE = existsSync(STRACE) ? undefined : `${STRACE} is missing (apt-get install strace)`;
if (NO_STRACE) console.warn(`SKIPPED: emit SIGKILL tests: ${NO_STRACE}`);

/** Which build the folder holds: "A", "B" (over A), or a description of what is wrong. */
function whichBundle(s: BundleSnapshot): string {
  if (same(s, bundleA.snapshot)) return "A";
  if (same(s, afterA.snapshot)) return "B";
  return `a mix: ${Object.keys(s).length} files, ${
    Object.keys(s)
      .filter((p) => s[p] !== bundleA.snapshot[p] && s[p] !== afterA.snapshot[p])
      .join(", ") || "files missing"
  }`;
}
const same = (x: BundleSnapshot, y: BundleSnapshot) => JSON.stringify(x) === JSON.stringify(y);

const STEP = process.env.QWIRE_EMIT_FAULTS === "all" ? 1 : 3;

const siblings = async (parent: string) => (await readdir(parent)).filter((n) => n !== "out").sort();

let root = "";
beforeAll(async () => {
  root = await tempDir("emit-faults");
});
afterAll(async () => {
  await removeDir(root);
});

describe("the fixtures", () => {
  it("B over A tears mail down, B over B does not: the next build must have read the right plan.json", () => {
    expect(
      (JSON.parse(afterA.artifacts.find((a) => a.path === "plan.json")!.content) as { teardowns: string[] }).teardowns,
    ).toEqual(["mail"]);
    expect(
      (JSON.parse(afterB.artifacts.find((a) => a.path === "plan.json")!.content) as { teardowns: string[] }).teardowns,
    ).toEqual([]);
  });
});

interface KillPoint {
  readonly syscall: string;
  /** Ordinal of this syscall in the thread that does emit's file operations. */
  readonly when: number;
  readonly line: string;
}

/**
 * Emit's file operations in a traced build of B over A: emit makes them as
 * synchronous calls, so they all happen, in order, in the thread that makes
 * the staging folder (strace counts per thread and per syscall). One libuv
 * worker thread keeps the other threads' calls (reading plan.json) few.
 */
async function killPoints(dir: string): Promise<KillPoint[]> {
  const out = join(dir, "out");
  await writeBundle(bundleA.artifacts, out);
  const trace = join(dir, "trace");
  await execa(
    STRACE,
    [
      "-f",
      "-qq",
      "-o",
      trace,
      "-e",
      "trace=openat,mkdir,write,fchmod,rename,unlink,rmdir",
      "node",
      CLI,
      "build",
      join(root, "B.yaml"),
      "-o",
      out,
    ],
    {
      env: { UV_THREADPOOL_SIZE: "1" },
    },
  );
  const lines = (await import("node:fs")).readFileSync(trace, "utf8").split("\n");
  const counts = new Map<string, number>();
  const points: KillPoint[] = [];
  let worker: string | undefined;
  for (const line of lines) {
    // strace pads the pid to five columns ("%-5d "): a 4-digit pid, as on a freshly booted machine, is followed by two spaces.
    const m = /^(\d+) +(\w+)\(/.exec(line); // a call, complete or <unfinished ...>; "<... x resumed>" lines are not counted
    if (!m) continue;
    const [, tid, syscall] = m as unknown as [string, string, string];
    const key = `${tid} ${syscall}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (worker === undefined && syscall === "mkdir" && line.includes(`${out}.qwire-new-`)) worker = tid;
    if (worker === undefined || tid !== worker) continue;
    if (syscall === "write" && /^\d+ +write\(\d+, "\\1\\0\\0\\0\\0\\0\\0\\0", 8/.test(line)) continue; // libuv's wake-up, not a file
    if (syscall === "openat" && !line.includes(out)) continue;
    points.push({ syscall, when: counts.get(key)!, line: line.slice(0, 140) });
  }
  await removeDir(out);
  return points;
}

/** Every rename and the operation after each, plus an even spread, about 9 in all. */
function spread(points: readonly KillPoint[]): KillPoint[] {
  if (process.env.QWIRE_EMIT_FAULTS === "all") return [...points];
  const keep = new Set<number>();
  points.forEach((p, i) => {
    if (p.syscall === "rename") [i, i + 1].forEach((j) => keep.add(j));
  });
  const step = Math.max(1, Math.floor(points.length / 4));
  for (let i = 0; i < points.length; i += step) keep.add(i);
  keep.add(points.length - 1);
  return [...keep]
    .filter((i) => i < points.length)
    .sort((a, b) => a - b)
    .map((i) => points[i]!);
}

describe.skipIf(NO_STRACE !== undefined)("a build killed (SIGKILL) during emit", () => {
  it("leaves A, or B whole, or A whole beside the folder; the next build repairs it, reads the right plan.json and leaves nothing behind", async () => {
    await writeFile(join(root, "B.yaml"), B);
    // cli-errors.test.ts rebuilds dist/ while the suite runs: a traced run that overlapped it is traced again.
    let points = await killPoints(join(root, "trace-run"));
    for (let attempt = 1; attempt < 3 && points.filter((p) => p.syscall === "rename").length !== 2; attempt++) {
      console.warn(`emit SIGKILL: the traced run showed ${points.length} file operations and no swap; tracing again`);
      points = await killPoints(join(root, `trace-run-${attempt}`));
    }
    // The traced run did write files, rename twice and delete the old bundle; else the parsing above is wrong.
    expect(
      points.filter((p) => p.syscall === "rename"),
      `kill points read from the trace:\n${points.map((p) => p.line).join("\n")}`,
    ).toHaveLength(2);
    expect(points.filter((p) => p.syscall === "fchmod").length).toBe(afterA.artifacts.length);
    const chosen = spread(points);
    const failures: string[] = [];
    const seen = new Map<string, number>();
    let n = 0;
    for (const p of chosen) {
      const dir = join(root, `kill-${n++}`);
      const out = join(dir, "out");
      await writeBundle(bundleA.artifacts, out);
      const r = await execa(
        STRACE,
        [
          "-f",
          "-qq",
          "-o",
          "/dev/null",
          "-e",
          `trace=${p.syscall}`,
          "-e",
          `inject=${p.syscall}:signal=SIGKILL:when=${p.when}`,
          "node",
          CLI,
          "build",
          join(root, "B.yaml"),
          "-o",
          out,
        ],
        { env: { UV_THREADPOOL_SIZE: "1" }, reject: false },
      );
      const killed = r.signal === "SIGKILL" || r.exitCode === 137;
      let state: string;
      if (existsSync(out)) state = whichBundle(await snapshotDir(out));
      else {
        const old = (await siblings(dir)).find((s) => /^out\.qwire-old-\d+$/.test(s));
        state =
          old && whichBundle(await snapshotDir(join(dir, old))) === "A"
            ? "A aside (killed between the two renames)"
            : `no bundle: ${(await siblings(dir)).join(" ")}`;
      }
      seen.set(
        `${killed ? "killed" : "not killed"}, left ${state}`,
        (seen.get(`${killed ? "killed" : "not killed"}, left ${state}`) ?? 0) + 1,
      );
      const where = `kill at ${p.syscall} #${p.when} (${p.line})`;
      if (!["A", "B", "A aside (killed between the two renames)"].includes(state))
        failures.push(`${where}: left ${state}`);
      try {
        await buildInto(B, out);
        const next = await snapshotDir(out);
        const expected = state === "B" ? afterB.snapshot : afterA.snapshot;
        if (!same(next, expected))
          failures.push(`${where}: the next build gave ${whichBundle(next)}, not B over ${state === "B" ? "B" : "A"}`);
        const left = await siblings(dir);
        if (left.length > 0) failures.push(`${where}: the next build left ${left.join(" ")}`);
      } catch (e) {
        failures.push(`${where}: the next build failed: ${String(e)}`);
      }
      await removeDir(dir);
    }
    console.log(
      `emit SIGKILL: ${chosen.length} of ${points.length} kill points tried: ${[...seen].map(([k, v]) => `${v} ${k}`).join("; ")}`,
    );
    expect(failures).toEqual([]);
    // Most points are reached (a point past the end of the run is a build that finished, which is legal but tests nothing).
    expect([...seen].filter(([k]) => k.startsWith("killed")).reduce((s, [, v]) => s + v, 0)).toBeGreaterThanOrEqual(
      chosen.length - 1,
    );
    // Each of the three states was produced at least once.
    for (const s of ["A", "B", "A aside (killed between the two renames)"])
      expect(
        [...seen.keys()].some((k) => k === `killed, left ${s}`),
        s,
      ).toBe(true);
  });
});

describe.skipIf(NO_MOUNT !== undefined)("full disk and read-only folders (real tmpfs)", () => {
  const mounted: string[] = [];
  const mountTmpfs = async (dir: string, options: string) => {
    await mkdir(dir, { recursive: true });
    await execa("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
    mounted.push(dir);
  };
  afterEach(async () => {
    for (const dir of mounted.reverse()) await execa("umount", ["-l", dir], { reject: false });
    mounted.length = 0;
  });

  /**
   * A then B into a fresh tmpfs of each size in turn (emit only: the compile is
   * not what is tested), until B has been written twice in a row. Every size
   * with QWIRE_EMIT_FAULTS=all, every third one otherwise.
   */
  async function fullDiskSweep(
    label: string,
    options: (i: number) => string,
  ): Promise<{ outcomes: Map<string, number>; failures: string[] }> {
    const outcomes = new Map<string, number>();
    const failures: string[] = [];
    let written = 0;
    for (let i = 1; written < 2 && i < 400; i += STEP) {
      const dir = join(root, `${label}-${i}`);
      await mountTmpfs(dir, options(i));
      const out = join(dir, "out");
      let outcome: string;
      try {
        emit(out, bundleA.artifacts);
        try {
          emit(out, afterA.artifacts);
          outcome = "B written";
          if (whichBundle(await snapshotDir(out)) !== "B")
            failures.push(`${options(i)}: B reported written but the folder is ${whichBundle(await snapshotDir(out))}`);
        } catch (e) {
          outcome = "B refused, A kept";
          if (
            !(e instanceof EmitError) ||
            !/: ENOSPC \(no space left on the device\); .* is unchanged$/.test(e.message)
          )
            failures.push(`${options(i)}: second build threw ${String(e)}`);
          const state = whichBundle(await snapshotDir(out));
          if (state !== "A") failures.push(`${options(i)}: after a full disk the folder is ${state}`);
          // Room again: the same folder is taken, and B replaces A.
          await execa("mount", ["-o", "remount,size=1m,nr_inodes=1000", dir]);
          emit(out, afterA.artifacts);
          if (whichBundle(await snapshotDir(out)) !== "B")
            failures.push(`${options(i)}: with room again the folder is not B`);
        }
      } catch (e) {
        outcome = "A refused, nothing written";
        if (!(e instanceof EmitError) || !/: ENOSPC \(no space left on the device\); .* is unchanged$/.test(e.message))
          failures.push(`${options(i)}: first build threw ${String(e)}`);
        if (existsSync(out)) failures.push(`${options(i)}: a failed first build left ${out}`);
      }
      written = outcome === "B written" ? written + 1 : 0;
      const left = await siblings(dir);
      if (left.length > 0) failures.push(`${options(i)}: left ${left.join(" ")}`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      await execa("umount", [dir]);
      mounted.pop();
    }
    return { outcomes, failures };
  }

  it("a full disk (tmpfs sizes from too small for A to room for both) keeps A or writes B, never a mix", async () => {
    const { outcomes, failures } = await fullDiskSweep("size", (i) => `size=${4 * i}k`);
    console.log(`emit full disk (size): ${[...outcomes].map(([k, v]) => `${v} ${k}`).join("; ")}`);
    expect(failures).toEqual([]);
    expect([...outcomes.keys()].sort()).toEqual(["A refused, nothing written", "B refused, A kept", "B written"]);
  });

  it("running out of inodes (counts from 1 up) keeps A or writes B, never a mix", async () => {
    const { outcomes, failures } = await fullDiskSweep("inodes", (i) => `size=1m,nr_inodes=${i}`);
    console.log(`emit full disk (inodes): ${[...outcomes].map(([k, v]) => `${v} ${k}`).join("; ")}`);
    expect(failures).toEqual([]);
    expect([...outcomes.keys()].sort()).toEqual(["A refused, nothing written", "B refused, A kept", "B written"]);
  });

  it("a read-only file system: the build is refused with EROFS, A is kept, and the build works once it is writable", async () => {
    const dir = join(root, "ro");
    await mountTmpfs(dir, "size=1m");
    const out = join(dir, "out");
    await buildInto(A, out);
    await execa("mount", ["-o", "remount,ro", dir]);
    await expect(buildInto(B, out)).rejects.toThrow(/EROFS \(the file system is read-only\); .* is unchanged/);
    expect(whichBundle(await snapshotDir(out))).toBe("A");
    await writeFile(join(root, "B.yaml"), B);
    const cli = await execa("node", [CLI, "build", join(root, "B.yaml"), "-o", out], { reject: false });
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr.trim()).toMatch(
      /^qwire: cannot write the new bundle beside .*out: EROFS \(the file system is read-only\); .*out is unchanged$/,
    );
    await execa("mount", ["-o", "remount,rw", dir]);
    await buildInto(B, out);
    expect(whichBundle(await snapshotDir(out))).toBe("B");
    expect(await siblings(dir)).toEqual([]);
  });

  it("an output folder that is itself a read-only mount: refused (it cannot be swapped), A kept, no leftovers", async () => {
    const dir = join(root, "ro-bind");
    await mountTmpfs(dir, "size=1m");
    const out = join(dir, "out");
    await buildInto(A, out);
    await execa("mount", ["--bind", out, out]);
    mounted.push(out);
    await execa("mount", ["-o", "remount,bind,ro", out]);
    await expect(buildInto(B, out)).rejects.toThrow(/cannot move .*out aside to replace it: EBUSY/);
    expect(whichBundle(await snapshotDir(out))).toBe("A");
    expect(await siblings(dir)).toEqual([]);
  });
});
