/**
 * The iptables backend (R4.1, R4.0, R3.2), run for real: each generated
 * script of the legacy goldens runs by /bin/sh in a fresh network namespace
 * that holds the R4.1/R4.0 base rules of reference §2.1
 * (src/simulate/model/qubes-iptables.ts). It must add its rules to qwire's
 * chains only, jump to them once at the documented positions, give the same
 * `iptables-save` when run again, fail closed on a missing address, close a
 * deleted forward on the next run, and the teardown must leave exactly the
 * Qubes base rules. Needs root, ip, unshare and iptables (Debian: iptables).
 */
import { readFileSync } from "node:fs";
import { execa } from "execa";
import yaml from "js-yaml";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { iptablesBackend } from "../../src/render/backends/iptables.js";
import { JUMP_ANCHORS, qubesIptablesRules } from "../../src/simulate/model/qubes-iptables.js";
import { compileOk } from "../helpers/compile.js";
import { GOLDEN_DIR } from "../helpers/golden.js";
import { NetnsPool, installedTeardown, runInQube } from "../helpers/netns.js";
import { addressesFile } from "../helpers/tools.js";
import { STUB_IPS } from "./scenarios.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

const IPS: Readonly<Record<string, string>> = { ...STUB_IPS, vault: "10.137.0.50" };

interface LegacyScript {
  readonly stem: string;
  readonly qube: string;
  readonly path: string;
  readonly content: string;
  readonly needs: readonly string[];
}

function legacyScripts(yamlText: string): LegacyScript[] {
  const { artifacts, plan } = compileOk(yamlText);
  return plan.qubes
    .filter((q) => q.hasPacketRules)
    .map((q) => {
      const name = q.placement === "qubes-firewall.d" ? "50-qwire" : "rules.sh";
      const path =
        q.placement === "qubes-firewall.d" ? "/rw/config/qubes-firewall.d/50-qwire" : "/rw/config/qwire/rules.sh";
      const content = artifacts.find((a) => a.path === `salt/qwire/files/${q.stem}/${name}`)?.content;
      if (content === undefined) throw new Error(`no script for ${q.qube}`);
      return { stem: q.stem, qube: q.qube, path, content, needs: q.addresses };
    });
}

function addresses(s: LegacyScript, without: readonly string[] = []): string {
  return addressesFile(Object.fromEntries(s.needs.filter((n) => !without.includes(n)).map((n) => [n, IPS[n]!])));
}

async function inNs(ns: string, args: readonly string[], input?: string): Promise<string> {
  const r = await execa("ip", ["netns", "exec", ns, ...args], input === undefined ? {} : { input });
  return r.stdout;
}

/** `iptables-save` without its dated comment lines and counters. */
async function save(ns: string): Promise<string> {
  return (await inNs(ns, ["iptables-save"]))
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, " [0:0]"))
    .join("\n");
}

/** A save with qwire's chains, rules and jumps taken out: what Qubes owns. */
function withoutQwire(saved: string): string {
  return saved
    .split("\n")
    .filter((l) => !/QWIRE-/.test(l))
    .join("\n");
}

async function qubeWithBase(release: "4.1" | "4.0"): Promise<string> {
  const ns = await pool.create();
  await inNs(ns, ["iptables-restore"], qubesIptablesRules(release));
  return ns;
}

const LEGACY = ["lan-web-https-r41", "lan-web-https-r40", "lan-web-https-r32"].map((name) => ({
  name,
  yaml: readFileSync(`${GOLDEN_DIR}${name}/qwire.yaml`, "utf8"),
  release: name.endsWith("r40") ? ("4.0" as const) : ("4.1" as const),
}));

beforeAll(async () => {
  const r = await execa("iptables", ["--version"], { reject: false });
  if (r.exitCode !== 0) throw new Error("iptables is missing: apt-get install -y iptables");
});

describe("the R4.1/R4.0 base model", () => {
  it.each(["4.1", "4.0"] as const)(
    "R%s: iptables-restore --test accepts it, and it has the anchors qwire inserts before",
    async (release) => {
      const ns = await pool.create();
      await inNs(ns, ["iptables-restore", "--test"], qubesIptablesRules(release));
      await inNs(ns, ["iptables-restore"], qubesIptablesRules(release));
      const saved = await save(ns);
      expect(saved).toContain(JUMP_ANCHORS.FORWARD);
      expect(saved).toContain(JUMP_ANCHORS.INPUT);
      // the documented positions: FORWARD rule 4, INPUT rule 6
      expect((await inNs(ns, ["iptables", "-S", "FORWARD"])).split("\n").filter((l) => l.startsWith("-A"))[3]).toBe(
        JUMP_ANCHORS.FORWARD,
      );
      expect((await inNs(ns, ["iptables", "-S", "INPUT"])).split("\n").filter((l) => l.startsWith("-A"))[5]).toBe(
        JUMP_ANCHORS.INPUT,
      );
    },
  );
});

describe.each(LEGACY)("$name", ({ yaml: text, release }) => {
  for (const script of legacyScripts(text)) {
    it(`${script.stem}: adds its rules to qwire's chains, one jump each before the anchors, and is idempotent`, async () => {
      const ns = await qubeWithBase(release);
      const base = await save(ns);
      const first = await runInQube(ns, script, addresses(script));
      expect(first.stderr).toBe("");
      expect(first.exitCode).toBe(0);
      const after = await save(ns);
      expect(withoutQwire(after)).toBe(withoutQwire(base));
      const forward = (await inNs(ns, ["iptables", "-S", "FORWARD"])).split("\n");
      const input = (await inNs(ns, ["iptables", "-S", "INPUT"])).split("\n");
      expect(forward.filter((l) => l.includes("QWIRE"))).toEqual(["-A FORWARD -j QWIRE-FWD"]);
      expect(input.filter((l) => l.includes("QWIRE"))).toEqual(["-A INPUT -j QWIRE-IN"]);
      expect(forward[forward.indexOf("-A FORWARD -j QWIRE-FWD") + 1]).toBe(JUMP_ANCHORS.FORWARD);
      expect(input[input.indexOf("-A INPUT -j QWIRE-IN") + 1]).toBe(JUMP_ANCHORS.INPUT);
      expect(
        (await inNs(ns, ["iptables", "-t", "nat", "-S", "PREROUTING"])).split("\n").filter((l) => l.includes("QWIRE")),
      ).toEqual(["-A PREROUTING -j QWIRE-DNAT"]);

      const second = await runInQube(ns, script, addresses(script));
      expect(second.exitCode).toBe(0);
      expect(await save(ns)).toBe(after);
    });
  }
});

describe("lan-web-https-r41, by hand", () => {
  const scripts = legacyScripts(LEGACY[0]!.yaml);
  const of = (stem: string) => scripts.find((s) => s.stem === stem)!;

  it("each hop DNATs to the next qube and lets the forward through; the target and the link's ends accept", async () => {
    const expected: Record<string, string[]> = {
      "sys-net": [
        "-A QWIRE-DNAT -s 192.168.1.0/24 -i ens6 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.137.0.6",
        "-A QWIRE-FWD -s 192.168.1.0/24 -d 10.137.0.6/32 -i ens6 -p tcp -m tcp --dport 443 -m conntrack --ctstate NEW -j ACCEPT",
        "-A QWIRE-DNAT -s 10.9.0.0/16 -i ens6 -p tcp -m tcp --dport 8000:8010 -j DNAT --to-destination 10.137.0.6",
      ],
      "sys-firewall": [
        "-A QWIRE-DNAT -s 192.168.1.0/24 -i eth0 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.137.0.20",
        "-A QWIRE-FWD -s 10.137.0.20/32 -d 10.137.0.21/32 -p tcp -m tcp --dport 5432 -m conntrack --ctstate NEW -j ACCEPT",
      ],
      web: ["-A QWIRE-IN -s 192.168.1.0/24 -i eth0 -p tcp -m tcp --dport 443 -m conntrack --ctstate NEW -j ACCEPT"],
      db: ["-A QWIRE-IN -s 10.137.0.20/32 -p tcp -m tcp --dport 5432 -m conntrack --ctstate NEW -j ACCEPT"],
    };
    for (const [stem, lines] of Object.entries(expected)) {
      const ns = await qubeWithBase("4.1");
      const run = await runInQube(ns, of(stem), addresses(of(stem)));
      expect(run.exitCode).toBe(0);
      const saved = await save(ns);
      for (const line of lines) expect(saved, stem).toContain(line);
    }
  });

  it("a filter that iptables-restore refuses leaves the rules as they were; nat is checked first when it has DNAT rules", async () => {
    // The same script with one rule no iptables accepts in its filter part.
    const refusedFilter = (s: LegacyScript): LegacyScript => {
      const line = "\tprintf 'COMMIT\\n*filter\\n:QWIRE-FWD - [0:0]\\n:QWIRE-IN - [0:0]\\n'\n";
      expect(s.content).toContain(line);
      return {
        ...s,
        content: s.content.replace(line, `${line}\tprintf -- '-A QWIRE-IN -m nosuchmatch -j ACCEPT\\n'\n`),
      };
    };
    const dnatRules = async (ns: string) =>
      (await inNs(ns, ["iptables", "-t", "nat", "-S"])).split("\n").filter((l) => l.startsWith("-A QWIRE-DNAT"));
    // sys-net has DNAT rules: --test refuses the whole input, nothing changes.
    // db has none: the check is skipped, and only an empty QWIRE-DNAT may be new.
    for (const stem of ["sys-net", "db"]) {
      const ns = await qubeWithBase("4.1");
      const base = await save(ns);
      expect((await runInQube(ns, refusedFilter(of(stem)), addresses(of(stem)))).exitCode, stem).not.toBe(0);
      const afterRefused = await save(ns);
      if (stem === "sys-net") expect(afterRefused).toBe(base);
      else {
        expect(withoutQwire(afterRefused)).toBe(withoutQwire(base));
        expect(afterRefused).not.toContain("QWIRE-IN");
        expect(await dnatRules(ns)).toEqual([]);
      }
      expect((await runInQube(ns, of(stem), addresses(of(stem)))).exitCode, stem).toBe(0);
      const applied = await save(ns);
      expect((await runInQube(ns, refusedFilter(of(stem)), addresses(of(stem)))).exitCode, stem).not.toBe(0);
      expect(await save(ns), stem).toBe(applied);
    }
    // No DNAT rule in db's script, but one live (here added by hand): checked first, kept.
    const ns = await qubeWithBase("4.1");
    expect((await runInQube(ns, of("db"), addresses(of("db")))).exitCode).toBe(0);
    await inNs(ns, [
      "iptables",
      "-t",
      "nat",
      "-A",
      "QWIRE-DNAT",
      "-p",
      "tcp",
      "--dport",
      "1",
      "-j",
      "DNAT",
      "--to-destination",
      "10.137.0.99",
    ]);
    const withDnat = await save(ns);
    expect((await runInQube(ns, refusedFilter(of("db")), addresses(of("db")))).exitCode).not.toBe(0);
    expect(await save(ns)).toBe(withDnat);
  });

  it("fails closed: a missing address leaves that rule group out, logs it, exits 3, and installs the rest", async () => {
    const ns = await qubeWithBase("4.1");
    const run = await runInQube(ns, of("sys-firewall"), addresses(of("sys-firewall"), ["db"]));
    expect(run.exitCode).toBe(3);
    expect(run.logged).toContain("link web-db-tcp-5432: not installed");
    const saved = await save(ns);
    expect(saved).not.toContain("--dport 5432");
    expect(saved).toContain("--to-destination 10.137.0.20");
  });

  it("fails closed on a hostile address: nothing of it reaches iptables", async () => {
    const ns = await qubeWithBase("4.1");
    const run = await runInQube(ns, of("sys-firewall"), "web 10.137.0.20;reboot\ndb 10.137.0.21\n");
    expect(run.exitCode).toBe(3);
    expect(run.rebootCalled).toBe(false);
    expect(await save(ns)).not.toContain("10.137.0.20");
  });

  it("a forward deleted from qwire.yaml is gone after the next run (its port closes)", async () => {
    const doc = yaml.load(LEGACY[0]!.yaml) as { forwards: unknown[] };
    doc.forwards = doc.forwards.slice(0, 1);
    const v2 = legacyScripts(yaml.dump(doc)).find((s) => s.stem === "sys-net")!;
    const ns = await qubeWithBase("4.1");
    expect((await runInQube(ns, of("sys-net"), addresses(of("sys-net")))).exitCode).toBe(0);
    expect(await save(ns)).toContain("--dport 8000:8010");
    expect((await runInQube(ns, v2, addresses(v2))).exitCode).toBe(0);
    const saved = await save(ns);
    expect(saved).not.toContain("8000:8010");
    expect(saved).toContain("--dport 443");
  });

  it("the teardown removes every chain and jump of qwire and leaves exactly the Qubes base rules", async () => {
    const ns = await qubeWithBase("4.1");
    const base = await save(ns);
    expect((await runInQube(ns, of("sys-firewall"), addresses(of("sys-firewall")))).exitCode).toBe(0);
    const teardown = await runInQube(ns, installedTeardown(iptablesBackend.teardown.render()), undefined);
    expect(teardown.stderr).toBe("");
    expect(teardown.exitCode).toBe(0);
    expect(await save(ns)).toBe(base);
    // and again: nothing left to remove is no error
    expect((await runInQube(ns, installedTeardown(iptablesBackend.teardown.render()), undefined)).exitCode).toBe(0);
  });
});

describe("lan-web-https-r32: a ProxyVM's qubes-firewall rebuilds the filter table, then runs the user script", () => {
  it("running the script after a filter rebuild gives the same rules as before", async () => {
    const script = legacyScripts(LEGACY[2]!.yaml).find((s) => s.stem === "sys-firewall")!;
    expect(script.path).toBe("/rw/config/qwire/rules.sh");
    const ns = await qubeWithBase("4.0");
    expect((await runInQube(ns, script, addresses(script))).exitCode).toBe(0);
    const before = await save(ns);
    // what an R3.2 firewall reload does to table filter: a full restore of it
    const filterOnly = qubesIptablesRules("4.0").slice(qubesIptablesRules("4.0").indexOf("*filter"));
    await inNs(ns, ["iptables-restore", "--table", "filter"], filterOnly);
    expect(await save(ns)).not.toContain("QWIRE-FWD");
    expect((await runInQube(ns, script, addresses(script))).exitCode).toBe(0);
    expect(await save(ns)).toBe(before);
  });
});
