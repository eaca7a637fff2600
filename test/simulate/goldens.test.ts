/**
 * Every golden scenario (test/golden/<name>/qwire.yaml, globbed when the
 * test runs) simulates with every event and every flow holds, except the
 * compiler bugs the simulator found and that are reported, not fixed here:
 * for those exactly the listed flows must fail (once the compiler is fixed,
 * this test says so and the entry goes).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dialLabel, simulate, sourceLabel, type SimulationReport } from "../../src/simulate/index.js";
import { failures, isRoot, limit, ROOT, scenarioFiles } from "./helpers.js";

const slot = limit(3);

const LOOPING_EVENTS = ["apply", "reapply", "firewall-reload", "restart"];

/**
 * qrexec-links: web-pair is both_ways with local_port = port (8080), so each
 * qube's own qrexec socket holds 127.0.0.1:8080, the very address
 * qubes.ConnectTCP+8080 connects to in it: the service cannot listen there,
 * and a call would reach the socket and loop (QW3016 does not catch it).
 * After delete-intent (web-pair removed) everything holds.
 */
const KNOWN_BUGS: Record<string, string[]> = {
  "test/golden/qrexec-links/qwire.yaml": LOOPING_EVENTS.flatMap((e) => [`${e}: dev -> 127.0.0.1 tcp/8080`, `${e}: work -> 127.0.0.1 tcp/8080`]),
};

function failingFlows(report: SimulationReport): string[] {
  return report.events.flatMap((e) => e.flows.filter((r) => !r.pass).map((r) => `${e.name}: ${sourceLabel(r.flow.from)} -> ${dialLabel(r.flow.dial)} ${r.flow.proto}/${r.flow.port}`)).sort();
}

describe.skipIf(!isRoot)("qwire simulate on every golden scenario", () => {
  for (const file of scenarioFiles(ROOT).filter((f) => f.startsWith("test"))) {
    it.concurrent(file, async () => {
      const { report, diagnostics } = await slot(() => simulate({ name: file, text: readFileSync(join(ROOT, file), "utf8") }));
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const known = KNOWN_BUGS[file];
      if (known) {
        expect(failingFlows(report!)).toEqual([...known].sort());
        expect(report!.events.flatMap((e) => e.checks.filter((c) => !c.pass))).toEqual([]);
        return;
      }
      expect(failures(report!)).toEqual([]);
      expect(report!.passed).toBe(true);
    });
  }
});
