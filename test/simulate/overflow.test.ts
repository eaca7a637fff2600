/**
 * `qwire simulate` on a qube with 10,000 outbound rules: dom0's qvm.firewall
 * list stops at 899 rules and accept, so every flow past rule 899 (and the
 * policy) is decided by sys-firewall's chain alone. Flows are a sample of
 * the rules (src/simulate/flows/outbound.ts): the first and last, those
 * around qubesd's limit, evenly spaced ones and drops, and a host in none.
 */
import { describe, expect, it } from "vitest";
import { dialLabel, simulate, sourceLabel } from "../../src/simulate/index.js";
import { tenThousandRules } from "../helpers/overflow.js";
import { failures, isRoot } from "./helpers.js";

describe.skipIf(!isRoot)("qwire simulate: 10,000 outbound rules, enforced in the netvm", () => {
  it("every sampled flow holds after every event", { timeout: 300_000 }, async () => {
    const started = performance.now();
    const { report, diagnostics } = await simulate({ name: "qwire.yaml", text: tenThousandRules() });
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(failures(report!)).toEqual([]);
    const flows = report!.events[0]!.flows.filter((r) => r.flow.origin === "firewall web");
    const seen = flows.map(
      (r) => `${sourceLabel(r.flow.from)} -> ${dialLabel(r.flow.dial)} ${r.flow.proto}/${r.flow.port} ${r.flow.expect}`,
    );
    // Past rule 899 only sys-firewall's chain decides: accepted, dropped, and the policy.
    expect(seen).toEqual(
      expect.arrayContaining([
        "web -> internet 192.0.2.50 tcp/2222 closed",
        "web -> internet 10.0.1.1 tcp/443 open",
        "web -> internet 10.0.1.1 tcp/444 closed",
        "web -> internet 10.7.249.1 tcp/2222 closed",
        "web -> internet 10.39.241.1 tcp/443 open",
        "web -> internet 10.39.239.1 udp/1039 open",
        "web -> internet 203.0.113.50 tcp/2222 closed",
        "web -> internet 203.0.0.50 tcp/2222 open",
        "web -> internet 10.9.9.9 tcp/443 closed",
      ]),
    );
    expect(flows.filter((r) => r.flow.why.startsWith("a host in no rule"))).toHaveLength(1);
    expect(flows.length).toBeLessThan(200);
    console.log(
      `simulate, 10,000 rules: ${flows.length} outbound flows per event, ${report!.events.length} events, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  });
});
