/**
 * Every generated qube script, run for real by /bin/sh against the Qubes
 * base nftables tables in a fresh network namespace (see helpers/netns.ts):
 * it must load in one transaction that `nft -c` accepts, add exactly the
 * rules its intents need, touch nothing Qubes owns besides one jump per
 * custom chain, and give the same ruleset when run again.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  NetnsPool,
  baseTableChanges,
  installed,
  listRuleset,
  listTable,
  otherTables,
  runInQube,
  tableBlocks,
} from "../helpers/netns.js";
import { PINNED_DOTTED, SCENARIOS, build, standUpQube, stubAddresses } from "./scenarios.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

describe.each([...SCENARIOS, PINNED_DOTTED])("$name", (scenario) => {
  const built = build(scenario.yaml);

  it("has a script for exactly the qubes that need rules", () => {
    expect(built.scripts.map((s) => s.stem).sort()).toEqual(Object.keys(scenario.expect).sort());
  });

  for (const script of built.scripts) {
    it(`${script.stem}: one nft -c checked transaction adds its rules, leaves Qubes' chains alone and is idempotent`, async () => {
      const ns = await standUpQube(pool, built, scenario.yaml, script);
      const baseRuleset = await listRuleset(ns);
      const baseQubes = await listTable(ns, "qubes");

      const first = await runInQube(ns, installed(script), stubAddresses(built, script.stem));
      expect(first.stderr).toBe("");
      expect(first.exitCode).toBe(0);
      expect(first.nftChecks).toBe(1);

      const qubes = await listTable(ns, "qubes");
      const blocks = tableBlocks(qubes);
      for (const [block, lines] of Object.entries(scenario.expect[script.stem] ?? {})) {
        const body = blocks.get(block);
        expect(body, `${block} in\n${qubes}`).toBeDefined();
        for (const line of lines) expect(body, `${block} in\n${qubes}`).toContain(line);
      }
      expect(baseTableChanges(baseQubes, qubes, true)).toEqual([]);
      const ruleset = await listRuleset(ns);
      expect(otherTables(ruleset)).toBe(otherTables(baseRuleset));

      const second = await runInQube(ns, installed(script), stubAddresses(built, script.stem));
      expect(second.exitCode).toBe(0);
      expect(second.nftChecks).toBe(1);
      expect(await listRuleset(ns)).toBe(ruleset);
    });
  }
});
