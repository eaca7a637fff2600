/**
 * Taking rules away, run for real: an intent deleted from qwire.yaml closes
 * its port on the next apply, and the nft teardown script (what a qube
 * dropped from qwire.yaml gets) removes every trace of qwire and nothing else.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  NetnsPool,
  baseTableChanges,
  installed,
  installedTeardown,
  listRuleset,
  listTable,
  nftIn,
  qwireBlocks,
  qwirePart,
  runInQube,
} from "../helpers/netns.js";
import { nftBackend } from "../../src/render/backends/nft.js";
import { compileOk, file } from "../helpers/compile.js";
import { scriptOf } from "../helpers/tools.js";
import { TWO_FORWARDS, TWO_FORWARDS_V2_YAML, build, standUpQube, stubAddresses, type Built } from "./scenarios.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

const TEARDOWN = nftBackend.teardown.render();

const V1 = build(TWO_FORWARDS.yaml);
const V2_YAML = TWO_FORWARDS_V2_YAML;
const V2 = build(V2_YAML);

/** Runs `stem`'s script of `built` in `ns` with every address known; it must succeed. */
async function apply(ns: string, built: Built, stem: string): Promise<void> {
  const run = await runInQube(ns, installed(scriptOf(built.artifacts, stem)), stubAddresses(built, stem));
  expect(run.stderr).toBe("");
  expect(run.exitCode).toBe(0);
}

describe("a forward deleted from qwire.yaml", () => {
  it("is still in version 1 and gone from version 2 (the test's premise)", () => {
    expect(V2_YAML).not.toContain("db-pg");
    expect(V2_YAML).toContain("web-https");
    expect(V2.scripts.map((s) => s.stem).sort()).toEqual(["sys-firewall", "sys-net", "web"]);
  });

  it.each(["sys-net", "sys-firewall"])(
    "%s: applying version 2 over version 1 closes its port and leaves what version 2 alone gives",
    async (stem) => {
      const script = scriptOf(V1.artifacts, stem);
      const upgraded = await standUpQube(pool, V1, TWO_FORWARDS.yaml, script);
      const base = await listTable(upgraded, "qubes");
      await apply(upgraded, V1, stem);
      expect(qwirePart(await listTable(upgraded, "qubes"))).toContain('tcp . 5432 comment "db-pg"');

      await apply(upgraded, V2, stem);
      const after = await listTable(upgraded, "qubes");
      expect(qwirePart(after)).not.toContain("5432");
      expect(qwirePart(after)).toContain('tcp . 443 comment "web-https"');
      expect(baseTableChanges(base, after, true)).toEqual([]);

      const fresh = await standUpQube(pool, V2, V2_YAML, scriptOf(V2.artifacts, stem));
      await apply(fresh, V2, stem);
      expect(qwirePart(after)).toBe(qwirePart(await listTable(fresh, "qubes")));
    },
  );

  it("db gets the teardown state in version 2, which installs the teardown script the bundle ships", () => {
    const v2 = compileOk(V2_YAML, { previousQubes: V1.plan.qubes.map((q) => q.qube) });
    expect(v2.plan.teardowns.map((t) => t.qube)).toEqual(["db"]);
    const state = file(v2, "salt/qwire/qubes/db.sls");
    const source = /source: salt:\/\/(\S+)/.exec(state)?.[1];
    expect(source).toBeDefined();
    expect(file(v2, `salt/${source}`)).toBe(TEARDOWN);
  });
});

describe("teardown-nft", () => {
  it.each(["db", "sys-firewall"])(
    "after %s's script: no qwire chain, set or jump is left, Qubes' tables are as before",
    async (stem) => {
      const script = scriptOf(V1.artifacts, stem);
      const ns = await standUpQube(pool, V1, TWO_FORWARDS.yaml, script);
      const baseRuleset = await listRuleset(ns);
      const base = await listTable(ns, "qubes");
      await apply(ns, V1, stem);
      expect(qwireBlocks(await listTable(ns, "qubes"))).not.toEqual([]);

      const run = await runInQube(ns, installedTeardown(TEARDOWN), undefined);
      expect(run.stderr).toBe("");
      expect(run.exitCode).toBe(0);
      expect(run.nftChecks).toBe(1);
      const after = await listTable(ns, "qubes");
      expect(qwireBlocks(after)).toEqual([]);
      expect(after).not.toContain("qwire");
      expect(baseTableChanges(base, after, false)).toEqual([]);
      expect(await listRuleset(ns)).toBe(baseRuleset);
    },
  );

  it("on a qube without qwire objects: exits 0 and changes nothing", async () => {
    const ns = await standUpQube(pool, V1, TWO_FORWARDS.yaml, scriptOf(V1.artifacts, "sys-firewall"));
    const before = await listRuleset(ns);
    const run = await runInQube(ns, installedTeardown(TEARDOWN), undefined);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.nftChecks).toBe(0);
    expect(await listRuleset(ns)).toBe(before);
  });

  it("twice in a row: the second run exits 0 and changes nothing", async () => {
    const ns = await standUpQube(pool, V1, TWO_FORWARDS.yaml, scriptOf(V1.artifacts, "web"));
    await apply(ns, V1, "web");
    expect((await runInQube(ns, installedTeardown(TEARDOWN), undefined)).exitCode).toBe(0);
    const once = await listRuleset(ns);
    const again = await runInQube(ns, installedTeardown(TEARDOWN), undefined);
    expect(again.exitCode).toBe(0);
    expect(await listRuleset(ns)).toBe(once);
  });

  it("keeps the user's own rules in custom-forward and custom-input, through apply and teardown", async () => {
    const ns = await standUpQube(pool, V1, TWO_FORWARDS.yaml, scriptOf(V1.artifacts, "sys-firewall"));
    await nftIn(ns, ["add", "rule", "ip", "qubes", "custom-forward", "tcp", "dport", "8080", "accept"]);
    await nftIn(ns, ["add", "rule", "ip", "qubes", "custom-input", "tcp", "dport", "22", "accept"]);
    const userRuleset = await listRuleset(ns);

    await apply(ns, V1, "sys-firewall");
    const applied = await listTable(ns, "qubes");
    expect(applied).toMatch(/chain custom-forward \{\n\t\ttcp dport 8080 accept\n\t\tjump qwire-forward\n\t\}/);
    expect(applied).toMatch(/chain custom-input \{\n\t\ttcp dport 22 accept\n\t\tjump qwire-input\n\t\}/);

    expect((await runInQube(ns, installedTeardown(TEARDOWN), undefined)).exitCode).toBe(0);
    expect(await listRuleset(ns)).toBe(userRuleset);
  });
});
