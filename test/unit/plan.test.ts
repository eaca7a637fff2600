/** plan(): given a qwire.yaml, want which qube carries which hop, input and link pass, and what is torn down. */
import { describe, expect, it } from "vitest";
import type { QubePlan } from "../../src/plan/index.js";
import { compileOk } from "../helpers/compile.js";

const DEFAULT_QUBES = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  work: { netvm: sys-firewall }
  dev: { netvm: sys-firewall, ip: 10.137.0.40 }
`;

function planOf(extra: string, previousQubes: string[] = []) {
  return compileOk(`${DEFAULT_QUBES}${extra}`, { previousQubes }).plan;
}

function qube(p: { qubes: readonly QubePlan[] }, name: string): QubePlan {
  const q = p.qubes.find((x) => x.qube === name);
  if (!q) throw new Error(`no plan for ${name}: ${p.qubes.map((x) => x.qube).join(", ")}`);
  return q;
}

describe("forwards: a hop in every net qube on the path, an input in the target", () => {
  const p = planOf(`forwards:
  - name: web-https
    to: web
    port: 443
    external_port: 8443
    from: [192.168.1.0/24, 10.0.0.0/8]
`);

  it("the entry qube: arrival on the outside interface, external port, DNAT to the next qube", () => {
    expect(qube(p, "sys-net").forwardHops).toEqual([
      {
        intent: "web-https",
        arrival: { kind: "interface", name: "ens6" },
        sources: [
          { family: 4, text: "10.0.0.0/8" },
          { family: 4, text: "192.168.1.0/24" },
        ],
        proto: "tcp",
        dport: { first: 8443, last: 8443 },
        next: "sys-firewall",
      },
    ]);
  });

  it("the last net qube: arrival on the uplink, translates to the target's port", () => {
    expect(qube(p, "sys-firewall").forwardHops).toEqual([
      {
        intent: "web-https",
        arrival: { kind: "uplink" },
        sources: [
          { family: 4, text: "10.0.0.0/8" },
          { family: 4, text: "192.168.1.0/24" },
        ],
        proto: "tcp",
        dport: { first: 8443, last: 8443 },
        next: "web",
        translateTo: 443,
      },
    ]);
  });

  it("the target: an input on its uplink, on the translated port, and nothing else", () => {
    const web = qube(p, "web");
    expect(web.forwardHops).toEqual([]);
    expect(web.forwardInputs).toEqual([
      {
        intent: "web-https",
        arrival: { kind: "uplink" },
        sources: [
          { family: 4, text: "10.0.0.0/8" },
          { family: 4, text: "192.168.1.0/24" },
        ],
        proto: "tcp",
        dport: { first: 443, last: 443 },
      },
    ]);
    expect(web.addresses).toEqual([]);
  });

  it("placement: net qubes in qubes-firewall.d, others in rc.local.d", () => {
    expect(p.qubes.map((q) => [q.qube, q.placement])).toEqual([
      ["sys-firewall", "qubes-firewall.d"],
      ["sys-net", "qubes-firewall.d"],
      ["web", "rc.local.d"],
    ]);
  });

  it("addresses: each net qube learns the address of its next hop only", () => {
    expect(qube(p, "sys-net").addresses).toEqual(["sys-firewall"]);
    expect(qube(p, "sys-firewall").addresses).toEqual(["web"]);
  });

  it("targets: every qube carrying files, sorted", () => {
    expect(p.targets).toEqual(["sys-firewall", "sys-net", "web"]);
  });

  it("no translation when external_port is left out", () => {
    const q = planOf(`forwards:\n  - { to: web, port: "8000-8010", proto: udp, from: [any] }\n`);
    expect(qube(q, "sys-firewall").forwardHops.map((h) => [h.proto, h.dport, "translateTo" in h])).toEqual([
      ["udp", { first: 8000, last: 8010 }, false],
    ]);
    expect(qube(q, "sys-net").forwardHops[0]!.sources).toEqual([{ family: 4, text: "0.0.0.0/0" }]);
  });
});

describe("links: a pass in the firewall qube, an input in the target", () => {
  it("one way: pass work -> dev in sys-firewall, input from work in dev", () => {
    const p = planOf(`links:\n  - { from: work, to: dev, ports: [22] }\n`);
    expect(qube(p, "sys-firewall").linkPasses).toEqual([
      {
        from: "work",
        to: "dev",
        intents: ["work-dev-tcp-22"],
        traffic: [{ kind: "ports", proto: "tcp", ports: [{ first: 22, last: 22 }] }],
      },
    ]);
    expect(qube(p, "dev").linkInputs).toEqual([
      {
        from: "work",
        intents: ["work-dev-tcp-22"],
        traffic: [{ kind: "ports", proto: "tcp", ports: [{ first: 22, last: 22 }] }],
      },
    ]);
    expect(p.qubes.map((q) => q.qube)).toEqual(["dev", "sys-firewall"]);
    expect(qube(p, "sys-firewall").addresses).toEqual(["dev", "work"]);
    expect(qube(p, "dev").addresses).toEqual(["work"]);
  });

  it("both_ways: passes in both directions, inputs in both qubes", () => {
    const p = planOf(`links:\n  - { from: work, to: dev, ports: [22], both_ways: true }\n`);
    expect(qube(p, "sys-firewall").linkPasses.map((l) => [l.from, l.to])).toEqual([
      ["dev", "work"],
      ["work", "dev"],
    ]);
    expect(qube(p, "work").linkInputs.map((i) => i.from)).toEqual(["dev"]);
    expect(qube(p, "dev").linkInputs.map((i) => i.from)).toEqual(["work"]);
    expect(p.targets).toEqual(["dev", "sys-firewall", "work"]);
  });

  it("overlapping and adjacent port ranges of two links are merged per protocol", () => {
    const p = planOf(`links:
  - { name: a, from: work, to: dev, ports: [22, "8000-8010"] }
  - { name: b, from: work, to: dev, ports: ["8005-8020", 8021, 23] }
  - { name: c, from: work, to: dev, ports: [53], proto: udp }
`);
    expect(qube(p, "sys-firewall").linkPasses).toEqual([
      {
        from: "work",
        to: "dev",
        intents: ["a", "b", "c"],
        traffic: [
          {
            kind: "ports",
            proto: "tcp",
            ports: [
              { first: 22, last: 23 },
              { first: 8000, last: 8021 },
            ],
          },
          { kind: "ports", proto: "udp", ports: [{ first: 53, last: 53 }] },
        ],
      },
    ]);
  });

  it("all traffic absorbs port lists; proto any without ports is all traffic", () => {
    const p = planOf(
      `links:\n  - { name: a, from: work, to: dev, ports: [22] }\n  - { name: b, from: work, to: dev, proto: any }\n`,
    );
    expect(qube(p, "dev").linkInputs).toEqual([{ from: "work", intents: ["a", "b"], traffic: [{ kind: "all" }] }]);
  });

  it("proto tcp without ports: every TCP port", () => {
    const p = planOf(`links:\n  - { from: work, to: dev, proto: tcp }\n`);
    expect(qube(p, "dev").linkInputs[0]!.traffic).toEqual([
      { kind: "ports", proto: "tcp", ports: [{ first: 1, last: 65535 }] },
    ]);
  });
});

describe("teardowns, prefs, pins", () => {
  it("qubes of the previous build that carry nothing now are torn down, sorted, and targeted", () => {
    const p = planOf(`links:\n  - { from: work, to: dev, ports: [22] }\n`, ["zeta", "my.vm", "dev", "alpha", "zeta"]);
    expect(p.teardowns).toEqual([
      { qube: "alpha", stem: "alpha" },
      { qube: "my.vm", stem: "my_vm" },
      { qube: "zeta", stem: "zeta" },
    ]);
    expect(p.targets).toEqual(["alpha", "dev", "my.vm", "sys-firewall", "zeta"]);
  });

  it("no previous build: no teardowns", () => {
    expect(planOf("").teardowns).toEqual([]);
    expect(planOf("").targets).toEqual([]);
  });

  it("dom0 prefs for every qube with something to enforce; pins only for pinned qubes", () => {
    const p = planOf("");
    expect(p.prefs).toEqual([
      { qube: "dev", netvm: "sys-firewall", ip: "10.137.0.40" },
      { qube: "sys-firewall", netvm: "sys-net", providesNetwork: true },
      { qube: "sys-net", providesNetwork: true },
      { qube: "web", netvm: "sys-firewall" },
      { qube: "work", netvm: "sys-firewall" },
    ]);
    expect([...p.pins]).toEqual([["dev", "10.137.0.40"]]);
  });

  it("qube plans are sorted by name in code-point order (upper case first)", () => {
    const r = compileOk(`version: 1
qubes:
  sys-firewall: { provides_network: true, uplink: ens6 }
  b: { netvm: sys-firewall }
  B: { netvm: sys-firewall }
  a: { netvm: sys-firewall }
links:
  - { from: b, to: a, both_ways: true }
  - { from: B, to: a }
`);
    expect(r.plan.qubes.map((q) => q.qube)).toEqual(["a", "b", "sys-firewall"]);
    expect(r.plan.qubes.find((q) => q.qube === "a")!.addresses).toEqual(["B", "b"]);
    expect(r.plan.targets).toEqual(["a", "b", "sys-firewall"]);
  });
});

describe("backend and placements per release (reference §2, §3)", () => {
  const yamlFor = (release: string) => `version: 1
release: "${release}"
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
forwards:
  - { to: web, port: 443, from: [192.168.1.0/24] }
`;
  const given: [string, string, Record<string, string>][] = [
    ["4.3", "nft", { "sys-net": "qubes-firewall.d", "sys-firewall": "qubes-firewall.d", web: "rc.local.d" }],
    ["4.2", "nft", { "sys-net": "qubes-firewall.d", "sys-firewall": "qubes-firewall.d", web: "rc.local.d" }],
    ["4.1", "iptables", { "sys-net": "qubes-firewall.d", "sys-firewall": "qubes-firewall.d", web: "rc.local" }],
    ["4.0", "iptables", { "sys-net": "qubes-firewall.d", "sys-firewall": "qubes-firewall.d", web: "rc.local" }],
    // R3.2: only ProxyVMs run qubes-firewall; the NetVM at the top uses rc.local.
    ["3.2", "iptables", { "sys-net": "rc.local", "sys-firewall": "qubes-firewall-user-script", web: "rc.local" }],
  ];
  it.each(given)("R%s: backend %s, placements %o", (release, backend, placements) => {
    const p = compileOk(yamlFor(release)).plan;
    expect(p.backend).toBe(backend);
    expect(Object.fromEntries(p.qubes.map((q) => [q.qube, q.placement]))).toEqual(placements);
  });
});
