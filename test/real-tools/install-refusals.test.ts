/**
 * install.sh's refusals, run for real with /bin/sh in a private mount
 * namespace shaped like dom0 where it matters before any Qubes tool runs:
 * /etc/qubes-release (an overlay on /etc), and tmpfs on /srv, /var/lib and
 * /var/log, so nothing reaches this machine. Every case here stops before
 * install.sh calls qubesctl, so `qubesctl` is only a recorder that proves
 * it was never called (what install.sh does with the real qubesctl, Salt
 * and qubesadmin is tested in test/real-stack/ with the twin).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";
import { inDom0 } from "../helpers/fake-dom0.js";
import { removeDir, tempDir, writeBundle, writeExecutable } from "../helpers/tools.js";
import { LAN_WEB } from "./scenarios.js";

const { artifacts } = compileOk(LAN_WEB.yaml);
const planJson = artifacts.find((a) => a.path === "plan.json")!.content;
const digest = createHash("sha256").update(planJson).digest("hex");
const script = artifacts.find((a) => a.path.startsWith("salt/qwire/files/") && a.path.endsWith("50-qwire"))!.path;

let root = "";
let n = 0;
/** A fresh copy of the bundle, changed by `spoil` (shell, run inside it). */
async function bundle(spoil = ""): Promise<string> {
  const dir = join(root, `bundle-${n++}`);
  await writeBundle(artifacts, dir);
  if (spoil !== "") await execa("/bin/sh", ["-c", spoil], { cwd: dir });
  return dir;
}

beforeAll(async () => {
  root = await tempDir("refusals");
});
afterAll(async () => {
  await removeDir(root);
});

describe("install.sh verifies the bundle before it touches /srv", () => {
  it("an intact bundle passes and install.sh prints the digest qwire build printed (the sha256 of plan.json)", async () => {
    const r = await inDom0(await bundle(), 'sh "$BUNDLE/install.sh"');
    expect(r.stdout).toContain(`bundle digest: sha256 ${digest}`);
    expect(r.stdout).toMatch(/every file matches SHA256SUMS/);
    // Past verification it goes on to qubesctl (here only recorded).
    expect(r.qubesctlCalls).toMatch(/^top\.enable qwire saltenv=user$/m);
  });

  it.each([
    ["a script with one byte changed", `printf x >>${script}`, new RegExp(`${script} does not match its sha256`)],
    [
      "a truncated script",
      `head -c 100 ${script} >t && cat t >${script} && rm t`,
      new RegExp(`${script} does not match its sha256`),
    ],
    [
      "a truncated plan.json",
      "head -c 500 plan.json >t && mv t plan.json",
      /plan\.json does not list the sha256 of SHA256SUMS/,
    ],
    [
      "a truncated SHA256SUMS",
      "head -n 3 SHA256SUMS >t && mv t SHA256SUMS",
      /SHA256SUMS does not match the sha256 in plan\.json/,
    ],
    ["a missing state", "rm salt/qwire/dom0.sls", /salt\/qwire\/dom0\.sls is missing/],
    ["a missing plan.json", "rm plan.json", /plan\.json is missing/],
    [
      "a file the bundle does not list",
      "echo hi >salt/qwire/extra.sls",
      /salt\/qwire\/extra\.sls is not part of the bundle/,
    ],
    [
      "a symlink in place of a listed file",
      "rm README.md && ln -s /etc/passwd README.md",
      /README\.md is missing from the bundle \(or is not a plain file\)/,
    ],
  ])(
    "%s: refused (exit 1) naming it; nothing in /srv or /var/lib/qwire but the lock, no qubesctl",
    async (_what, spoil, message) => {
      const r = await inDom0(await bundle(spoil), 'sh "$BUNDLE/install.sh"');
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/install\.sh: refused: /);
      expect(r.stderr).toMatch(message);
      expect(r.left).toBe("/srv/user_pillar\n/srv/user_salt\n/var/lib/qwire\n/var/lib/qwire/lock\n");
      expect(r.qubesctlCalls).toBe("");
    },
  );

  it("a bundle for another release than /etc/qubes-release: refused, naming both and the fix", async () => {
    const r = await inDom0(await bundle(), 'sh "$BUNDLE/install.sh"', { release: "4.3" });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /this bundle is for Qubes R4\.2, but this dom0 is R4\.3 \(\/etc\/qubes-release\); set release: "4\.3" in qwire\.yaml/,
    );
    expect(r.qubesctlCalls).toBe("");
  });

  it("a second install.sh while one runs (holding the lock): refused, nothing copied", async () => {
    const r = await inDom0(
      await bundle(),
      'mkdir -p /var/lib/qwire && flock /var/lib/qwire/lock sh "$BUNDLE/install.sh"',
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/another install\.sh is running/);
    expect(r.left).toBe("/srv/user_pillar\n/srv/user_salt\n/var/lib/qwire\n/var/lib/qwire/lock\n");
    expect(r.qubesctlCalls).toBe("");
  });

  it("--rollback with no earlier bundle kept: refused", async () => {
    const r = await inDom0(await bundle(), 'sh "$BUNDLE/install.sh" --rollback');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/there is no earlier bundle to roll back to/);
    expect(r.qubesctlCalls).toBe("");
  });

  it.each([["--uninstall", "--dry-run"], ["--uninstall", "--all"], ["--rollback", "--uninstall"], ["--force"]])(
    "%s %s: usage error (exit 2)",
    async (...args) => {
      const r = await inDom0(await bundle(), `sh "$BUNDLE/install.sh" ${args.join(" ")}`);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/usage/);
      expect(r.qubesctlCalls).toBe("");
    },
  );
});

describe("an install.sh killed while it copies", () => {
  it("leaves no partial tree in a Salt root, and the next run says so and installs the whole bundle", async () => {
    const dir = await bundle();
    // cp killing its caller (SIGKILL: no trap runs) when the pillar tree is copied, after the states were staged.
    const killer = '#!/bin/sh\ncase "$*" in *pillar/qwire*) kill -KILL "$PPID"; exit 1 ;; esac\nexec /bin/cp "$@"\n';
    const killerDir = join(root, "killer");
    await writeExecutable(join(killerDir, "cp"), killer);
    const r = await inDom0(
      dir,
      [
        `PATH=${killerDir}:$PATH sh "$BUNDLE/install.sh"; echo "first=$?"`,
        'echo "roots after the kill:"; find /srv/user_salt /srv/user_pillar -mindepth 1 -maxdepth 1',
        'sh "$BUNDLE/install.sh"; echo "second=$?"',
        'diff -r "$BUNDLE/salt/qwire" /srv/user_salt/qwire && diff -r "$BUNDLE/pillar/qwire" /srv/user_pillar/qwire && echo trees-match',
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/first=137/);
    // Nothing of qwire's in a Salt root after the kill: the states were staged in /srv/.qwire-staging.
    expect(r.stdout).toMatch(/roots after the kill:\n(?!\/srv\/user_)/);
    expect(r.stdout).toMatch(/The last install\.sh run did not finish/);
    expect(r.stdout).toMatch(/trees-match/);
    expect(r.left).not.toMatch(/qwire-staging/);
    expect(r.left).not.toMatch(/\/var\/lib\/qwire\/\.(incoming|outgoing)/);
  });
});

describe("the bundle's own listing", () => {
  it("SHA256SUMS is what sha256sum -c accepts, and lists every file but plan.json and itself", async () => {
    const dir = await bundle();
    const r = await execa("sha256sum", ["-c", "--strict", "SHA256SUMS"], { cwd: dir, reject: false });
    expect(r.exitCode).toBe(0);
    const listed = (await readFile(join(dir, "SHA256SUMS"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => l.slice(66))
      .sort();
    expect(listed).toEqual(
      artifacts
        .map((a) => a.path)
        .filter((p) => p !== "plan.json" && p !== "SHA256SUMS")
        .sort(),
    );
  });
});
