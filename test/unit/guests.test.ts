/** Guest net qubes in plan and render: hosts as targets, previous hosts cleaned, teardowns kept apart. */
import { describe, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";

const GUESTS = `version: 1
release: "4.3"
qubes:
  sys-net: { provides_network: true, uplink: ens6, disposable_template: dvm-net }
  sys-firewall: { netvm: sys-net, provides_network: true, custom_persist: true, placement: template, template: debian-12 }
  sys-vpn: { netvm: sys-firewall, provides_network: true, disposable_template: dvm-net }
  web: { netvm: sys-vpn }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
`;

const PLAIN = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  web: { netvm: sys-net }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
`;

const file = (artifacts: readonly { path: string; content: string }[], path: string) =>
  artifacts.find((a) => a.path === path)?.content;

describe("guest net qubes", () => {
  const { plan, artifacts } = compileOk(GUESTS);

  it("targets the hosts, never the guests, and lists each host's guests", () => {
    expect(plan.targets).toEqual(["debian-12", "dvm-net", "web"]);
    expect(plan.hosts).toEqual([
      { host: "debian-12", stem: "debian-12", guests: [{ qube: "sys-firewall", kind: "template" }], teardown: false },
      {
        host: "dvm-net",
        stem: "dvm-net",
        guests: [
          { qube: "sys-net", kind: "disposable" },
          { qube: "sys-vpn", kind: "disposable" },
        ],
        teardown: false,
      },
    ]);
  });

  it("gives two guests of one host their own script and addresses", () => {
    expect(file(artifacts, "salt/qwire/files/dvm-net/50-qwire-sys-net")).toContain(
      '[ "$(qubesdb-read /name)" = sys-net ] || exit 0',
    );
    expect(file(artifacts, "salt/qwire/files/dvm-net/50-qwire-sys-vpn")).toContain(
      "QWIRE_ADDRESSES=/rw/config/qwire/guests/sys-vpn/addresses",
    );
    const template = file(artifacts, "salt/qwire/files/debian-12/50-qwire-sys-firewall")!;
    expect(template).toContain("QWIRE_ADDRESSES=/etc/qubes/qwire/sys-firewall/addresses");
    expect(template).toContain("# /etc/qubes/qubes-firewall.d/50-qwire-sys-firewall");
    const state = file(artifacts, "salt/qwire/qubes/dvm-net.sls")!;
    expect(state).toContain("! -name 50-qwire-sys-net ! -name 50-qwire-sys-vpn");
    // The guard skips the script in the host: the state never runs it.
    expect(state).not.toMatch(/name: \/rw\/config\/qubes-firewall\.d\/50-qwire-sys-net\n\s+- require/);
    expect(file(artifacts, "pillar/qwire/qubes/dvm-net.sls")).toContain("sys-vpn:");
    expect(file(artifacts, "pillar/qwire/init.top")).toContain("debian-12:\n    - qwire.qubes.debian-12");
  });

  it("writes the hosts into plan.json for the next build", () => {
    const json = JSON.parse(file(artifacts, "plan.json")!) as {
      hosts: unknown;
      qubes: { name: string; host?: string; script: string }[];
    };
    expect(json.hosts).toEqual([
      { name: "debian-12", guests: ["sys-firewall"] },
      { name: "dvm-net", guests: ["sys-net", "sys-vpn"] },
    ]);
    expect(json.qubes.find((q) => q.name === "sys-vpn")).toMatchObject({
      host: "dvm-net",
      script: "/rw/config/qubes-firewall.d/50-qwire-sys-vpn",
    });
  });

  it("a host of the previous build with no guests left gets a state that removes their files, and no pillar", () => {
    const next = compileOk(PLAIN, {
      previousQubes: ["sys-net", "sys-firewall", "sys-vpn", "web"],
      previousHosts: ["dvm-net", "debian-12"],
    });
    expect(next.plan.hosts.map((h) => [h.host, h.guests.length])).toEqual([
      ["debian-12", 0],
      ["dvm-net", 0],
    ]);
    expect(next.plan.targets).toEqual(["debian-12", "dvm-net", "sys-firewall", "sys-net", "sys-vpn", "web"]);
    const state = file(next.artifacts, "salt/qwire/qubes/dvm-net.sls")!;
    expect(state).toContain("find /rw/config/qubes-firewall.d -mindepth 1 -maxdepth 1 -name ''50-qwire-*'' -print");
    expect(file(next.artifacts, "pillar/qwire/qubes/dvm-net.sls")).toBeUndefined();
  });

  it("a qube that carried rules and now hosts guests: one state, teardown first", () => {
    const next = compileOk(GUESTS, { previousQubes: ["dvm-net"] });
    expect(next.plan.teardowns).toEqual([]);
    const state = file(next.artifacts, "salt/qwire/qubes/dvm-net.sls")!;
    expect(state).toContain("qwire-dvm-net-teardown:");
    expect(state).toMatch(/qwire-dvm-net-guest-sys-net-dir:[\s\S]*?- file: qwire-dvm-net-remove-dir/);
    expect(file(next.artifacts, "salt/qwire/teardown-nft")).toBeDefined();
  });
});
