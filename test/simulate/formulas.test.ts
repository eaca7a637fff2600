/**
 * Every recipe in formulas/ simulates with every event (apply, reapply,
 * firewall reload, restart, recreate, delete an intent) and every flow holds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/simulate/index.js";
import { failures, isRoot, ROOT, scenarioFiles } from "./helpers.js";

describe.skipIf(!isRoot)("qwire simulate on every recipe", () => {
  for (const file of scenarioFiles(ROOT).filter((f) => f.startsWith("formulas"))) {
    it(file, async () => {
      const { report, diagnostics } = await simulate({ name: file, text: readFileSync(join(ROOT, file), "utf8") });
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(failures(report!)).toEqual([]);
      expect(report!.passed).toBe(true);
      expect(report!.events.map((e) => e.name)).toEqual(["apply", "reapply", "firewall-reload", "restart", "recreate", "delete-intent"]);
    });
  }
});
