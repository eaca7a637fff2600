/**
 * `npm run bench` at a tiny size (QWIRE_BENCH=smoke): every table is printed
 * with a row per case. A smoke test only: nothing here looks at a time.
 */
import { spawnSync } from "node:child_process";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const RUN = new URL("../bench/run.js", import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;

describe("bench/run.js", () => {
  it("prints the load, connection and compile tables", { timeout: 300_000 }, async () => {
    const r = await execa("node", [RUN], { env: { QWIRE_BENCH: "smoke" }, reject: false });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^machine: .+, \d+ cores, node v\d+\.\d+\.\d+, `node -e 0` [0-9.]+ m?s$/m);
    // The bench skips the namespace tables when a tool is missing, naming it: it must really be missing.
    const missing = /tables skipped: (.+) not installed/.exec(r.stdout)?.[1]?.split(", ") ?? [];
    for (const tool of missing) expect(spawnSync("sh", ["-c", 'command -v "$1"', "sh", tool]).status).not.toBe(0);
    if (isRoot && missing.length === 0) {
      expect(r.stdout).toContain("Load: qwire's script vs one command per rule");
      for (const row of [
        "| nft (R4.2)      | 10 forwards |",
        "| nft (R4.2)      | 10 links    |",
        "| iptables (R4.1) | 10 forwards |",
        "| iptables (R4.1) | 10 links    |",
      ]) {
        expect(r.stdout).toContain(row);
      }
      expect(r.stdout).toContain("New connections/s matching the last rule");
      for (const kind of ["forwards", "links"]) {
        expect(r.stdout).toMatch(new RegExp(`\\| 10 ${kind} +\\| \\d+/s +\\| 0% +\\| \\d+/s +\\|`));
      }
    } else if (!isRoot) {
      console.warn("bench smoke: not root, so the load tables are skipped (the bench says so)");
      expect(r.stdout).toContain("load and connections tables skipped: they need root");
    } else {
      console.warn(`bench smoke: ${missing.join(", ")} missing, so the load tables are skipped (the bench says so)`);
    }
    expect(r.stdout).toContain("Compile: `qwire build` as a process");
    expect(r.stdout).toMatch(/\| 10 +\| 19 +\| [0-9.]+ m?s +\| \d+ MiB/);
  });
});
