import { describe, expect, it } from "vitest";
import { compileOk, file } from "./helpers/compile.js";

describe("the bundled example", () => {
  it("compiles to a bundle with a script per qube on the path", () => {
    const r = compileOk(`version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
forwards:
  - { to: web, port: 443, from: [192.168.1.0/24] }
`);
    expect(r.plan.targets).toEqual(["sys-firewall", "sys-net", "web"]);
    const sysNet = file(r, "salt/qwire/files/sys-net/50-qwire");
    expect(sysNet).toContain(
      'add rule ip qubes qwire-dnat iifname "ens6" dnat to ip saddr . meta l4proto . th dport map @qwire-dnat-1',
    );
    expect(sysNet).toContain(
      'add element ip qubes qwire-dnat-1 { 192.168.1.0/24 . tcp . 443 comment "web-tcp-443" : <sys-firewall> }',
    );
  });
});
