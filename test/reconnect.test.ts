/** `qwire reconnect` and salt/qwire/reconnect.sls: upstream first, release syntax. */
import { describe, expect, it } from "vitest";
import { reconnect } from "../src/pipeline.js";
import { compileOk, file } from "./helpers/compile.js";

const CHAIN = (release: string) => `version: 1
release: "${release}"
qubes:
  work:             { netvm: sys-firewall-vpn }
  sys-firewall-vpn: { netvm: sys-vpn, provides_network: true }
  sys-vpn:          { netvm: sys-firewall, provides_network: true, role: service }
  sys-firewall:     { netvm: sys-net, provides_network: true }
  sys-net:          { provides_network: true }
  alpha:            { netvm: sys-firewall }
`;

const commands = (script: string | undefined) => (script ?? "").split("\n").filter((l) => l.startsWith("qvm-prefs"));

describe("reconnect", () => {
  it("re-attaches upstream first, then by name", () => {
    const r = reconnect({ name: "qwire.yaml", text: CHAIN("4.2") });
    expect(r.diagnostics).toEqual([]);
    expect(commands(r.script)).toEqual([
      "qvm-prefs sys-firewall netvm sys-net",
      "qvm-prefs alpha netvm sys-firewall",
      "qvm-prefs sys-vpn netvm sys-firewall",
      "qvm-prefs sys-firewall-vpn netvm sys-vpn",
      "qvm-prefs work netvm sys-firewall-vpn",
    ]);
  });

  it("uses qvm-prefs -s on R3.2, whose bundles are not built yet", () => {
    const r = reconnect({ name: "qwire.yaml", text: CHAIN("3.2") });
    expect(commands(r.script)[0]).toBe("qvm-prefs -s sys-firewall netvm sys-net");
  });

  it("refuses a file with errors", () => {
    const r = reconnect({ name: "qwire.yaml", text: CHAIN("4.2").replace("netvm: sys-net,", "netvm: sys-nett,") });
    expect(r.script).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["QW3001"]);
  });

  it("is carried in the bundle as a dom0 state that only touches running qubes, in the same order", () => {
    const bundle = compileOk(CHAIN("4.3"));
    const sls = file(bundle, "salt/qwire/reconnect.sls");
    const names = [...sls.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(names).toEqual(commands(reconnect({ name: "qwire.yaml", text: CHAIN("4.3") }).script));
    expect(sls).toContain("onlyif: qvm-check --quiet --running work && qvm-check --quiet --running sys-firewall-vpn");
    expect(file(bundle, "README.md")).toContain("sudo qubesctl state.apply qwire.reconnect saltenv=user");
  });

  it("is left out of a bundle that declares no netvm", () => {
    const bundle = compileOk("version: 1\nqubes:\n  sys-net: { provides_network: true }\n");
    expect(bundle.artifacts.map((a) => a.path)).not.toContain("salt/qwire/reconnect.sls");
  });
});
