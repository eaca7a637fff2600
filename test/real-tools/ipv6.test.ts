/**
 * IPv6 (`ipv6: true`): the same scripts own qwire's objects in table ip6 qubes
 * too, with addresses recorded as "<qube>/6". Run for real in namespaces where
 * both base tables are loaded.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { qubes6Table } from "../../src/simulate/model/qubes-tables.js";
import { compileOk } from "../helpers/compile.js";
import { installed, listRuleset, loadQubesBase, NetnsPool, nftIn, runInQube } from "../helpers/netns.js";
import { addressesFile, scriptOf } from "../helpers/tools.js";

const YAML = readFileSync(new URL("../golden/ipv6-forward-and-link/qwire.yaml", import.meta.url), "utf8");
const ADDRESSES = addressesFile({
  web: "10.137.0.7",
  db: "10.137.0.8",
  "web/6": "fd09:24ef:4179::a89:7",
  "db/6": "fd09:24ef:4179::a89:8",
});

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

async function qube(netQube: boolean): Promise<string> {
  const ns = await pool.create();
  await loadQubesBase(ns, { netQube });
  await nftIn(ns, ["-f", "-"], qubes6Table());
  return ns;
}

describe("IPv6 rules", () => {
  const bundle = compileOk(YAML);

  it("forward and link go into table ip6 qubes as well, idempotently", async () => {
    const ns = await qube(true);
    const script = installed(scriptOf(bundle.artifacts, "sys-firewall"));
    const first = await runInQube(ns, script, ADDRESSES);
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    const ip6 = await nftIn(ns, ["list", "table", "ip6", "qubes"]);
    expect(ip6).toContain(
      "iifgroup 1 meta l4proto { tcp, udp } dnat ip6 to ip6 saddr . meta l4proto . th dport map @qwire-dnat-port-1",
    );
    expect(ip6).toContain('2001:db8:1::/64 . tcp . 8443 comment "web-https" : fd09:24ef:4179::a89:7 . 443');
    expect(ip6).toContain('fd00::/48 . tcp . 8443 comment "web-https" : fd09:24ef:4179::a89:7 . 443');
    expect(ip6).toContain("fd09:24ef:4179::a89:7 . fd09:24ef:4179::a89:8 . tcp . 5432");
    expect(ip6).toMatch(/chain custom-forward \{\n\t\tjump qwire-forward\n\t\}/);
    const ip4 = await nftIn(ns, ["list", "table", "ip", "qubes"]);
    expect(ip4).toContain('192.168.1.0/24 . tcp . 8443 comment "web-https" : 10.137.0.7 . 443');
    const before = await listRuleset(ns);
    expect((await runInQube(ns, script, ADDRESSES)).exitCode).toBe(0);
    expect(await listRuleset(ns)).toBe(before);
  });

  it("a missing IPv6 address leaves the IPv6 rules out, keeps IPv4, exits 3", async () => {
    const ns = await qube(true);
    const script = installed(scriptOf(bundle.artifacts, "sys-firewall"));
    const run = await runInQube(
      ns,
      script,
      addressesFile({ web: "10.137.0.7", db: "10.137.0.8", "web/6": "not::an::address" }),
    );
    expect(run.exitCode).toBe(3);
    expect(run.logged).toContain("forward web-https (IPv6): not installed");
    expect(await nftIn(ns, ["list", "table", "ip6", "qubes"])).not.toContain("web-https");
    expect(await nftIn(ns, ["list", "table", "ip", "qubes"])).toContain(
      '192.168.1.0/24 . tcp . 8443 comment "web-https" : 10.137.0.7 . 443',
    );
  });

  it("the destination accepts the IPv6 sources in its input chain", async () => {
    const ns = await qube(false);
    const run = await runInQube(ns, installed(scriptOf(bundle.artifacts, "web")), ADDRESSES);
    expect(run.exitCode).toBe(0);
    expect(await nftIn(ns, ["list", "chain", "ip6", "qubes", "qwire-input"])).toContain(
      "ct state new iifgroup 1 ip6 saddr . meta l4proto . th dport @qwire-fin-1 accept",
    );
    const ends = await nftIn(ns, ["list", "set", "ip6", "qubes", "qwire-fin-1"]);
    expect(ends).toContain('2001:db8:1::/64 . tcp . 443 comment "web-https"');
    expect(ends).toContain('fd00::/48 . tcp . 443 comment "web-https"');
  });

  it("the teardown removes qwire's objects from both tables", async () => {
    const ns = await qube(true);
    expect((await runInQube(ns, installed(scriptOf(bundle.artifacts, "sys-firewall")), ADDRESSES)).exitCode).toBe(0);
    const teardown =
      bundle.artifacts.find((a) => a.path === "salt/qwire/teardown-nft")?.content ??
      compileOk(YAML, { previousQubes: ["gone"] }).artifacts.find((a) => a.path === "salt/qwire/teardown-nft")!.content;
    expect((await runInQube(ns, { path: "/rw/config/qwire/teardown", content: teardown }, undefined)).exitCode).toBe(0);
    expect(await listRuleset(ns)).not.toContain("qwire");
  });

  it("dom0 turns the Qubes ipv6 feature on for the declared qubes", () => {
    const dom0 = bundle.artifacts.find((a) => a.path === "salt/qwire/dom0.sls")!.content;
    for (const q of ["db", "sys-firewall", "sys-net", "web"])
      expect(dom0).toContain(`qwire-ipv6-${q}:\n  qvm.features:\n    - name: ${q}\n    - enable:\n        - ipv6`);
  });
});
