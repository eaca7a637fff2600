/**
 * The scripts' Salt mode (`--salt`, cmd.run with stateful: True), run for
 * real in network namespaces: stdout is exactly Salt's one verdict line;
 * `changed=no` only when the live ruleset already holds what the script
 * would load; lost rules (a flushed chain, a deleted jump, a flushed
 * ruleset) and changed addresses reload and report the change;
 * `--salt-test` (test=True) reports and loads nothing; a missing address
 * carries its reason into the comment. The record of what was loaded lives
 * in /rw: after a reboot the boot hook's load is not reported as a change,
 * and a loss after the boot still is. nft (R4.2) and iptables (R4.1)
 * scripts and both teardowns. Needs root, ip, unshare, nft and iptables.
 */
import { readFileSync } from "node:fs";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { iptablesBackend } from "../../src/render/backends/iptables.js";
import { nftBackend } from "../../src/render/backends/nft.js";
import { compileOk } from "../helpers/compile.js";
import { GOLDEN_DIR } from "../helpers/golden.js";
import {
  NetnsPool,
  installed,
  installedTeardown,
  listRuleset,
  nftIn,
  runInQube,
  type ScriptRun,
} from "../helpers/netns.js";
import { qubesIptablesRules } from "../../src/simulate/model/qubes-iptables.js";
import { addressesFile, removeDir, scriptOf, tempDir } from "../helpers/tools.js";
import { STUB_IPS, TWO_FORWARDS, build, standUpQube } from "./scenarios.js";

const pool = new NetnsPool();
const runDirs: string[] = [];
afterEach(async () => {
  await pool.deleteAll();
  for (const d of runDirs.splice(0)) await removeDir(d);
});

/** A qube's /run, kept across the runs of one test. */
async function qubeRun(): Promise<string> {
  const d = await tempDir("run");
  runDirs.push(d);
  return d;
}

/** A qube's /rw (its private volume: it outlives reboots), kept across the runs of one test. */
async function qubeRw(): Promise<string> {
  const d = await tempDir("rw");
  runDirs.push(d);
  return d;
}

/** The verdict of a Salt-mode run: stdout must be that one line and nothing else. */
function verdict(r: ScriptRun): { changed: string; comment: string } {
  const m = /^changed=(yes|no) comment='([^'=\n]*)'$/.exec(r.stdout);
  if (!m) throw new Error(`not one stateful line on stdout: ${JSON.stringify(r.stdout)} (stderr: ${r.stderr})`);
  return { changed: m[1]!, comment: m[2]! };
}

describe("nft script (R4.2) in Salt mode", () => {
  const built = build(TWO_FORWARDS.yaml);
  const script = scriptOf(built.artifacts, "sys-firewall");
  const ips = addressesFile({ db: STUB_IPS.db!, web: STUB_IPS.web! });

  it("loads once, then reports no change until the live rules or the addresses differ", async () => {
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const run = await qubeRun();
    const rw = await qubeRw();
    const salt = (addresses: string, args = ["--salt"]) =>
      runInQube(ns, installed(script), addresses, { args, run, rw });

    const first = await salt(ips);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(verdict(first)).toEqual({ changed: "yes", comment: "qwire rules of sys-firewall loaded" });
    const loaded = await listRuleset(ns);

    const again = await salt(ips);
    expect(verdict(again)).toEqual({ changed: "no", comment: "qwire rules of sys-firewall already loaded" });
    expect(await listRuleset(ns)).toBe(loaded);
    expect(verdict(await salt(ips, ["--salt-test"])).changed).toBe("no");

    // Lost rules: a flushed qwire chain; --salt-test reports without loading.
    await nftIn(ns, ["flush", "chain", "ip", "qubes", "qwire-forward"]);
    const flushed = await listRuleset(ns);
    expect(verdict(await salt(ips, ["--salt-test"]))).toEqual({
      changed: "yes",
      comment: "qwire rules of sys-firewall would be loaded",
    });
    expect(await listRuleset(ns)).toBe(flushed);
    expect(verdict(await salt(ips)).changed).toBe("yes");
    expect(await listRuleset(ns)).toBe(loaded);

    // Lost jump: Qubes' custom-forward lost the jump to qwire-forward.
    const handle = /jump qwire-forward # handle (\d+)/.exec(
      await nftIn(ns, ["-a", "list", "chain", "ip", "qubes", "custom-forward"]),
    )![1]!;
    await nftIn(ns, ["delete", "rule", "ip", "qubes", "custom-forward", "handle", handle]);
    expect(verdict(await salt(ips)).changed).toBe("yes");
    expect(await listRuleset(ns)).toBe(loaded);

    // An element deleted by hand from a qwire set.
    await nftIn(ns, ["flush", "set", "ip", "qubes", "qwire-link-ports"]);
    await nftIn(ns, ["add", "element", "ip", "qubes", "qwire-in-all", "{ 10.137.0.99 }"]);
    expect(verdict(await salt(ips)).changed).toBe("yes");
    expect(await listRuleset(ns)).toBe(loaded);

    // dom0 now reports another address for web.
    const moved = addressesFile({ db: STUB_IPS.db!, web: "10.137.0.77" });
    expect(verdict(await salt(moved)).changed).toBe("yes");
    expect(await listRuleset(ns)).toContain("10.137.0.77");
    expect(verdict(await salt(moved)).changed).toBe("no");

    // The same qube's rules gone with Qubes' tables fresh (a firewall restart): a new namespace, the same /run.
    const restarted = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    expect(verdict(await runInQube(restarted, installed(script), moved, { args: ["--salt"], run, rw })).changed).toBe(
      "yes",
    );
    expect(verdict(await runInQube(restarted, installed(script), moved, { args: ["--salt"], run, rw })).changed).toBe(
      "no",
    );
  });

  it("after a reboot the boot hook loads and the next apply reports no change, yet still sees what is lost", async () => {
    const run = await qubeRun();
    const rw = await qubeRw();
    const applied = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    expect(verdict(await runInQube(applied, installed(script), ips, { args: ["--salt"], run, rw })).changed).toBe(
      "yes",
    );
    const loaded = await listRuleset(applied);

    // A reboot: Qubes' tables fresh, /run empty, /rw kept; the boot hook loads.
    const rebooted = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const bootRun = await qubeRun();
    const boot = await runInQube(rebooted, installed(script), ips, { run: bootRun, rw });
    expect(boot.exitCode, boot.stderr).toBe(0);
    expect(await listRuleset(rebooted)).toBe(loaded);
    const salt = () => runInQube(rebooted, installed(script), ips, { args: ["--salt"], run: bootRun, rw });
    expect(verdict(await salt())).toEqual({ changed: "no", comment: "qwire rules of sys-firewall already loaded" });

    // An element lost after the boot (db-pg's DNAT), then an element added by hand.
    await nftIn(rebooted, ["delete", "element", "ip", "qubes", "qwire-dnat-1", "{ 192.168.1.10 . tcp . 5432 }"]);
    expect(verdict(await salt()).changed).toBe("yes");
    expect(await listRuleset(rebooted)).toBe(loaded);
    await nftIn(rebooted, ["add", "element", "ip", "qubes", "qwire-in-all", "{ 10.137.0.99 }"]);
    expect(verdict(await salt()).changed).toBe("yes");
    expect(verdict(await salt()).changed).toBe("no");

    // A boot with addresses no apply has recorded yet: the boot hook records
    // them, so the apply after it finds them loaded.
    const moved = addressesFile({ db: STUB_IPS.db!, web: "10.137.0.77" });
    const again = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const againRun = await qubeRun();
    expect((await runInQube(again, installed(script), moved, { run: againRun, rw })).exitCode).toBe(0);
    expect(await listRuleset(again)).toContain("10.137.0.77");
    expect(verdict(await runInQube(again, installed(script), moved, { args: ["--salt"], run: againRun, rw }))).toEqual({
      changed: "no",
      comment: "qwire rules of sys-firewall already loaded",
    });
  });

  it("a missing address: the reason is logged and in Salt's comment, the rest loads, exit 3 on every apply", async () => {
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const run = await qubeRun();
    const rw = await qubeRw();
    const addresses = `db ${STUB_IPS.db}\nweb - qube does not exist\n`;
    const first = await runInQube(ns, installed(script), addresses, { args: ["--salt"], run, rw });
    expect(first.exitCode).toBe(3);
    const v = verdict(first);
    expect(v.changed).toBe("yes");
    expect(v.comment).toContain("address of web missing: qube does not exist");
    expect(v.comment).toContain("forward web-https: not installed");
    expect(first.logged).toContain("address of web missing: qube does not exist");
    expect(await listRuleset(ns)).toContain(`5432 comment "db-pg" : ${STUB_IPS.db}`);

    const second = await runInQube(ns, installed(script), addresses, { args: ["--salt"], run, rw });
    expect(second.exitCode).toBe(3);
    expect(verdict(second).changed).toBe("no");
    expect(verdict(second).comment).toContain("address of web missing: qube does not exist");
  });

  it("without --salt (boot hooks) it loads every time and prints nothing", async () => {
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const run = await qubeRun();
    for (let i = 0; i < 2; i++) {
      const r = await runInQube(ns, installed(script), ips, { run });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.nftChecks).toBe(1);
    }
  });

  it("the teardown reports what it removed, then that nothing is left", async () => {
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const run = await qubeRun();
    expect((await runInQube(ns, installed(script), ips, { run })).exitCode).toBe(0);
    const teardown = installedTeardown(nftBackend.teardown.render());
    expect(verdict(await runInQube(ns, teardown, undefined, { args: ["rules", "--salt-test"], run })).changed).toBe(
      "yes",
    );
    expect(await listRuleset(ns)).toContain("qwire-forward");
    expect(verdict(await runInQube(ns, teardown, undefined, { args: ["rules", "--salt"], run })).changed).toBe("yes");
    expect(await listRuleset(ns)).not.toContain("qwire");
    expect(verdict(await runInQube(ns, teardown, undefined, { args: ["rules", "--salt"], run }))).toEqual({
      changed: "no",
      comment: "nothing of qwire left to remove",
    });
  });
});

describe("iptables script (R4.1) in Salt mode", () => {
  const { artifacts } = compileOk(readFileSync(`${GOLDEN_DIR}lan-web-https-r41/qwire.yaml`, "utf8"));
  const content = artifacts.find((a) => a.path === "salt/qwire/files/sys-firewall/50-qwire")!.content;
  const script = { path: "/rw/config/qubes-firewall.d/50-qwire", content };
  const ips = addressesFile({ web: STUB_IPS.web!, db: STUB_IPS.db! });
  const save = async (ns: string) =>
    (await execa("ip", ["netns", "exec", ns, "iptables-save"])).stdout
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .join("\n");

  it("loads once, reports no change, and reloads a flushed chain or a lost jump", async () => {
    const ns = await pool.create();
    await execa("ip", ["netns", "exec", ns, "iptables-restore"], { input: qubesIptablesRules("4.1") });
    const run = await qubeRun();
    const rw = await qubeRw();
    const salt = (args = ["--salt"]) => runInQube(ns, script, ips, { args, run, rw });

    expect(verdict(await salt())).toEqual({ changed: "yes", comment: "qwire rules of sys-firewall loaded" });
    const loaded = await save(ns);
    expect(verdict(await salt()).changed).toBe("no");

    await execa("ip", ["netns", "exec", ns, "iptables", "-w", "-F", "QWIRE-FWD"]);
    expect(verdict(await salt(["--salt-test"])).changed).toBe("yes");
    expect(verdict(await salt()).changed).toBe("yes");
    expect(await save(ns)).toBe(loaded);

    await execa("ip", ["netns", "exec", ns, "iptables", "-w", "-D", "FORWARD", "-j", "QWIRE-FWD"]);
    expect(verdict(await salt()).changed).toBe("yes");
    expect(await save(ns)).toBe(loaded);
    expect(verdict(await salt()).changed).toBe("no");

    const teardown = installedTeardown(iptablesBackend.teardown.render());
    expect(verdict(await runInQube(ns, teardown, undefined, { args: ["--salt"], run })).changed).toBe("yes");
    expect(await save(ns)).not.toContain("QWIRE");
    expect(verdict(await runInQube(ns, teardown, undefined, { args: ["--salt"], run })).changed).toBe("no");
  });
});
