/**
 * A guest net qube's script (disposable_template: its disposable template
 * holds it) runs in every qube that starts from that /rw: run for real in a
 * namespace, it loads its rules only when `qubesdb-read /name` is the guest,
 * and exits 0 without touching nft anywhere else (the disposable template
 * itself, another disposable of it, a qube where qubesdb-read fails).
 */
import { afterEach, describe, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";
import {
  NetnsPool,
  listRuleset,
  listTable,
  loadQubesBase,
  qwireBlocks,
  runInQube,
  tableBlocks,
} from "../helpers/netns.js";
import { addressesFile } from "../helpers/tools.js";
import { STUB_IPS } from "./scenarios.js";

const YAML = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6, disposable_template: dvm-net }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
`;

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

describe("guest script of a disposable net qube", () => {
  const { artifacts, plan } = compileOk(YAML);
  const script = artifacts.find((a) => a.path === "salt/qwire/files/dvm-net/50-qwire-sys-net")!;
  const file = { path: "/rw/config/qubes-firewall.d/50-qwire-sys-net", content: script.content };
  const addressesPath = "/rw/config/qwire/guests/sys-net/addresses";
  const addresses = addressesFile({ "sys-firewall": STUB_IPS["sys-firewall"]! });

  it("is in the host's bundle folder, and the guest has no files of its own", () => {
    expect(script).toBeDefined();
    expect(plan.targets).toEqual(["dvm-net", "sys-firewall", "web"]);
    expect(artifacts.some((a) => a.path.startsWith("salt/qwire/files/sys-net/"))).toBe(false);
  });

  it("loads its rules in the qube it is named for", async () => {
    const ns = await pool.create();
    await loadQubesBase(ns, { netQube: true, downstream: [{ vif: "vif10.0", address: STUB_IPS["sys-firewall"]! }] });
    const run = await runInQube(ns, file, addresses, { addressesPath, name: "sys-net" });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.nftChecks).toBe(1);
    const blocks = tableBlocks(await listTable(ns, "qubes"));
    expect(blocks.get("chain qwire-dnat")).toContain(
      'iifname "ens6" dnat to ip saddr . meta l4proto . th dport map @qwire-dnat-1',
    );
    expect(blocks.get("map qwire-dnat-1")).toContain(
      'elements = { 192.168.1.0/24 . tcp . 443 comment "web-https" : 10.137.0.6 }',
    );
  });

  it.each([
    ["the disposable template itself", "dvm-net"],
    ["another disposable of it", "disp1234"],
    ["a qube where qubesdb-read fails", undefined],
  ])("does nothing in %s", async (_what, name) => {
    const ns = await pool.create();
    await loadQubesBase(ns, { netQube: true });
    const before = await listRuleset(ns);
    const run = await runInQube(ns, file, addresses, { addressesPath, ...(name === undefined ? {} : { name }) });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.nftChecks).toBe(0);
    expect(qwireBlocks(await listTable(ns, "qubes"))).toEqual([]);
    expect(await listRuleset(ns)).toBe(before);
  });
});
