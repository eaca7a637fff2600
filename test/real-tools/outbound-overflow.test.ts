/**
 * An outbound policy of 10,000 rules (past qubesd's ~900, Qubes issue
 * #4228), enforced by the qube's netvm: its script, run for real in a
 * namespace shaped like sys-firewall, passes `nft -c`, loads, gives the same
 * ruleset when run again, and the chain is a handful of set lookups, not
 * 10,000 rules. Without the qube's address it fails closed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { NetnsPool, installed, listTable, nftIn, runInQube, tableBlocks } from "../helpers/netns.js";
import { addressesFile, scriptOf } from "../helpers/tools.js";
import { tenThousandRules } from "../helpers/overflow.js";
import { STUB_IPS, build, standUpQube } from "./scenarios.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

describe("10,000 outbound rules for web, enforced in sys-firewall", () => {
  const yamlText = tenThousandRules();
  const started = performance.now();
  const built = build(yamlText);
  const buildMs = performance.now() - started;
  const script = scriptOf(built.artifacts, "sys-firewall");
  const addresses = addressesFile({ web: STUB_IPS.web! });

  it("dom0 sets 899 rules and then accept", () => {
    const fw = built.plan.firewalls.find((f) => f.qube === "web")!;
    expect(fw.rules).toHaveLength(900);
    expect(fw.rules.at(-1)).toBe("action=accept");
    expect(fw.overflow).toEqual({ netvm: "sys-firewall", rules: 10_000 });
  });

  it("the script passes nft -c, loads, and gives the same ruleset when run again", async () => {
    const ns = await standUpQube(pool, built, yamlText, script);
    const t0 = performance.now();
    const first = await runInQube(ns, installed(script), addresses);
    const loadMs = performance.now() - t0;
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    expect(first.nftChecks).toBe(1);
    const once = await listTable(ns, "qubes");
    const again = await runInQube(ns, installed(script), addresses);
    expect(again.exitCode).toBe(0);
    expect(await listTable(ns, "qubes")).toBe(once);

    const blocks = tableBlocks(once);
    expect(blocks.get("chain qwire-forward")!.split("\n")[0]).toBe(
      `\t\tiifgroup 2 ip saddr ${STUB_IPS.web} ct state new jump qwire-out-1`,
    );
    const chain = blocks.get("chain qwire-out-1")!.split("\n");
    // A handful of lookups, not 10,000 rules.
    expect(chain.length).toBeGreaterThan(5);
    expect(chain.length).toBeLessThan(40);
    expect(chain.at(-1)).toBe("\t\treject with icmp admin-prohibited");
    const has = async (set: string, element: string) =>
      nftIn(ns, ["get", "element", "ip", "qubes", set, `{ ${element} }`]).then(
        () => true,
        () => false,
      );
    const sets = [...blocks.keys()].filter((k) => k.startsWith("set qwire-out-1-")).map((k) => k.slice(4));
    const anyHas = async (element: string) => (await Promise.all(sets.map((s) => has(s, element)))).some(Boolean);
    expect(await anyHas("10.0.1.1 . tcp . 443")).toBe(true);
    expect(await anyHas("10.0.3.1 . tcp . 8000")).toBe(true);
    expect(await anyHas("10.0.7.1 . udp . 1007")).toBe(true);
    expect(await anyHas("10.0.1.1 . tcp . 444")).toBe(false);
    console.log(
      `outbound overflow: 10,000 rules, build ${buildMs.toFixed(0)} ms, sys-firewall script ${script.content.length} bytes, ` +
        `first run ${loadMs.toFixed(0)} ms, chain qwire-out-1 ${chain.length} rules, ${sets.length} sets`,
    );
  });

  it("a shorter list later leaves no set or chain of the longer one behind", async () => {
    const shorter = yamlText.replace(/^ {6}- "accept dst4=10\.[1-3]\d\..*\n/gm, "");
    const small = build(shorter);
    expect(small.plan.firewalls[0]!.overflow!.rules).toBeLessThan(3000);
    const steps = (b: typeof built) => b.plan.qubes.find((q) => q.qube === "sys-firewall")!.overflows![0]!.steps.length;
    expect(steps(small)).toBeLessThan(steps(built));
    const smallScript = scriptOf(small.artifacts, "sys-firewall");
    const fresh = await standUpQube(pool, small, shorter, smallScript);
    expect((await runInQube(fresh, installed(smallScript), addresses)).exitCode).toBe(0);
    const expected = await listTable(fresh, "qubes");

    const ns = await standUpQube(pool, built, yamlText, script);
    expect((await runInQube(ns, installed(script), addresses)).exitCode).toBe(0);
    const run = await runInQube(ns, installed(smallScript), addresses);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(await listTable(ns, "qubes")).toBe(expected);
  });

  it("without web's address: every new connection from downstream is refused, exit 3", async () => {
    const ns = await standUpQube(pool, built, yamlText, script);
    const run = await runInQube(ns, installed(script), "");
    expect(run.exitCode).toBe(3);
    expect(run.logged).toContain("outbound policy of web: not installed");
    const forward = tableBlocks(await listTable(ns, "qubes")).get("chain qwire-forward")!;
    expect(forward.split("\n")[0]).toBe("\t\tiifgroup 2 ct state new reject with icmp admin-prohibited");
    expect(forward).not.toContain("jump qwire-out-1");
  });
});
