/**
 * R3.2 outbound policy past qvm-firewall's 3 kB limit, run for real: the
 * qube's script (golden outbound-policy-r32-overflow) runs by /bin/sh in a
 * network namespace with the iptables base rules, and must build chain
 * QWIRE-OUT (allow-list, ending in a reject), jump to it once, first, from
 * OUTPUT, give the same `iptables-save` when run again, and be removed by the
 * next script once the list fits in qvm-firewall again. Needs root, ip,
 * unshare and iptables.
 */
import { readFileSync } from "node:fs";
import { execa } from "execa";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { qubesIptablesRules } from "../../src/simulate/model/qubes-iptables.js";
import { compileOk } from "../helpers/compile.js";
import { GOLDEN_DIR } from "../helpers/golden.js";
import { NetnsPool, runInQube } from "../helpers/netns.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

beforeAll(async () => {
  const r = await execa("iptables", ["--version"], { reject: false });
  if (r.exitCode !== 0) throw new Error("iptables is missing: apt-get install -y iptables");
});

const PATH = "/rw/config/qwire/rules.sh";

function webScript(yamlText: string): { path: string; content: string } {
  const { artifacts } = compileOk(yamlText);
  const content = artifacts.find((a) => a.path === "salt/qwire/files/web/rules.sh")?.content;
  if (content === undefined) throw new Error("no script for web");
  return { path: PATH, content };
}

async function inNs(ns: string, args: readonly string[], input?: string): Promise<string> {
  return (await execa("ip", ["netns", "exec", ns, ...args], input === undefined ? {} : { input })).stdout;
}

async function save(ns: string): Promise<string> {
  return (await inNs(ns, ["iptables-save"]))
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, " [0:0]"))
    .join("\n");
}

const overflow = readFileSync(`${GOLDEN_DIR}/outbound-policy-r32-overflow/qwire.yaml`, "utf8");

describe("R3.2 outbound policy past the 3 kB limit: chain QWIRE-OUT in the qube", () => {
  it("builds the allow-list, jumps to it first from OUTPUT, once, and fails closed", async () => {
    const ns = await pool.create();
    await inNs(ns, ["iptables-restore"], qubesIptablesRules("4.0"));
    const script = webScript(overflow);
    const run = await runInQube(ns, script, "");
    // mirror.example.org does not resolve here: its rule is left out, logged, exit 3
    expect(run.exitCode).toBe(3);
    const output = (await inNs(ns, ["iptables", "-S", "OUTPUT"])).split("\n");
    expect(output.filter((l) => l.includes("QWIRE-OUT"))).toEqual(["-A OUTPUT -j QWIRE-OUT"]);
    expect(output[1]).toBe("-A OUTPUT -j QWIRE-OUT");
    const chain = (await inNs(ns, ["iptables", "-S", "QWIRE-OUT"])).split("\n");
    expect(chain[1]).toBe("-A QWIRE-OUT -o lo -j ACCEPT");
    expect(chain).toContain("-A QWIRE-OUT -p udp -m udp --dport 53 -j ACCEPT");
    expect(chain).toContain("-A QWIRE-OUT -d 192.0.2.39/32 -p tcp -m tcp --dport 443 -j ACCEPT");
    expect(chain.filter((l) => l.includes("--dport 443"))).toHaveLength(39);
    expect(chain.at(-1)).toBe("-A QWIRE-OUT -j REJECT --reject-with icmp-admin-prohibited");

    const before = await save(ns);
    expect((await runInQube(ns, script, "")).exitCode).toBe(3);
    expect(await save(ns)).toBe(before);
  });

  it("the next script, with the list back in qvm-firewall, removes QWIRE-OUT and its jump", async () => {
    const ns = await pool.create();
    await inNs(ns, ["iptables-restore"], qubesIptablesRules("4.0"));
    const base = await save(ns);
    expect((await runInQube(ns, webScript(overflow), "")).exitCode).toBe(3);
    expect(await save(ns)).toContain(":QWIRE-OUT");
    // the same qube with a list that fits, and a link so it keeps a script
    const small = [
      "version: 1",
      'release: "3.2"',
      "qubes:",
      "  sys-net: { provides_network: true }",
      "  sys-firewall: { netvm: sys-net, provides_network: true }",
      "  web: { netvm: sys-firewall }",
      "  db: { netvm: sys-firewall }",
      "links:",
      "  - { from: db, to: web, ports: [80] }",
      "firewall:",
      "  web:",
      "    policy: drop",
      "    rules:",
      "      - accept dsthost=192.0.2.1 proto=tcp dstports=443",
      "",
    ].join("\n");
    const run = await runInQube(ns, webScript(small), "db 10.137.0.30\n");
    expect(run.exitCode).toBe(0);
    const after = await save(ns);
    expect(after).not.toContain("QWIRE-OUT");
    expect(after.split("\n").filter((l) => !l.includes("QWIRE-"))).toEqual(
      base.split("\n").filter((l) => !l.includes("QWIRE-")),
    );
  });
});
