/**
 * `qwire plan` (dist/cli.js, run as a user would): what a build would change
 * against the bundle applied now, and its exit status (0 nothing changes,
 * 4 something does) that scripts and CI gate on.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const CLI = new URL("../dist/cli.js", import.meta.url).pathname;
const qwire = (args: string[], cwd: string) => execa("node", [CLI, ...args], { cwd, reject: false });

const BASE = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  mail: { netvm: sys-firewall }
  dev: { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
  - { name: mail-submission, to: mail, port: 587, from: [192.168.1.0/24] }
links:
  - { from: dev, to: web, ports: [22] }
firewall:
  web: { policy: drop, rules: ["accept dsthost=192.0.2.10 proto=tcp dstports=443"] }
`;

let dir: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "qwire-plan-"));
  writeFileSync(join(dir, "qwire.yaml"), BASE);
  expect((await qwire(["build", "-o", "out"], dir)).exitCode).toBe(0);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("qwire plan", () => {
  it("the file that built the bundle: nothing changes, no qube targeted, exit 0", async () => {
    const r = await qwire(["plan"], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/install\.sh will target no qube \(of 4\)/);
    expect(r.stdout).toMatch(/nothing changes \(exit 0\)/);
    // The digest it announces is the one the build wrote.
    const digest = createHash("sha256")
      .update(readFileSync(join(dir, "out", "plan.json")))
      .digest("hex");
    expect(r.stdout).toContain(`sha256 ${digest}`);
  });

  it("one intent changed: that intent's words per qube on its path, exactly those qubes as targets, exit 4", async () => {
    writeFileSync(
      join(dir, "qwire.yaml"),
      BASE.replace("port: 587, from: [192.168.1.0/24]", "port: 587, from: [192.168.7.0/24]"),
    );
    const r = await qwire(["plan", "--against", "out/plan.json"], dir);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toMatch(
      /^mail:\n {2}~ forward mail-submission: accept tcp 587 from 192\.168\.1\.0\/24.*\n {4}-> forward mail-submission: accept tcp 587 from 192\.168\.7\.0\/24/m,
    );
    expect(r.stdout).not.toMatch(/^web:/m);
    expect(r.stdout).toMatch(
      /install\.sh will target 3 of 4 qube\(s\)[^\n]*\n {2}mail: its files in the bundle changed\n {2}sys-firewall: .*\n {2}sys-net: .*\n/,
    );
    expect(r.stdout).toMatch(/dom0: no change/);
  });

  it("a deleted intent and an outbound rule: removed words, a teardown, dom0's changes; json says the same", async () => {
    writeFileSync(
      join(dir, "qwire.yaml"),
      BASE.replace(/ {2}- \{ name: mail-submission.*\n/, "").replace(
        'rules: ["accept dsthost=192.0.2.10 proto=tcp dstports=443"]',
        'rules: ["accept dsthost=192.0.2.11 proto=tcp dstports=443"]',
      ),
    );
    const r = await qwire(["plan", "--against", "out", "--format", "json"], dir);
    expect(r.exitCode).toBe(4);
    const report = JSON.parse(r.stdout) as {
      changed: boolean;
      teardowns: string[];
      targets: { qube: string; why: string }[];
      dom0: string[];
      qubes: { qube: string; removed: string[] }[];
    };
    expect(report.changed).toBe(true);
    expect(report.teardowns).toEqual(["mail"]);
    expect(report.targets).toContainEqual({ qube: "mail", why: "it no longer carries qwire rules: teardown" });
    expect(report.qubes.find((q) => q.qube === "mail")?.removed[0]).toMatch(/^forward mail-submission: /);
    expect(report.dom0.join("\n")).toMatch(/outbound list of web: .*added .*192\.0\.2\.11.*removed .*192\.0\.2\.10/);
  });

  it("no earlier bundle: everything is new, exit 4", async () => {
    const r = await qwire(["plan", "--against", "elsewhere"], dir);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toMatch(/note: no previous bundle/);
  });

  it("--against a file that is not qwire's plan.json: usage error (exit 2)", async () => {
    writeFileSync(join(dir, "plan.json"), "{}");
    const r = await qwire(["plan", "--against", "plan.json"], dir);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is not a plan\.json written by qwire/);
  });

  it("errors in qwire.yaml: exit 1, no report", async () => {
    writeFileSync(join(dir, "qwire.yaml"), BASE.replace("port: 587", "port: 70000"));
    const r = await qwire(["plan"], dir);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
  });
});
