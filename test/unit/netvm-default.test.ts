/**
 * `netvm: default`: the qube follows dom0's default_netvm. qwire plans it
 * behind the qube `default_netvm` names, dom0 checks that name before it
 * resets the qube's netvm to '*default*', and re-attaching keeps it at the default.
 */
import { describe, expect, it } from "vitest";
import { check, reconnect } from "../../src/pipeline.js";
import { compileOk } from "../helpers/compile.js";

const YAML = `version: 1
default_netvm: sys-firewall
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: default }
  dev: { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
`;

const source = (text: string) => ({ name: "qwire.yaml", text });

describe("netvm: default", () => {
  const { plan } = compileOk(YAML);

  it("is planned behind the qube default_netvm names: the forward's hop lands in sys-firewall", () => {
    expect(plan.qubes.find((q) => q.qube === "sys-firewall")?.forwardHops.map((h) => h.intent)).toEqual(["web-https"]);
    expect(plan.prefs.find((p) => p.qube === "web")).toEqual({
      qube: "web",
      netvm: "sys-firewall",
      followsDefault: true,
    });
    expect(plan.prefs.find((p) => p.qube === "dev")).toEqual({ qube: "dev", netvm: "sys-firewall" });
    expect(plan.defaultNetvm).toBe("sys-firewall");
  });

  it("dom0 is told to check default_netvm only when a qube follows it", () => {
    expect(
      compileOk(YAML.replace("web: { netvm: default }", "web: { netvm: sys-firewall }")).plan.defaultNetvm,
    ).toBeUndefined();
  });

  it("re-attaching sets the netvm (which re-attaches) and then resets it, so the qube is not left pinned", () => {
    const r = reconnect(source(YAML));
    expect(r.script).toContain("qvm-prefs web netvm sys-firewall && qvm-prefs --default web netvm\n");
    expect(r.script).toContain("qvm-prefs dev netvm sys-firewall\n");
  });

  it("a document with another error still plans followers behind default_netvm (no knock-on 'has no netvm')", () => {
    const broken = YAML.replace("port: 443", "port: 99999");
    const codes = check(source(broken)).diagnostics.map((d) => d.code);
    expect(codes).toEqual(["QW2004"]);
  });

  it("'none' and 'default' cannot name a qube (Qubes' own rule), so 'netvm: default' is never a qube", () => {
    const text = "version: 1\nqubes:\n  sys-net: { provides_network: true }\n  default: { netvm: sys-net }\n";
    const codes = check(source(text)).diagnostics.map((d) => d.code);
    expect(codes).toContain("QW2003");
  });
});
