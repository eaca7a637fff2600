/**
 * install.sh run for real with /bin/sh outside dom0 (this machine has no
 * /etc/qubes-release): it must refuse with exit 1 and a message saying so,
 * before it writes anything to /srv or calls qubesctl. It runs in a private
 * mount namespace with a tmpfs on /srv, so a regression could never write
 * to this machine's /srv, and whatever it wrote there is listed.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";
import { SYSTEM_PATH, removeDir, tempDir, writeBundle, writeExecutable } from "../helpers/tools.js";
import { LAN_WEB } from "./scenarios.js";

/** Runs the bundle's install.sh with `args`; returns its result, what it left in /srv and the qubesctl calls. */
async function runInstall(bundle: string, args: readonly string[], opts: { stubQubesctl: boolean }) {
  const state = await tempDir("install");
  try {
    const bin = join(state, "bin");
    if (opts.stubQubesctl)
      await writeExecutable(join(bin, "qubesctl"), '#!/bin/sh\nprintf \'%s\\n\' "$*" >>"$QWT_STATE/qubesctl-calls"\n');
    const srvListing = join(state, "srv-listing");
    const r = await execa(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        'mount -t tmpfs qwt-srv /srv || exit 99; listing=$1; shift; sh "$@"; rc=$?; find /srv -mindepth 1 >"$listing"; exit $rc',
        "qwt",
        srvListing,
        join(bundle, "install.sh"),
        ...args,
      ],
      { reject: false, cwd: "/", extendEnv: false, env: { PATH: `${bin}:${SYSTEM_PATH}`, QWT_STATE: state } },
    );
    return {
      exitCode: r.exitCode,
      stdout: r.stdout,
      stderr: r.stderr,
      wroteToSrv: await readFile(srvListing, "utf8").catch(() => "(no listing: the wrapper failed)"),
      qubesctlCalls: await readFile(join(state, "qubesctl-calls"), "utf8").catch(() => ""),
    };
  } finally {
    await removeDir(state);
  }
}

let bundle = "";
beforeAll(async () => {
  bundle = await tempDir("bundle");
  await writeBundle(compileOk(LAN_WEB.yaml).artifacts, bundle);
});
afterAll(async () => {
  await removeDir(bundle);
});

describe("install.sh outside dom0", () => {
  it("the premise holds: this machine is not dom0", () => {
    expect(existsSync("/etc/qubes-release")).toBe(false);
    expect(existsSync("/srv")).toBe(true);
  });

  it.each([
    ["no argument, no qubesctl", [], false],
    ["--dry-run, no qubesctl", ["--dry-run"], false],
    ["no argument, a qubesctl on PATH", [], true],
    ["--dry-run, a qubesctl on PATH", ["--dry-run"], true],
  ] as const)(
    "%s: exits 1 saying it is not dom0, writes nothing to /srv, never calls qubesctl",
    async (_what, args, stubQubesctl) => {
      const r = await runInstall(bundle, args, { stubQubesctl });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/not dom0/);
      expect(r.stdout).toBe("");
      expect(r.wroteToSrv).toBe("");
      expect(r.qubesctlCalls).toBe("");
    },
  );

  it("an unknown option is a usage error (exit 2), before any check or write", async () => {
    const r = await runInstall(bundle, ["--force"], { stubQubesctl: true });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/usage/);
    expect(r.wroteToSrv).toBe("");
    expect(r.qubesctlCalls).toBe("");
  });
});
