/** overflowChain(): a qube's ordered outbound list as the netvm's chain of set lookups (past qubesd's ~900 rules, Qubes #4228). */
import { describe, expect, it } from "vitest";
import { overflowChain } from "../../src/plan/index.js";
import { parseFirewallRule } from "../../src/validate/firewall-rule.js";
import type { FirewallRule, QubeName } from "../../src/validate/index.js";
import { compileOk, compileText, file } from "../helpers/compile.js";

const web = "web" as QubeName;

function rules(...texts: string[]): FirewallRule[] {
  return texts.map((t) => {
    const r = parseFirewallRule(t);
    if (!r.ok) throw new Error(r.message);
    return r.value;
  });
}

describe("overflowChain", () => {
  it("groups consecutive rules of one action into one set per kind, in order, then the policy", () => {
    const c = overflowChain(
      web,
      2,
      rules(
        "accept 10.0.0.1 tcp 443",
        "accept 10.0.0.2",
        "accept 10.0.0.3 udp 53",
        "drop 192.0.2.0/24",
        "accept proto=tcp",
      ),
      "drop",
    );
    expect(c.chain).toBe("qwire-out-2");
    expect(c.steps).toEqual([
      {
        kind: "ports",
        set: "qwire-out-2-1",
        verdict: "accept",
        elements: [
          { net: "10.0.0.1/32", proto: "tcp", first: 443, last: 443 },
          { net: "10.0.0.3/32", proto: "udp", first: 53, last: 53 },
        ],
      },
      { kind: "nets", set: "qwire-out-2-2", verdict: "accept", elements: ["10.0.0.2/32"] },
      { kind: "nets", set: "qwire-out-2-3", verdict: "drop", elements: ["192.0.2.0/24"] },
      {
        kind: "ports",
        set: "qwire-out-2-4",
        verdict: "accept",
        elements: [{ net: "0.0.0.0/0", proto: "tcp", first: 0, last: 65535 }],
      },
    ]);
    expect(c.policy).toBe("drop");
    expect(c.rules).toBe(5);
  });

  it("an element overlapping one in the current set starts a new set; one it covers is left out", () => {
    const c = overflowChain(
      web,
      1,
      rules(
        "accept 10.0.0.1 tcp 443",
        "accept 10.0.0.0/8 tcp 400-500",
        "accept 10.0.0.1 tcp 450",
        "accept 10.0.0.1 udp 443",
        "accept 10.0.0.1 tcp 443",
      ),
      "drop",
    );
    expect(
      c.steps.map((s) =>
        s.kind === "ports" ? s.elements.map((e) => `${e.net} ${e.proto} ${e.first}-${e.last}`) : s.kind,
      ),
    ).toEqual([["10.0.0.1/32 tcp 443-443"], ["10.0.0.0/8 tcp 400-500", "10.0.0.1/32 udp 443-443"]]);
  });

  it("ICMP and DNS rules are steps of their own", () => {
    const c = overflowChain(
      web,
      1,
      rules(
        "accept specialtarget=dns",
        "drop proto=icmp icmptype=8",
        "accept proto=icmp",
        "accept specialtarget=dns proto=udp",
      ),
      "accept",
    );
    expect(c.steps).toEqual([
      { kind: "dns", verdict: "accept", protos: ["tcp", "udp"] },
      { kind: "icmp", verdict: "drop", net: "0.0.0.0/0", icmptype: 8 },
      { kind: "icmp", verdict: "accept", net: "0.0.0.0/0", icmptype: null },
      { kind: "dns", verdict: "accept", protos: ["udp"] },
    ]);
  });
});

const many = (n: number, extra = "") =>
  `version: 1
qubes:
  sys-net: { provides_network: true }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
firewall:
  web:
    rules:
${Array.from({ length: n }, (_, i) => `      - accept 10.${Math.floor(i / 250)}.${i % 250}.1 tcp 443\n`).join("")}${extra}`;

describe("plan: outbound lists past qubesd's limit", () => {
  it("900 rules: dom0 sets the whole list, no netvm chain", () => {
    const { plan } = compileOk(many(900));
    expect(plan.firewalls[0]!.rules).toHaveLength(901);
    expect(plan.firewalls[0]!.overflow).toBeUndefined();
    expect(plan.qubes.map((q) => q.qube)).not.toContain("sys-firewall");
  });

  it("901 rules: dom0 sets 899 and accept, sys-firewall carries the chain and learns web's address", () => {
    const result = compileOk(many(901));
    const { plan } = result;
    const fw = plan.firewalls[0]!;
    // IPv6 off before the list is relaxed (the netvm's chain is IPv4 only).
    const dom0 = file(result, "salt/qwire/dom0.sls");
    expect(dom0).toContain("qwire-ipv6-off-web:\n  qvm.features:\n    - name: web\n    - disable:\n        - ipv6\n");
    expect(dom0.slice(dom0.indexOf("qwire-firewall-web:"))).toMatch(
      / {4}- require:\n {8}- qvm: qwire-prefs-web\n {8}- qvm: qwire-ipv6-off-web\n/,
    );
    expect(fw.rules).toHaveLength(900);
    expect(fw.rules.at(-1)).toBe("action=accept");
    expect(fw.rules.at(-2)).toBe(`action=accept proto=tcp dst4=10.3.148.1/32 dstports=443-443`);
    const netvm = plan.qubes.find((q) => q.qube === "sys-firewall")!;
    expect(netvm.overflows?.map((c) => [c.qube, c.chain, c.rules, c.policy])).toEqual([
      ["web", "qwire-out-1", 901, "drop"],
    ]);
    expect(netvm.addresses).toEqual(["web"]);
    expect(netvm.hasPacketRules).toBe(true);
    expect(plan.targets).toContain("sys-firewall");
  });

  it("more than 10,000 rules, or IPv6 past the limit, are refused (QW4006)", () => {
    expect(compileText(many(10_001)).diagnostics.map((d) => d.code)).toEqual(["QW4006"]);
    expect(compileText(many(901, "      - accept dst6=2001:db8::/32\n")).diagnostics.map((d) => d.code)).toEqual([
      "QW4006",
    ]);
    expect(
      compileText(many(901, "      - accept 10.9.9.9 expire=1900000000\n")).diagnostics.map((d) => d.code),
    ).toEqual(["QW4006"]);
  });

  it("an ipv6 qube past the limit is refused (the netvm enforces IPv4 only)", () => {
    const text = many(901)
      .replace("  sys-net: { provides_network: true }", "  sys-net: { provides_network: true, ipv6: true }")
      .replace(
        "sys-firewall: { netvm: sys-net, provides_network: true }",
        "sys-firewall: { netvm: sys-net, provides_network: true, ipv6: true }",
      )
      .replace("web: { netvm: sys-firewall }", "web: { netvm: sys-firewall, ipv6: true }");
    expect(compileText(text).diagnostics.map((d) => d.code)).toEqual(["QW4006"]);
  });
});
