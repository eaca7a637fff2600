/**
 * Every golden scenario (test/golden/<name>/qwire.yaml, globbed when the
 * test runs) simulates with every event and every flow holds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/simulate/index.js";
import { failures, isRoot, limit, ROOT, scenarioFiles } from "./helpers.js";

const slot = limit(3);

describe.skipIf(!isRoot)("qwire simulate on every golden scenario", () => {
  for (const file of scenarioFiles(ROOT).filter((f) => f.startsWith("test"))) {
    it.concurrent(file, async () => {
      const { report, diagnostics } = await slot(() => simulate({ name: file, text: readFileSync(join(ROOT, file), "utf8") }));
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(failures(report!)).toEqual([]);
      expect(report!.passed).toBe(true);
    });
  }
});
