/**
 * install.list and SHA256SUMS, the plain-text files install.sh reads in
 * dom0: a target's digest moves exactly when a file its apply reads moves,
 * its lookups are the addresses its pillar asks qvm-prefs for, and the
 * bundle digest (sha256 of plan.json) covers every file.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bundleDigest } from "../../src/render/install-list.js";
import { compileOk, file } from "../helpers/compile.js";

const WEBS = Array.from({ length: 18 }, (_, i) => `web-${String(i + 1).padStart(2, "0")}`);

function twentyQubes(edit: "none" | "sources" | "link"): string {
  return `${[
    "version: 1",
    "qubes:",
    "  sys-net: { provides_network: true, uplink: ens6, ipv6: true }",
    "  sys-firewall: { netvm: sys-net, provides_network: true, ipv6: true }",
    ...WEBS.map((w) => `  ${w}: { netvm: sys-firewall${w === "web-03" ? ", ipv6: true" : ""} }`),
    "forwards:",
    ...WEBS.map(
      (w, i) =>
        `  - { name: ${w}-https, to: ${w}, port: ${8001 + i}, from: [${edit === "sources" && w === "web-07" ? "192.168.2.0/24" : "192.168.1.0/24"}${w === "web-03" ? ", 2001:db8::/32" : ""}] }`,
    ),
    "links:",
    `  - { from: web-01, to: web-02, ports: [${edit === "link" ? 23 : 22}] }`,
  ].join("\n")}\n`;
}

/** target -> [digest, lookups...] */
function targets(yaml: string): Map<string, string[]> {
  const list = file(compileOk(yaml), "install.list");
  return new Map(
    list
      .split("\n")
      .filter((l) => l.startsWith("target "))
      .map((l) => {
        const [, q, ...rest] = l.split(" ");
        return [q!, rest];
      }),
  );
}

function changed(a: Map<string, string[]>, b: Map<string, string[]>): string[] {
  return [...a.keys()].filter((q) => a.get(q)![0] !== b.get(q)?.[0]).sort();
}

describe("install.list", () => {
  const before = targets(twentyQubes("none"));

  it("lists every VM-phase target of the plan", () => {
    expect([...before.keys()].sort()).toEqual(["sys-firewall", "sys-net", ...WEBS].sort());
  });

  it("a one-intent edit of a 20-qube file moves the digests of the qubes on that intent's path only", () => {
    expect(changed(before, targets(twentyQubes("sources")))).toEqual(["sys-firewall", "sys-net", "web-07"]);
    expect(changed(before, targets(twentyQubes("link")))).toEqual(["sys-firewall", "web-02"]);
  });

  it("the same file gives the same digests", () => {
    expect(changed(before, targets(twentyQubes("none")))).toEqual([]);
  });

  it("each target names the addresses its pillar looks up: IPv4 as QUBE:ip, IPv6 as QUBE:ip6", () => {
    expect(before.get("sys-net")!.slice(1)).toEqual(["sys-firewall:ip", "sys-firewall:ip6"]);
    expect(before.get("sys-firewall")!.slice(1)).toEqual([...WEBS.map((w) => `${w}:ip`), "web-03:ip6"].sort());
    expect(before.get("web-02")!.slice(1)).toEqual(["web-01:ip"]);
    expect(before.get("web-05")!.slice(1)).toEqual([]);
  });

  it("a pinned address is in the pillar (so in the digest), not a lookup", () => {
    const pinned = targets(
      twentyQubes("none").replace(
        "web-05: { netvm: sys-firewall }",
        "web-05: { netvm: sys-firewall, ip: 10.137.0.55 }",
      ),
    );
    expect(pinned.get("sys-firewall")!.slice(1)).not.toContain("web-05:ip");
    expect(pinned.get("sys-firewall")![0]).not.toBe(before.get("sys-firewall")![0]);
  });
});

describe("SHA256SUMS and the bundle digest", () => {
  const { artifacts } = compileOk(twentyQubes("none"));
  const sha = (t: string) => createHash("sha256").update(t).digest("hex");

  it("SHA256SUMS lists every file but plan.json and itself, with its sha256", () => {
    const lines = file({ artifacts }, "SHA256SUMS").trimEnd().split("\n");
    const expected = artifacts
      .filter((a) => a.path !== "plan.json" && a.path !== "SHA256SUMS")
      .map((a) => `${sha(a.content)}  ${a.path}`);
    expect(lines).toEqual(expected);
  });

  it("plan.json lists SHA256SUMS with its sha256, in the one-key-a-line form install.sh reads", () => {
    const sums = sha(file({ artifacts }, "SHA256SUMS"));
    expect(file({ artifacts }, "plan.json")).toContain(
      `      "path": "SHA256SUMS",\n      "mode": "0644",\n      "sha256": "${sums}"\n`,
    );
  });

  it("the bundle digest is the sha256 of plan.json", () => {
    expect(bundleDigest(artifacts)).toBe(sha(file({ artifacts }, "plan.json")));
  });
});
