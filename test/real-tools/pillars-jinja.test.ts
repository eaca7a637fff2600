/**
 * The pillars and the vm.sls dispatch, rendered by the real Jinja2 with a
 * stub qvm-prefs behind salt['cmd.shell'] (helpers/jinja.ts): they must give
 * YAML whose addresses are what dom0 reports now, never a build-time IP,
 * and a qube unknown to dom0 must end up as "no address" in the qube.
 */
import { afterEach, describe, expect, it } from "vitest";
import { compileOk, file } from "../helpers/compile.js";
import { renderSls } from "../helpers/jinja.js";
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
    expect(pillarsOf(built).map((a) => a.path).sort()).toEqual(built.plan.qubes.map((q) => `pillar/qwire/qubes/${q.stem}.sls`).sort());
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

  it("renders as a line with an empty address, which the script treats as missing (exit 3, web's rules left out)", async () => {
    const r = await renderSls(file(built, "pillar/qwire/qubes/sys-firewall.sls"), { ips: withoutWeb });
    expect(r.qvmPrefsCalls).toEqual(["-- db ip", "-- web ip"]);
    const addresses = (r.data as { qwire: { addresses: string } }).qwire.addresses;
    expect(addresses).toMatch(/^db 10\.137\.0\.21\nweb *\n$/);

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
  const vm = file(build(PINNED_DOTTED.yaml), "salt/qwire/vm.sls");

  it.each([
    ["web", "qwire.qubes.web"],
    ["sys.net", "qwire.qubes.sys_net"],
    ["sys-firewall", "qwire.qubes.sys-firewall"],
  ])("id %s includes %s", async (id, sls) => {
    const r = await renderSls(vm, { grains: { id } });
    expect(r.yamlError).toBeUndefined();
    expect(r.data).toEqual({ include: [sls] });
  });

  it("id dom0 includes nothing", async () => {
    const r = await renderSls(vm, { grains: { id: "dom0" } });
    expect(r.yamlError).toBeUndefined();
    expect(r.data ?? {}).toEqual({});
  });

  it("every qube the state top targets includes a state file the bundle has, and every pillar top entry a pillar it has", async () => {
    const r = compileOk(PINNED_DOTTED.yaml);
    const paths = new Set(r.artifacts.map((a) => a.path));
    const stateTop = (await renderSls(file(r, "salt/qwire/init.top"))).data as { user: Record<string, string[]> };
    const pillarTop = (await renderSls(file(r, "pillar/qwire/init.top"))).data as { user: Record<string, string[]> };
    expect(Object.keys(stateTop.user)).toContain("dev.box");

    for (const [id, states] of Object.entries(stateTop.user)) {
      if (id === "dom0") {
        expect(states).toEqual(["qwire.dom0"]);
        continue;
      }
      expect(states).toEqual(["qwire.vm"]);
      const rendered = (await renderSls(vm, { grains: { id } })).data as { include: string[] };
      for (const sls of rendered.include) expect(paths, `${id} -> ${sls}`).toContain(`salt/${sls.replaceAll(".", "/")}.sls`);
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
