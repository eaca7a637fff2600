/**
 * The pillars and the vm.sls dispatch, rendered by the real Jinja2 with a
 * stub qvm-prefs behind salt['cmd.shell'] (helpers/jinja.ts): they must give
 * YAML whose addresses are what dom0 reports now, never a build-time IP;
 * a failed lookup gives "<key> - <reason>" (one line of safe characters
 * whatever qvm-prefs printed), which the script never loads as an address.
 */
import { afterEach, describe, expect, it } from "vitest";
import { compileOk, file } from "../helpers/compile.js";
import { type QvmPrefsAnswer, renderSls } from "../helpers/jinja.js";
import { NetnsPool, installed, listTable, qwirePart, runInQube } from "../helpers/netns.js";
import { scriptOf } from "../helpers/tools.js";
import { LAN_WEB, PINNED_DOTTED, SCENARIOS, STUB_IPS, TWO_FORWARDS, build, standUpQube } from "./scenarios.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

const pillarsOf = (built: { artifacts: readonly { path: string; content: string }[] }) =>
  built.artifacts.filter((a) => /^pillar\/qwire\/qubes\/[^/]+\.sls$/.test(a.path));

describe.each([...SCENARIOS, PINNED_DOTTED])("pillars of: $name", (scenario) => {
  const built = build(scenario.yaml);

  it("there is one pillar per qube with a script", () => {
    expect(
      pillarsOf(built)
        .map((a) => a.path)
        .sort(),
    ).toEqual(built.plan.qubes.map((q) => `pillar/qwire/qubes/${q.stem}.sls`).sort());
  });

  for (const q of built.plan.qubes) {
    it(`${q.stem}: renders to YAML with the addresses qvm-prefs gives now, asking only for unpinned qubes`, async () => {
      const r = await renderSls(file(built, `pillar/qwire/qubes/${q.stem}.sls`), { ips: STUB_IPS });
      expect(r.yamlError).toBeUndefined();
      const expected = q.addresses.map((name) => `${name} ${STUB_IPS[name]}\n`).join("");
      expect(r.data).toEqual({ qwire: { addresses: expected } });
      const asked = q.addresses.filter((name) => !built.plan.pins.has(name));
      expect(r.qvmPrefsCalls).toEqual(asked.map((name) => `-- ${name} ip`));
    });
  }
});

describe("a pinned address", () => {
  const built = build(PINNED_DOTTED.yaml);

  it("is written literally in the pillar source and qvm-prefs is never asked for it", async () => {
    const source = file(built, "pillar/qwire/qubes/sys-firewall.sls");
    expect(source).toMatch(/^ {4}dev\.box 10\.137\.0\.40$/m);
    // A stub that would give another address: the pin must win without asking.
    const r = await renderSls(source, { ips: { ...STUB_IPS, "dev.box": "10.137.0.99" } });
    expect(r.data).toEqual({ qwire: { addresses: "dev.box 10.137.0.40\nwork 10.137.0.30\n" } });
    expect(r.qvmPrefsCalls).toEqual(["-- work ip"]);
  });
});

describe("a qube dom0 does not know", () => {
  const built = build(TWO_FORWARDS.yaml);
  const { web: _web, ...withoutWeb } = STUB_IPS;

  it("renders as '<qube> - qube does not exist', which the script treats as missing (exit 3, web's rules left out)", async () => {
    const r = await renderSls(file(built, "pillar/qwire/qubes/sys-firewall.sls"), { ips: withoutWeb });
    expect(r.qvmPrefsCalls).toEqual(["-- db ip", "-- web ip"]);
    const addresses = (r.data as { qwire: { addresses: string } }).qwire.addresses;
    expect(addresses).toBe("db 10.137.0.21\nweb - qube does not exist\n");

    const script = scriptOf(built.artifacts, "sys-firewall");
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const run = await runInQube(ns, installed(script), addresses);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("forward web-https: not installed");
    const ours = qwirePart(await listTable(ns, "qubes"));
    expect(ours).toContain(`5432 comment "db-pg" : ${STUB_IPS.db}`);
    expect(ours).not.toContain("web-https");
  });
});

describe("a failed lookup carries its reason", () => {
  const built = build(TWO_FORWARDS.yaml);
  const pillarOf = async (answer: QvmPrefsAnswer) => {
    const r = await renderSls(file(built, "pillar/qwire/qubes/sys-firewall.sls"), {
      ips: STUB_IPS,
      answers: { web: answer },
    });
    expect(r.yamlError).toBeUndefined();
    return (r.data as { qwire: { addresses: string } }).qwire.addresses;
  };

  it("a qube with no netvm (qvm-prefs prints an empty ip) says so", async () => {
    expect(await pillarOf({ stdout: "\n", stderr: "", code: 0 })).toBe(
      "db 10.137.0.21\nweb - no netvm (qvm-prefs gives no ip)\n",
    );
  });

  it("another qvm-prefs error gives its last stderr line", async () => {
    const stderr = "usage: qvm-prefs [--verbose] VMNAME [PROPERTY]\nqvm-prefs: error: Got empty response from qubesd\n";
    expect(await pillarOf({ stdout: "", stderr, code: 2 })).toBe(
      "db 10.137.0.21\nweb - qvm-prefs: error: Got empty response from qubesd\n",
    );
  });

  it("a silent failure names the exit code", async () => {
    expect(await pillarOf({ stdout: "", stderr: "", code: 7 })).toBe("db 10.137.0.21\nweb - qvm-prefs exited with 7\n");
  });

  const hostile = [
    "x\nweb 10.0.0.66\n  other: 1",
    'it\'s "quoted" {{ 7*7 }} {% raw %} $(reboot) `id` ; rm -rf / # comment: value',
    "carriage\rreturn\u2028line\u2029sep\u0085next\u0000nul\u001bescape\ttab",
    "changed=yes comment='owned' key=value",
    "é".repeat(300),
  ];
  it.each(hostile)("hostile error text %j stays one line of safe characters, and never an address", async (text) => {
    const addresses = await pillarOf({ stdout: "", stderr: text, code: 1 });
    const lines = addresses.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("db 10.137.0.21");
    expect(lines[2]).toBe("");
    expect(lines[1]).toMatch(/^web - [A-Za-z0-9 ._:,()/@+_-]{1,160}$/);
  });

  it("hostile text on stdout with exit 0 becomes an invalid address, never a second line", async () => {
    const addresses = await pillarOf({ stdout: "10.0.0.9\nweb 10.0.0.66 ; nft flush ruleset", stderr: "", code: 0 });
    expect(addresses.split("\n")).toHaveLength(3);
    expect(addresses).toMatch(/^db 10\.137\.0\.21\nweb [0-9a-fA-F.:_]+\n$/);
    expect(addresses).not.toMatch(/^web 10\.0\.0\.9$/m);
  });

  it("the script leaves the rule out, logs the reason and exits 3", async () => {
    const addresses = await pillarOf({ stdout: "", stderr: "qvm-prefs: error: no such domain: 'web'\n", code: 2 });
    expect(addresses).toBe("db 10.137.0.21\nweb - qube does not exist\n");
    const script = scriptOf(built.artifacts, "sys-firewall");
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const run = await runInQube(ns, installed(script), addresses);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("forward web-https: not installed");
    const ours = qwirePart(await listTable(ns, "qubes"));
    expect(ours).toContain(`5432 comment "db-pg" : ${STUB_IPS.db}`);
    expect(ours).not.toContain("web-https");
  });
});

describe("salt/qwire/vm.sls dispatch on grains['id']", () => {
  const built = build(PINNED_DOTTED.yaml);
  const vm = file(built, "salt/qwire/vm.sls");
  const states = built.artifacts
    .filter((a) => /^salt\/qwire\/.*\.sls$/.test(a.path))
    .map((a) => a.path.slice("salt/".length, -".sls".length).replaceAll("/", "."));
  const noop = {
    "qwire-no-state-for-this-qube": {
      "cmd.run": [
        { name: `echo "changed=no comment='qwire has no state for this qube in this bundle, nothing to do'"` },
        {
          stateful: [
            { test_name: `echo "changed=no comment='qwire has no state for this qube in this bundle, nothing to do'"` },
          ],
        },
      ],
    },
  };

  it.each([
    ["work", "qwire.qubes.work"],
    ["dev.box", "qwire.qubes.dev_box"],
    ["sys-firewall", "qwire.qubes.sys-firewall"],
  ])("id %s includes %s", async (id, sls) => {
    expect(states).toContain(sls);
    const r = await renderSls(vm, { grains: { id }, states });
    expect(r.yamlError).toBeUndefined();
    expect(r.data).toEqual({ include: [sls] });
  });

  it("a qube the bundle has no state for (a bystander, or its state is gone) gets one state that changes nothing", async () => {
    for (const id of ["bystander", "work"]) {
      const r = await renderSls(vm, { grains: { id }, states: states.filter((s) => s !== "qwire.qubes.work") });
      expect(r.yamlError).toBeUndefined();
      expect(r.data).toEqual(noop);
    }
  });

  it("id dom0 includes nothing (the no-op state only)", async () => {
    const r = await renderSls(vm, { grains: { id: "dom0" }, states: [...states, "qwire.qubes.dom0"] });
    expect(r.yamlError).toBeUndefined();
    expect(r.data).toEqual(noop);
  });

  it("every qube the state top targets includes a state file the bundle has, and every pillar top entry a pillar it has", async () => {
    const r = compileOk(PINNED_DOTTED.yaml);
    const paths = new Set(r.artifacts.map((a) => a.path));
    const stateTop = (await renderSls(file(r, "salt/qwire/init.top"))).data as { user: Record<string, string[]> };
    const pillarTop = (await renderSls(file(r, "pillar/qwire/init.top"))).data as { user: Record<string, string[]> };
    expect(Object.keys(stateTop.user)).toContain("dev.box");

    for (const [id, targets] of Object.entries(stateTop.user)) {
      if (id === "dom0") {
        expect(targets).toEqual(["qwire.dom0"]);
        continue;
      }
      expect(targets).toEqual(["qwire.vm"]);
      const rendered = (await renderSls(vm, { grains: { id }, states })).data as { include: string[] };
      expect(rendered.include).toHaveLength(1);
      for (const sls of rendered.include)
        expect(paths, `${id} -> ${sls}`).toContain(`salt/${sls.replaceAll(".", "/")}.sls`);
    }
    for (const [id, pillars] of Object.entries(pillarTop.user)) {
      for (const sls of pillars) expect(paths, `${id} -> ${sls}`).toContain(`pillar/${sls.replaceAll(".", "/")}.sls`);
    }
  });
});

describe("R3.2 pillars", () => {
  // R3.2's qvm-prefs gets one property with -g (reference §6); R4 ignores -g.
  const built = build(LAN_WEB.yaml.replace(/^version: 1\n/m, 'version: 1\nrelease: "3.2"\n'));

  it("ask `qvm-prefs -g -- NAME ip` and render the same addresses", async () => {
    const r = await renderSls(file(built, "pillar/qwire/qubes/sys-firewall.sls"), { ips: STUB_IPS });
    expect(r.yamlError).toBeUndefined();
    expect(r.data).toEqual({ qwire: { addresses: `web ${STUB_IPS.web}\n` } });
    expect(r.qvmPrefsCalls).toEqual(["-g -- web ip"]);
  });
});
