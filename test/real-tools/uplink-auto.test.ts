/**
 * `uplink: auto`, run for real: the entry qube's script finds its one
 * interface besides lo and vif* in /proc/net/dev (here a veth with a name no
 * test elsewhere uses), checks the name, logs it and DNATs what arrives on
 * it; a second run and Salt's second apply change nothing. With two such
 * interfaces, none, or one whose name qwire.yaml would refuse, the forwards
 * arriving on it are left out with the reason (fail closed, exit 3) and
 * nothing else breaks. nft (R4.2) and iptables (R4.1), both shellcheck-clean
 * (every transaction also passes `nft -c`, see runInQube's nft stub). Needs
 * root, ip, unshare, nft, iptables and shellcheck.
 */
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { NetnsPool, installed, listRuleset, listTable, runInQube, tableBlocks } from "../helpers/netns.js";
import { qubesIptablesRules } from "../../src/simulate/model/qubes-iptables.js";
import { SHELLCHECK, removeDir, scriptOf, tempDir, writeExecutable } from "../helpers/tools.js";
import { build, standUpQube, stubAddresses } from "./scenarios.js";

const pool = new NetnsPool();
const runDirs: string[] = [];
afterEach(async () => {
  await pool.deleteAll();
  for (const d of runDirs.splice(0)) await removeDir(d);
});

const yamlFor = (release: string) => `version: 1
release: "${release}"
qubes:
  sys-net: { provides_network: true, uplink: auto }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  dev: { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
  - { name: dev-ssh, to: dev, port: 22, external_port: 2222, from: [192.168.1.0/24] }
`;

/** An interface name used nowhere else: the script must find it, not assume it. */
const NIC = "enp7s0f1";

/** Adds veths named `names` to the qube's namespace (their peers in another one), and a downstream qube's vif. */
async function withInterfaces(ns: string, names: readonly string[]): Promise<void> {
  const peers = await pool.create();
  for (const [i, name] of [...names, "vif12.0"].entries()) {
    await execa("ip", ["-n", ns, "link", "add", name, "type", "veth", "peer", "name", `p${i}`, "netns", peers]);
  }
}

async function qubeRun(): Promise<string> {
  const d = await tempDir("run");
  runDirs.push(d);
  return d;
}

/** A qube's /rw (its private volume, where the script records what it loaded), kept across the runs of one test. */
async function qubeRw(): Promise<string> {
  const d = await tempDir("rw");
  runDirs.push(d);
  return d;
}

describe("nft (R4.2): sys-net with uplink: auto", () => {
  const yaml = yamlFor("4.2");
  const built = build(yaml);
  const script = scriptOf(built.artifacts, "sys-net");
  const addresses = stubAddresses(built, "sys-net");

  it("finds the one interface, logs it, DNATs what arrives on it; again (and under Salt) the same ruleset", async () => {
    const ns = await standUpQube(pool, built, yaml, script);
    await withInterfaces(ns, [NIC]);
    const run = await qubeRun();
    const rw = await qubeRw();
    const first = await runInQube(ns, installed(script), addresses, { run, rw });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.nftChecks).toBe(1);
    expect(first.logged).toContain(`uplink auto: ${NIC}, the one interface besides lo and vif*`);
    const dnat = tableBlocks(await listTable(ns, "qubes")).get("chain qwire-dnat")!;
    expect(dnat).toContain(`iifname "${NIC}" dnat to ip saddr . meta l4proto . th dport map @qwire-dnat-1`);
    expect(tableBlocks(await listTable(ns, "qubes")).get("chain qwire-forward")).toContain(
      `ct state new iifname "${NIC}" ip saddr . ip daddr`,
    );
    const loaded = await listRuleset(ns);

    const again = await runInQube(ns, installed(script), addresses, { run, rw });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await listRuleset(ns)).toBe(loaded);

    // qubesctl after the boot hook: nothing to load, and it says which interface.
    const salt = await runInQube(ns, installed(script), addresses, { run, rw, args: ["--salt"] });
    expect(salt.exitCode, salt.stderr).toBe(0);
    expect(salt.stdout).toBe(
      `changed=no comment='qwire rules of sys-net already loaded: uplink auto: ${NIC}, the one interface besides lo and vif*'`,
    );
    expect(await listRuleset(ns)).toBe(loaded);
  });

  it("another machine's card (another name): Salt reloads and reports the change", async () => {
    const ns = await standUpQube(pool, built, yaml, script);
    await withInterfaces(ns, ["wlp0s20f3"]);
    const run = await qubeRun();
    const rw = await qubeRw();
    expect((await runInQube(ns, installed(script), addresses, { run, rw, args: ["--salt"] })).stdout).toMatch(
      /^changed=yes/,
    );
    await execa("ip", ["-n", ns, "link", "set", "wlp0s20f3", "name", NIC]);
    const moved = await runInQube(ns, installed(script), addresses, { run, rw, args: ["--salt"] });
    expect(moved.stdout).toMatch(/^changed=yes/);
    expect(tableBlocks(await listTable(ns, "qubes")).get("chain qwire-dnat")).toContain(`iifname "${NIC}"`);
    expect(await listRuleset(ns)).not.toContain("wlp0s20f3");
  });

  it.each([
    {
      what: "two candidates",
      names: [NIC, "wlp0s20f3"],
      reason: `uplink auto found 2 interfaces besides lo and vif* (${NIC} wlp0s20f3): name the outside one in qwire.yaml`,
    },
    { what: "none", names: [], reason: "uplink auto found no interface besides lo and vif*" },
    {
      what: "a name qwire.yaml refuses",
      names: ["x$(reboot)"],
      reason: "uplink auto found the interface 'x??reboot?', whose name qwire.yaml would not accept",
    },
  ])("$what: the forwards arriving on it are left out with the reason, exit 3", async ({ names, reason }) => {
    const ns = await standUpQube(pool, built, yaml, script);
    await withInterfaces(ns, names);
    const r = await runInQube(ns, installed(script), addresses);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.rebootCalled).toBe(false);
    expect(r.logged.split("\n"), r.logged).toContain(`forward web-https, dev-ssh: not installed, ${reason}`);
    const blocks = tableBlocks(await listTable(ns, "qubes"));
    // No rule looks the forwards up; qwire's chains and the jumps to them are in place.
    expect(blocks.get("chain qwire-dnat")).toBe("\t\ttype nat hook prerouting priority filter + 1; policy accept;");
    expect(blocks.get("chain qwire-forward")).not.toMatch(/qwire-fwd-/);
    expect(blocks.get("chain custom-forward")).toBe("\t\tjump qwire-forward");
    expect(await listRuleset(ns)).not.toContain("reboot");
  });
});

describe("iptables (R4.1): sys-net with uplink: auto", () => {
  const yaml = yamlFor("4.1");
  const built = build(yaml);
  const script = scriptOf(built.artifacts, "sys-net");
  const addresses = stubAddresses(built, "sys-net");

  async function standUp(names: readonly string[]): Promise<string> {
    const ns = await pool.create();
    await execa("ip", ["netns", "exec", ns, "iptables-restore"], { input: qubesIptablesRules("4.1") });
    await withInterfaces(ns, names);
    return ns;
  }
  const nat = async (ns: string) =>
    (await execa("ip", ["netns", "exec", ns, "iptables", "-w", "-t", "nat", "-S", "QWIRE-DNAT"])).stdout;

  it("finds the one interface and DNATs what arrives on it; a second run changes nothing", async () => {
    const ns = await standUp([NIC]);
    const run = await qubeRun();
    const rw = await qubeRw();
    const first = await runInQube(ns, installed(script), addresses, { run, rw });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.logged).toContain(`uplink auto: ${NIC}`);
    expect(await nat(ns)).toContain(
      `-A QWIRE-DNAT -s 192.168.1.0/24 -i ${NIC} -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.137.0.6`,
    );
    const save = async () => (await execa("ip", ["netns", "exec", ns, "iptables-save"])).stdout.replace(/^#.*$/gm, "");
    const loaded = await save();
    expect((await runInQube(ns, installed(script), addresses, { run, rw, args: ["--salt"] })).stdout).toMatch(
      /^changed=/,
    );
    expect((await runInQube(ns, installed(script), addresses, { run, rw, args: ["--salt"] })).stdout).toMatch(
      /^changed=no/,
    );
    expect(await save()).toBe(loaded);
  });

  it("two candidates: no DNAT, the reason logged, exit 3", async () => {
    const ns = await standUp([NIC, "wlp0s20f3"]);
    const r = await runInQube(ns, installed(script), addresses);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.logged).toContain("forward web-https: not installed, uplink auto found 2 interfaces besides lo and vif*");
    expect(await nat(ns)).toBe("-N QWIRE-DNAT");
  });
});

describe.each(["4.2", "4.1"])("R%s: sys-net's script with uplink: auto", (release) => {
  it("has no shellcheck finding", async () => {
    const dir = await qubeRun();
    const path = `${dir}/50-qwire`;
    await writeExecutable(path, scriptOf(build(yamlFor(release)).artifacts, "sys-net").content);
    const r = await execa(SHELLCHECK, ["-s", "sh", "-f", "gcc", path], { reject: false });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.exitCode).toBe(0);
  });
});
