/** resolveTopology: given qubes and forwards, want the hops, entry and interfaces of each route. */
import { describe, expect, it } from "vitest";
import { compileOk, compileText } from "../helpers/compile.js";

const DEFAULT_QUBES = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: [ens6, wlan0] }
  sys-firewall: { netvm: sys-net, provides_network: true }
  sys-vpn: { netvm: sys-firewall, provides_network: true, role: service, uplink: wg0 }
  sys-firewall-2: { netvm: sys-vpn, provides_network: true }
  sys-usb: { provides_network: true }
  web: { netvm: sys-firewall }
  work: { netvm: sys-firewall-2 }
  dev: { netvm: sys-firewall-2 }
  lone: { netvm: sys-net }
`;

function routes(forwards: string) {
  const r = compileOk(`${DEFAULT_QUBES}forwards:\n${forwards}`);
  return r.topology!.forwards.map((f) => ({
    name: f.forward.name,
    entry: f.entry,
    interfaces: f.interfaces,
    hops: f.hops,
  }));
}

describe("forward routes", () => {
  const TABLE: {
    why: string;
    forwards: string;
    want: { name: string; entry: string; interfaces: string[]; hops: string[] }[];
  }[] = [
    {
      why: "2-hop chain: entry defaults to the top of the chain, interfaces to its uplinks",
      forwards: "  - { to: lone, port: 80, from: [10.0.0.0/8] }\n",
      want: [{ name: "lone-tcp-80", entry: "sys-net", interfaces: ["ens6", "wlan0"], hops: ["sys-net", "lone"] }],
    },
    {
      why: "3-hop chain",
      forwards: "  - { to: web, port: 443, from: [10.0.0.0/8] }\n",
      want: [
        {
          name: "web-tcp-443",
          entry: "sys-net",
          interfaces: ["ens6", "wlan0"],
          hops: ["sys-net", "sys-firewall", "web"],
        },
      ],
    },
    {
      why: "interface override picks one uplink",
      forwards: "  - { to: web, port: 443, from: [10.0.0.0/8], interface: wlan0 }\n",
      want: [
        { name: "web-tcp-443", entry: "sys-net", interfaces: ["wlan0"], hops: ["sys-net", "sys-firewall", "web"] },
      ],
    },
    {
      why: "entry override inside the chain: hops start there",
      forwards: "  - { to: web, port: 443, from: [10.0.0.0/8], entry: sys-firewall, interface: eth1 }\n",
      want: [{ name: "web-tcp-443", entry: "sys-firewall", interfaces: ["eth1"], hops: ["sys-firewall", "web"] }],
    },
    {
      why: "entry at a service qube is allowed (the service qube is the entry), interfaces default to its uplink",
      forwards: "  - { to: work, port: 22, from: [10.0.0.0/8], entry: sys-vpn }\n",
      want: [
        { name: "work-tcp-22", entry: "sys-vpn", interfaces: ["wg0"], hops: ["sys-vpn", "sys-firewall-2", "work"] },
      ],
    },
    {
      why: "a net qube without netvm as its own entry: one hop",
      forwards: "  - { to: sys-usb, port: 8080, from: [10.0.0.0/8], entry: sys-usb, interface: usb0 }\n",
      want: [{ name: "sys-usb-tcp-8080", entry: "sys-usb", interfaces: ["usb0"], hops: ["sys-usb"] }],
    },
    {
      why: "named forward with a port range, in file order",
      forwards:
        "  - { name: b, to: web, port: '8000-8010', from: [10.0.0.0/8] }\n  - { name: a, to: lone, port: 81, proto: udp, from: [10.0.0.0/8] }\n",
      want: [
        { name: "b", entry: "sys-net", interfaces: ["ens6", "wlan0"], hops: ["sys-net", "sys-firewall", "web"] },
        { name: "a", entry: "sys-net", interfaces: ["ens6", "wlan0"], hops: ["sys-net", "lone"] },
      ],
    },
  ];
  for (const row of TABLE) it(row.why, () => expect(routes(row.forwards)).toEqual(row.want));
});

describe("links and the netvm graph", () => {
  it("a link resolves to the shared firewall qube", () => {
    const r = compileOk(`${DEFAULT_QUBES}links:\n  - { from: work, to: dev, ports: [22] }\n`);
    expect(r.topology!.links.map((l) => [l.link.name, l.firewall])).toEqual([["work-dev-tcp-22", "sys-firewall-2"]]);
  });

  it("upstream walks the netvm chain; cycles are listed once, from their smallest name", () => {
    const r = compileOk(DEFAULT_QUBES);
    expect(r.topology!.graph.upstream("work" as never)).toEqual([
      "work",
      "sys-firewall-2",
      "sys-vpn",
      "sys-firewall",
      "sys-net",
    ]);
    expect(r.topology!.graph.cycles()).toEqual([]);
    const loop = compileText(
      "version: 1\nqubes:\n  b: { netvm: a, provides_network: true }\n  a: { netvm: b, provides_network: true }\n  c: { netvm: a }\n",
    );
    expect(loop.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["QW3002", "the netvm chain loops: a -> b -> a"],
    ]);
  });

  it("all topology errors of one file are reported together", () => {
    const r = compileText(`${DEFAULT_QUBES}  x: { netvm: nope }
forwards:
  - to: work
    port: 22
    from: [10.0.0.0/8]
links:
  - from: web
    to: work
`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["QW3001", "QW3005", "QW3007"]);
  });
});
