/** Running the simulator in-process from tests. */
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { explainFlow } from "../../src/explain/index.js";
import { check } from "../../src/pipeline.js";
import { sourceLabel, dialLabel, type SimulationReport } from "../../src/simulate/index.js";

/** The simulator needs root (namespaces, nft); without it these suites are skipped, not failed. */
export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Every check and flow that did not hold, one line each: [] when the report passed. */
export function failures(report: SimulationReport): string[] {
  return report.events.flatMap((e) => [
    ...e.checks.filter((c) => !c.pass).map((c) => `${e.name}: check ${c.name}: ${c.detail}`),
    ...e.flows
      .filter((r) => !r.pass)
      .map(
        (r) =>
          `${e.name}: ${sourceLabel(r.flow.from)} -> ${dialLabel(r.flow.dial)} ${r.flow.proto}/${r.flow.port} want ${r.flow.expect} (${r.flow.origin}: ${r.flow.why}): ${r.reason}`,
      ),
  ]);
}

/**
 * Flows of the apply event where `qwire explain`'s verdict differs from what
 * the simulation observed in the namespaces: [] when explain agrees with
 * simulate on every flow (issue #12).
 */
export function explainDisagreements(file: string, text: string, report: SimulationReport): string[] {
  const { topology, diagnostics } = check({ name: file, text });
  if (!topology) return [`${file} does not check: ${diagnostics.map((d) => d.message).join("; ")}`];
  const apply = report.events.find((e) => e.name === "apply");
  if (!apply || apply.flows.length === 0) return ["the apply event has no flows"];
  return apply.flows.flatMap((r) => {
    const f = r.flow;
    const said = explainFlow(topology, f.from, f.dial, f.proto, f.port, f.to).open ? "open" : "closed";
    return said === r.outcome.state
      ? []
      : [
          `${sourceLabel(f.from)} -> ${dialLabel(f.dial)} ${f.proto}/${f.port}: explain says ${said}, simulate observed ${r.outcome.state}`,
        ];
  });
}

/** formulas/*.yaml and test/golden/<scenario>/qwire.yaml, as they are when the test runs. */
export function scenarioFiles(root: string): string[] {
  const formulas = readdirSync(join(root, "formulas"))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join("formulas", f));
  const goldenDir = join(root, "test", "golden");
  const goldens = existsSync(goldenDir)
    ? readdirSync(goldenDir)
        .sort()
        .map((d) => join("test", "golden", d, "qwire.yaml"))
        .filter((f) => existsSync(join(root, f)))
    : [];
  return [...formulas, ...goldens];
}

export const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * Timeout of one simulation test that waits for a `limit` slot: vitest starts
 * the clock when the test starts, so the wait behind the other scenarios
 * counts too (a dozen scenarios on a loaded 2-core machine queue for minutes).
 * Not a time assertion: a hung simulation still fails, later.
 */
export const QUEUED_TIMEOUT = 900_000;

/**
 * At most `n` simulations at a time in one test file: a simulation mostly
 * waits on probe timeouts, so a few side by side keep a 2-core run short
 * without starving the probes (open flows get retries anyway).
 */
export function limit(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
