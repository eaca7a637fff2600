/**
 * The simulator must catch broken bundles: each test breaks a built bundle
 * on purpose and expects exactly the flows (or checks) that break to FAIL,
 * and the rest to PASS.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SimulateError, simulateCompiled, sourceLabel, type SimulationReport } from "../../src/simulate/index.js";
import type { Artifact } from "../../src/render/index.js";
import { compileOk } from "../helpers/compile.js";
import { isRoot, ROOT } from "./helpers.js";

const WEB_AND_WORK = `version: 1
qubes:
  sys-net:      { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web:          { netvm: sys-firewall }
  work:         { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
links:
  - { name: work-web, from: work, to: web, ports: [8080] }
`;

const WEB_ONLY = WEB_AND_WORK.replace(/links:[\s\S]*$/, "");

function edit(path: string, change: (text: string) => string) {
  return (artifacts: readonly Artifact[]): readonly Artifact[] =>
    artifacts.map((a) => {
      if (a.path !== path) return a;
      const content = change(a.content);
      if (content === a.content) throw new Error(`the tamper did not change ${path}`);
      return { ...a, content };
    });
}

function run(
  text: string,
  events: ("apply" | "reapply" | "delete-intent")[],
  tamper: (a: readonly Artifact[], phase: "initial" | "after-delete") => readonly Artifact[],
) {
  const compiled = compileOk(text);
  return simulateCompiled({ name: "qwire.yaml", text }, compiled as never, { events, tamper });
}

/** "event: source -> to proto/port" of every failing flow. */
function failing(report: SimulationReport): string[] {
  return report.events.flatMap((e) =>
    e.flows
      .filter((r) => !r.pass)
      .map((r) => `${e.name}: ${sourceLabel(r.flow.from)} -> ${r.flow.to} ${r.flow.proto}/${r.flow.port}`),
  );
}

describe.skipIf(!isRoot)("the simulator catches broken bundles", () => {
  it("the untouched bundle passes (control)", async () => {
    const report = await run(WEB_AND_WORK, ["apply"], (a) => a);
    expect(failing(report)).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it("the destination's input accept removed: the forward FAILs, the link still holds", async () => {
    const report = await run(WEB_AND_WORK, ["apply"], (a, phase) =>
      phase === "initial"
        ? edit("salt/qwire/files/web/50-qwire.rc", (t) =>
            t.replace(/^add element ip qubes qwire-fin-\d+ \{ .* \. 443 comment "web-https" \}\n/m, ""),
          )(a)
        : a,
    );
    expect(failing(report)).toEqual(["apply: outside 192.168.1.50 -> web tcp/443"]);
    expect(report.passed).toBe(false);
    const flow = report.events[0]!.flows.find((r) => !r.pass)!;
    expect(flow.reason).toMatch(/^expected open, but no answer within/);
  });

  it("a forward that DNATs to the wrong qube FAILs", async () => {
    const report = await run(
      WEB_ONLY.replace(
        "web:          { netvm: sys-firewall }",
        "web:          { netvm: sys-firewall }\n  other:        { netvm: sys-firewall }",
      ),
      ["apply"],
      (a, phase) =>
        phase === "initial"
          ? edit("pillar/qwire/qubes/sys-firewall.sls", (t) =>
              t.replace("qvm-prefs -- web ip", "qvm-prefs -- other ip"),
            )(a)
          : a,
    );
    expect(failing(report)).toEqual(["apply: outside 192.168.1.50 -> web tcp/443"]);
  });

  it("a script that is not idempotent FAILs the reapply check", async () => {
    const report = await run(WEB_ONLY, ["reapply"], (a, phase) =>
      phase === "initial"
        ? edit("salt/qwire/files/web/50-qwire.rc", (t) => `${t}nft add rule ip qubes custom-input counter\n`)(a)
        : a,
    );
    const reapply = report.events.find((e) => e.name === "reapply")!;
    expect(reapply.checks.filter((c) => !c.pass).map((c) => c.name)).toEqual(["ruleset of web identical"]);
    expect(failing(report)).toEqual([]);
  });

  it("a deleted intent whose rules stay behind FAILs: its port must be closed", async () => {
    const report = await run(WEB_ONLY, ["delete-intent"], (a, phase) =>
      phase === "after-delete" ? edit("salt/qwire/teardown-nft", () => "#!/bin/sh\nexit 0\n")(a) : a,
    );
    expect(failing(report)).toEqual(["delete-intent: outside 192.168.1.50 -> web tcp/443"]);
    const flow = report.events.at(-1)!.flows.find((r) => !r.pass)!;
    expect(flow.reason).toBe("expected closed, but web answered");
  });

  it("a state outside the Salt subset is refused loudly", async () => {
    const run1 = run(WEB_ONLY, ["apply"], (a, phase) =>
      phase === "initial"
        ? edit("salt/qwire/qubes/web.sls", (t) => `${t}qwire-web-extra:\n  pkg.installed:\n    - name: nginx\n`)(a)
        : a,
    );
    await expect(run1).rejects.toThrow(SimulateError);
    await expect(run1).rejects.toThrow(/pkg\.installed, which is not in qwire's Salt subset/);
  });
});

/** Issue #4: the checks of qrexec links, IPv6 and outbound policy must be able to fail too. */
const QREXEC = `version: 1
qubes:
  sys-net: { provides_network: true }
  work:    { netvm: sys-net }
  vault:   {}
links:
  - { name: vault-ssh, from: work, to: vault, via: qrexec, ports: [22], local_port: 2222 }
`;

const IPV6 = `version: 1
qubes:
  sys-net:      { provides_network: true, uplink: ens6, ipv6: true }
  sys-firewall: { netvm: sys-net, provides_network: true, ipv6: true }
  web:          { netvm: sys-firewall, ipv6: true }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24, "2001:db8:1::/64"] }
`;

const DROP_POLICY_LINK = `version: 1
qubes:
  sys-net:      { provides_network: true }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web:          { netvm: sys-firewall }
  db:           { netvm: sys-firewall }
links:
  - { from: web, to: db, ports: [5432] }
firewall:
  web:
    policy: drop
    rules:
      - accept dsthost=192.0.2.10 proto=tcp dstports=443
`;

describe.skipIf(!isRoot)("the simulator catches broken bundles of issue #4", () => {
  it.concurrent("the qrexec policy line removed: the qrexec link FAILs (dom0 denies the call)", async () => {
    const report = await run(QREXEC, ["apply"], (a, phase) =>
      phase === "initial"
        ? edit("salt/qwire/dom0.sls", (t) =>
            t.replace(/^ *qubes\.ConnectTCP \+22 work @default allow target=vault\n/m, ""),
          )(a)
        : a,
    );
    expect(failing(report)).toEqual(["apply: work -> vault tcp/2222"]);
    expect(report.events[0]!.notes).toContain(
      "qrexec refused qubes.ConnectTCP+22 from work to @default: denied by 90-default.policy:2",
    );
  });

  it.concurrent("the IPv6 input accept removed: the IPv6 forward FAILs, the IPv4 one holds", async () => {
    const report = await run(IPV6, ["apply"], (a, phase) =>
      phase === "initial"
        ? edit("salt/qwire/files/web/50-qwire.rc", (t) =>
            t.replace(/^add element ip6 qubes qwire-fin-\d+ \{ .* \. 443 comment "web-https" \}\n/m, ""),
          )(a)
        : a,
    );
    expect(failing(report)).toEqual(["apply: outside 2001:db8:1::50 -> web tcp/443"]);
  });

  it.concurrent("Qubes #3644: the accept qwire puts in front of a drop policy removed: the link FAILs", async () => {
    const report = await run(DROP_POLICY_LINK, ["apply"], (a, phase) =>
      phase === "initial"
        ? edit("salt/qwire/dom0.sls", (t) =>
            t.replace(/^ *- action=accept proto=tcp dst4=10\.137\.0\.0\/16 dstports=5432-5432\n/m, ""),
          )(a)
        : a,
    );
    expect(failing(report)).toEqual(["apply: web -> db tcp/5432"]);
  });
});

describe.skipIf(!isRoot)(
  "the simulator catches broken bundles of issue #4 part 2 (outbound lists past qubesd's limit)",
  () => {
    const OVERFLOW = readFileSync(join(ROOT, "test", "golden", "outbound-policy-overflow", "qwire.yaml"), "utf8");

    it("sys-firewall's jump to web's chain removed: what only that chain drops (past rule 899, and the policy) FAILs", async () => {
      const report = await run(OVERFLOW, ["apply"], (a, phase) =>
        phase === "initial"
          ? edit("salt/qwire/files/sys-firewall/50-qwire", (t) =>
              t.replace(/^insert rule ip qubes qwire-forward .* jump qwire-out-1\n/m, ""),
            )(a)
          : a,
      );
      // 203.0.113.50 (dropped by rule 910) and a host in no rule (policy drop): dom0's list ends in accept after rule 899.
      expect(failing(report)).toEqual(["apply: web -> @internet tcp/2222", "apply: web -> @internet tcp/443"]);
      expect(report.events[0]!.flows.filter((r) => !r.pass).map((r) => r.flow.dial)).toEqual([
        expect.objectContaining({ address: "203.0.113.50" }),
        expect.objectContaining({ address: "172.31.255.9" }),
      ]);
    });
  },
);
