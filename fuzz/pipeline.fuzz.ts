/**
 * `npm run fuzz`: the pipeline's safety properties (test/property/properties.ts)
 * on many generated documents. Environment:
 *   QWIRE_FUZZ_RUNS        compile-only inputs (default 100000: a third valid, two thirds hostile)
 *   QWIRE_FUZZ_TOOL_RUNS   inputs whose scripts go through sh -n, shellcheck and nft -c (default 200)
 *   QWIRE_FUZZ_SEED        seed (default: the clock; printed, so a run can be replayed)
 * Prints inputs/s and, for a failure, the shrunk input and what is wrong with it
 * (add it to test/property/regressions.ts once fixed). Fails when a property fails.
 */
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { compileText } from "../test/helpers/compile.js";
import { NetnsPool } from "../test/helpers/netns.js";
import { hostileYaml, validYaml, type Generated } from "../test/property/arbitraries.js";
import { compileProperty, toolCounts, toolsProperty } from "../test/property/properties.js";

const RUNS = Number(process.env.QWIRE_FUZZ_RUNS ?? 100_000);
const TOOL_RUNS = Number(process.env.QWIRE_FUZZ_TOOL_RUNS ?? 200);
const SEED = Number(process.env.QWIRE_FUZZ_SEED ?? Date.now() % 2 ** 31);
const pool = new NetnsPool();
afterAll(() => pool.deleteAll());

function report(name: string, runs: number, ms: number, built: number, details: fc.RunDetails<[Generated]>): void {
  const rate = (runs / (ms / 1000)).toFixed(0);
  console.log(
    `${name}: ${details.numRuns} inputs in ${(ms / 1000).toFixed(1)} s (${rate} inputs/s), ${built} built a bundle, seed ${SEED}`,
  );
  if (details.failed) {
    const g = details.counterexample?.[0];
    console.log(
      `FAILED after ${details.numRuns} inputs, shrunk ${details.numShrinks} times (replay: seed ${SEED}, path "${details.counterexamplePath}")`,
    );
    console.log(`input: ${JSON.stringify(g)}`);
    console.log(`yaml:\n${g?.yaml}`);
    console.log(
      `what is wrong:\n${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`,
    );
  }
}

async function compileOnly(name: string, arb: fc.Arbitrary<Generated>, runs: number): Promise<void> {
  const stats = { built: 0 };
  let n = 0;
  const t0 = performance.now();
  const details = await fc.check(
    fc.asyncProperty(arb, async (g) => {
      // Let the worker answer vitest now and then (a run of minutes without it ends in "Timeout calling onTaskUpdate").
      if (++n % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      const failures = compileProperty(g, stats);
      if (failures.length > 0) throw new Error(failures.join("\n"));
    }),
    { seed: SEED, numRuns: runs },
  );
  report(name, runs, performance.now() - t0, stats.built, details);
  expect(details.failed, name).toBe(false);
}

it(`compile-only, valid documents (${Math.round(RUNS / 3)} inputs)`, async () =>
  compileOnly("valid", validYaml, Math.round(RUNS / 3)));
it(`compile-only, hostile documents (${RUNS - Math.round(RUNS / 3)} inputs)`, async () =>
  compileOnly("hostile", hostileYaml, RUNS - Math.round(RUNS / 3)));

it(`real tools: sh -n, shellcheck, nft -c (${TOOL_RUNS} inputs)`, async () => {
  let built = 0;
  const t0 = performance.now();
  const details = await fc.check(
    fc.asyncProperty(validYaml, async (g) => {
      if (compileText(g.yaml).artifacts) built++;
      const failures = await toolsProperty(g, pool);
      if (failures.length > 0) throw new Error(failures.join("\n"));
    }),
    { seed: SEED, numRuns: TOOL_RUNS },
  );
  report("tools", TOOL_RUNS, performance.now() - t0, built, details);
  console.log(
    `tools: ${toolCounts.scripts} scripts through sh -n and shellcheck, ${toolCounts.nftLoads} nft transactions checked with nft -c and loaded (${toolCounts.ipv6Scripts} scripts beside table ip6 qubes)`,
  );
  expect(details.failed).toBe(false);
});
