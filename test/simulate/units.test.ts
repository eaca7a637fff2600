/** The parts of the simulator that need no root: flow derivation, the matrix, qvm-firewall translation, the Salt subset. */
import { describe, expect, it } from "vitest";
import { compileChunks } from "../../src/simulate/apply/salt-subset.js";
import { deriveFlows } from "../../src/simulate/flows/derive.js";
import { formatMatrix, sourceLabel, dialLabel, SimulateError } from "../../src/simulate/index.js";
import { qvmFirewallToNft } from "../../src/simulate/model/qvm-firewall.js";
import { normalizeRuleset } from "../../src/simulate/events.js";
import { compileOk } from "../helpers/compile.js";
import { evaluate, parsePolicy, DEFAULT_POLICY } from "../../src/simulate/qrexec/policy.js";
import { contains6, parseCidr6, pickInside6, pickOutside6, qubeAddress6 } from "../../src/simulate/model/ipv6.js";

const LAN_WEB = `version: 1
qubes:
  sys-net:      { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web:          { netvm: sys-firewall }
  work:         { netvm: sys-firewall }
  dev:          { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, external_port: 8443, from: [192.168.1.0/24] }
links:
  - { name: work-dev, from: work, to: dev, ports: [22] }
expect:
  - { from: "outside:192.168.1.7", to: web, port: 8443, result: open }
`;

describe("deriveFlows", () => {
  const { flows, lans } = deriveFlows(compileOk(LAN_WEB).topology!);
  const line = (f: (typeof flows)[number]) =>
    `${sourceLabel(f.from)} -> ${dialLabel(f.dial)} ${f.proto}/${f.port} (${f.to}:${f.serverPort}) ${f.expect}: ${f.origin}, ${f.why}`;

  it("derives every expectation of issue #3 from the intents, and keeps expect entries", () => {
    expect(flows.map(line)).toEqual([
      "outside 192.168.1.7 -> sys-net:ens6 tcp/8443 (web:443) open: expect #1, as written in qwire.yaml",
      "outside 192.168.1.50 -> sys-net:ens6 tcp/8443 (web:443) open: forward web-https, client inside 'from'",
      "outside 192.168.1.50 -> sys-net:ens6 tcp/8444 (web:444) closed: forward web-https, neighbouring port",
      "outside 192.168.1.50 -> sys-net:ens6 udp/8443 (web:443) closed: forward web-https, udp instead of tcp",
      "outside 10.9.9.9 -> sys-net:ens6 tcp/8443 (web:443) closed: forward web-https, client outside 'from'",
      "dev -> web tcp/443 (web:443) closed: forward web-https, from another qube",
      "sys-firewall -> web tcp/443 (web:443) closed: forward web-https, from another qube",
      "sys-net -> web tcp/443 (web:443) closed: forward web-https, from another qube",
      "work -> web tcp/443 (web:443) closed: forward web-https, from another qube",
      "work -> dev tcp/22 (dev:22) open: link work-dev, from 'from' to 'to'",
      "dev -> work tcp/22 (work:22) closed: link work-dev, the other direction",
      "sys-firewall -> dev tcp/22 (dev:22) closed: link work-dev, from a third qube",
      "sys-net -> dev tcp/22 (dev:22) closed: link work-dev, from a third qube",
      "web -> dev tcp/22 (dev:22) closed: link work-dev, from a third qube",
      "work -> dev tcp/23 (dev:23) closed: link work-dev, neighbouring port",
      "work -> dev udp/22 (dev:22) closed: link work-dev, udp instead of tcp",
    ]);
  });

  it("puts the clients on the entry's outside network", () => {
    expect(lans).toEqual([
      { qube: "sys-net", iface: "ens6", clients: ["10.9.9.9", "192.168.1.50", "192.168.1.7"], uplink: true },
    ]);
  });

  it("expects a port open when another intent opens it", () => {
    const both = deriveFlows(
      compileOk(LAN_WEB.replace("links:", "links:\n  - { name: dev-web, from: dev, to: web, ports: [443] }")).topology!,
    );
    const f = both.flows.find((x) => sourceLabel(x.from) === "dev" && x.to === "web" && x.port === 443)!;
    expect(f.expect).toBe("open");
    expect(f.why).toBe("from another qube; open by link dev-web");
  });
});

describe("formatMatrix", () => {
  it("shows one row per client, one column per qube, ! where the probe disagreed", () => {
    const { flows } = deriveFlows(compileOk(LAN_WEB).topology!);
    const results = flows.slice(0, 3).map((flow, i) => ({
      flow,
      outcome:
        i === 2
          ? ({ state: "open", reached: "web" } as const)
          : ({
              state: flow.expect === "open" ? "open" : "closed",
              ...(flow.expect === "open" ? { reached: "web" } : { how: "refused" }),
            } as never),
      attempts: 1,
      pass: i !== 2,
      reason: "",
    }));
    expect(formatMatrix(results)).toBe(
      [
        "from \\ to             web",
        "--------------------  -----------------------------",
        "outside 192.168.1.7   8443/tcp open",
        "outside 192.168.1.50  8443/tcp open, !8444/tcp open",
        "",
      ].join("\n"),
    );
  });
});

describe("qvmFirewallToNft", () => {
  it("turns a qvm-firewall list into the agent's statements, first match wins", () => {
    expect(
      qvmFirewallToNft([
        "action=accept proto=tcp dst4=192.0.2.10/32 dstports=443-443 comment=mirror",
        "action=accept specialtarget=dns",
        "action=accept dsthost=198.51.100.0/24 dstports=123",
        "action=drop proto=icmp icmptype=8",
        "action=drop",
      ]),
    ).toEqual([
      "ip daddr 192.0.2.10/32 tcp dport 443 accept",
      "ip daddr { 10.139.1.1, 10.139.1.2 } tcp dport 53 accept",
      "ip daddr { 10.139.1.1, 10.139.1.2 } udp dport 53 accept",
      "ip daddr 198.51.100.0/24 tcp dport 123 accept",
      "ip daddr 198.51.100.0/24 udp dport 123 accept",
      "ip protocol icmp icmp type 8 reject with icmp admin-prohibited",
      "reject with icmp admin-prohibited",
    ]);
  });

  it("refuses host names, which Qubes resolves in dom0 and the model cannot", () => {
    expect(() => qvmFirewallToNft(["action=accept dsthost=example.org"])).toThrow(SimulateError);
  });
});

describe("the Salt subset", () => {
  const doc = (data: Record<string, unknown>) => [{ sls: "qwire.qubes.web", data }];

  it("reads both state forms and their requisites", () => {
    const chunks = compileChunks(
      doc({
        a: { "file.managed": [{ name: "/rw/config/x" }, { contents: "x" }, { mode: "0644" }] },
        b: { cmd: ["run", { name: "/rw/config/x" }, { require: [{ file: "a" }] }, { onchanges: [{ file: "a" }] }] },
      }),
    );
    expect(
      chunks.map((c) => [
        c.id,
        `${c.module}.${c.fun}`,
        c.name,
        c.requisites.map((r) => `${r.kind} ${r.module}:${r.ref}`),
      ]),
    ).toEqual([
      ["a", "file.managed", "/rw/config/x", []],
      ["b", "cmd.run", "/rw/config/x", ["require file:a", "onchanges file:a"]],
    ]);
  });

  it.each([
    [{ x: { "pkg.installed": [{ name: "nginx" }] } }, /pkg\.installed, which is not in qwire's Salt subset/],
    [{ x: { "file.managed": [{ name: "/rw/x" }, { template: "jinja" }] } }, /argument 'template'/],
    [{ x: { "file.replace": [{ name: "/rw/x" }] } }, /file\.replace/],
    [{ x: { "cmd.run": [{ name: "true" }, { prereq: [{ file: "y" }] }] } }, /argument 'prereq'/],
  ])("refuses %j", (data, message) => {
    expect(() => compileChunks(doc(data))).toThrow(message);
  });
});

describe("normalizeRuleset", () => {
  it("ignores counters only", () => {
    expect(normalizeRuleset("counter packets 12 bytes 720 accept\ncounter packets 0 bytes 0")).toBe(
      "counter accept\ncounter",
    );
  });
});

describe("dom0's qrexec policy", () => {
  const rules = [
    ...parsePolicy(
      "30-qwire.policy",
      "# qrexec links\nqubes.ConnectTCP +22 work @default allow target=vault\nqubes.ConnectTCP +8080 dev @default allow target=work\n",
    ),
    ...parsePolicy("90-default.policy", DEFAULT_POLICY),
  ];
  const call = (source: string, argument: string) =>
    evaluate(rules, { source, target: "@default", service: "qubes.ConnectTCP", argument });

  it("allows the link's own call and sends it to target=", () => {
    expect(call("work", "22")).toEqual({ allow: true, target: "vault", rule: "30-qwire.policy:2" });
  });

  it("denies the same call from a third qube: the default deny (@anyvm matches @default) is the first match", () => {
    expect(call("dev", "22")).toEqual({
      allow: false,
      reason: "qubes.ConnectTCP+22 from dev to @default: denied by 90-default.policy:2",
    });
  });

  it("matches the argument exactly, and denies what no rule matches", () => {
    expect(call("work", "23")).toMatchObject({ allow: false });
    expect(
      evaluate(parsePolicy("a.policy", "qubes.ConnectTCP +22 work @default allow target=vault\n"), {
        source: "work",
        target: "@default",
        service: "qubes.ConnectTCP",
        argument: "2",
      }),
    ).toEqual({
      allow: false,
      reason: "qubes.ConnectTCP+2 from work to @default: no policy rule matches (denied)",
    });
  });

  it("refuses what it does not model instead of guessing", () => {
    expect(() => parsePolicy("x.policy", "qubes.ConnectTCP * @tag:work @anyvm allow\n")).toThrow(SimulateError);
    expect(() => parsePolicy("x.policy", "qubes.ConnectTCP * work @default ask\n")).toThrow(
      /action 'ask' is not modelled/,
    );
  });
});

describe("IPv6 in the model", () => {
  it("gives a qube Qubes' address: the prefix and the IPv4 address as the last 32 bits", () => {
    expect(qubeAddress6("10.137.0.5")).toBe("fd09:24ef:4179::a89:5");
  });

  it("picks clients inside and outside a forward's IPv6 networks", () => {
    const nets = ["2001:db8:1::/64", "fd00::/48"].map(parseCidr6);
    expect(pickInside6(nets[0]!, new Set())).toBe("2001:db8:1::50");
    const out = pickOutside6(nets, new Set())!;
    expect(nets.some((n) => contains6(n, out))).toBe(false);
  });

  it("puts a qvm-firewall list into ip6 qubes-firewall: IPv4 hosts and DNS left out, drop as icmpv6", () => {
    expect(
      qvmFirewallToNft(
        [
          "action=accept dst4=192.0.2.10/32 proto=tcp dstports=443-443",
          "action=accept dst6=2001:db8::/32 proto=tcp dstports=22-22",
          "action=accept specialtarget=dns",
          "action=drop",
        ],
        6,
      ),
    ).toEqual(["ip6 daddr 2001:db8::/32 tcp dport 22 accept", "reject with icmpv6 admin-prohibited"]);
  });
});

describe("deriveFlows for issue #4", () => {
  const label = (f: ReturnType<typeof deriveFlows>["flows"][number]) =>
    `${sourceLabel(f.from)} -> ${dialLabel(f.dial)} ${f.proto}/${f.port} (${f.to}:${f.serverPort}) ${f.expect}`;

  it("qrexec link: open from 'from' on 127.0.0.1:local_port, closed in 'to' (one way) and in third qubes, a third qube's call denied", () => {
    const { flows } = deriveFlows(
      compileOk(`version: 1
qubes:
  sys-net: { provides_network: true }
  work:    { netvm: sys-net }
  vault:   {}
links:
  - { name: vault-ssh, from: work, to: vault, via: qrexec, ports: [22], local_port: 2222 }
`).topology!,
    );
    expect(flows.map(label)).toEqual([
      "work -> 127.0.0.1 tcp/2222 (vault:22) open",
      "vault -> 127.0.0.1 tcp/2222 (work:22) closed",
      "sys-net -> 127.0.0.1 tcp/2222 (vault:22) closed",
      "sys-net -> qrexec @default tcp/22 (vault:22) closed",
    ]);
  });

  it("outbound policy: each rule's host and the next port, and a host in no rule, judged first match wins", () => {
    const { flows, lans } = deriveFlows(
      compileOk(`version: 1
qubes:
  sys-net: { provides_network: true }
  web:     { netvm: sys-net }
firewall:
  web:
    policy: drop
    rules:
      - accept dsthost=192.0.2.10 proto=tcp dstports=443
      - drop dsthost=192.0.2.0/24
      - accept dsthost=192.0.2.0/24 proto=udp dstports=123
`).topology!,
    );
    expect(flows.map(label)).toEqual([
      "web -> internet 192.0.2.10 tcp/443 (@internet:443) open",
      "web -> internet 192.0.2.10 tcp/444 (@internet:444) closed",
      "web -> internet 192.0.2.50 tcp/2222 (@internet:2222) closed",
      "web -> internet 192.0.2.50 udp/123 (@internet:123) closed",
      "web -> internet 192.0.2.50 udp/124 (@internet:124) closed",
      "web -> internet 10.9.9.9 tcp/443 (@internet:443) closed",
    ]);
    expect(lans).toEqual([
      { qube: "sys-net", iface: "inet0", clients: ["10.9.9.9", "192.0.2.10", "192.0.2.50"], uplink: true },
    ]);
  });
});
