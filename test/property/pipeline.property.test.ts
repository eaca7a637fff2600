/**
 * The pipeline's safety properties (properties.ts) over generated documents
 * (arbitraries.ts), with a small fixed seed so that the suite stays quick and
 * repeatable; `npm run fuzz` runs the same properties on many more inputs.
 * Counterexamples found by fuzzing are kept in regressions.ts and run first.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { NetnsPool } from "../helpers/netns.js";
import { hostileYaml, validYaml, type Generated } from "./arbitraries.js";
import { checkArtifact, compileProperty, toolCounts, toolsProperty } from "./properties.js";
import { REGRESSIONS } from "./regressions.js";

const SEED = 20261129;
const pool = new NetnsPool();
afterAll(() => pool.deleteAll());

const holds = (g: Generated) => {
  const failures = compileProperty(g);
  if (failures.length > 0) throw new Error(failures.join("\n"));
};

describe("kept counterexamples", () => {
  for (const r of REGRESSIONS) {
    it(r.name, async () => {
      expect(compileProperty(r)).toEqual([]);
      expect(await toolsProperty(r, pool)).toEqual([]);
    });
  }
});

describe("the checks themselves", () => {
  it("flag Jinja that is not qwire's own, Jinja outside Salt files, a look-alike character and a file that is not YAML", () => {
    const pillar = (content: string) => checkArtifact({ path: "pillar/qwire/qubes/web.sls", content, mode: 0o644 });
    expect(pillar("qwire:\n  addresses: |\n    web {{ salt['cmd.run']('reboot') }}\n")).toHaveLength(1);
    expect(
      pillar("qwire: {% set r = salt['cmd.run_all']('qvm-prefs -- we$b ip', ignore_retcode=True) %}\n"),
    ).toHaveLength(1);
    expect(pillar("qwire: [\n")).toHaveLength(1);
    expect(
      checkArtifact({ path: "salt/qwire/files/web/50-qwire.rc", content: "#!/bin/sh\necho {{ x }}\n", mode: 0o755 }),
    ).toHaveLength(1);
    expect(checkArtifact({ path: "README.md", content: "\u0455ys-net\n", mode: 0o644 })).toHaveLength(1);
  });
});

describe("compile-only properties", () => {
  it("valid documents: no throw, well-formed diagnostics, safe and deterministic bundles (300 inputs)", () => {
    let built = 0;
    fc.assert(
      fc.property(validYaml, (g) => {
        holds(g);
        if (!g.yaml.includes("x-merge")) built++;
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(built).toBeGreaterThan(0);
  });

  it("hostile documents: the same (600 inputs)", () => {
    fc.assert(fc.property(hostileYaml, holds), { seed: SEED, numRuns: 600 });
  });
});

describe("real-tool properties", () => {
  it("scripts of built documents pass sh -n, shellcheck and nft -c in a namespace with the Qubes base tables (6 inputs)", async () => {
    await fc.assert(
      fc.asyncProperty(validYaml, async (g) => {
        const failures = await toolsProperty(g, pool);
        if (failures.length > 0) throw new Error(failures.join("\n"));
      }),
      { seed: SEED, numRuns: 6 },
    );
    // Something was checked: scripts linted and nft transactions loaded.
    expect(toolCounts.scripts).toBeGreaterThan(0);
    expect(toolCounts.nftLoads).toBeGreaterThan(0);
  });
});
