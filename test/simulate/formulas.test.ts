/**
 * Every recipe in formulas/ simulates with every event (apply, reapply,
 * firewall reload, restart, recreate, delete an intent) and every flow holds;
 * `qwire explain` gives the verdict observed on every flow of the apply event.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/simulate/index.js";
import { explainDisagreements, failures, isRoot, limit, QUEUED_TIMEOUT, ROOT, scenarioFiles } from "./helpers.js";

const slot = limit(2);

/** The machine of issue #3's time budget; its time is measured by bench/simulate.js, not here. */
const FIVE_QUBES_FOUR_INTENTS = readFileSync(join(ROOT, "bench/five-qubes-four-intents.yaml"), "utf8");

describe.skipIf(!isRoot)("qwire simulate on every recipe", () => {
  it.concurrent(
    "5 qubes, 4 intents, every event: every flow holds",
    async () => {
      const { report } = await slot(() => simulate({ name: "five-qubes.yaml", text: FIVE_QUBES_FOUR_INTENTS }));
      expect(failures(report!)).toEqual([]);
      expect(explainDisagreements("five-qubes.yaml", FIVE_QUBES_FOUR_INTENTS, report!)).toEqual([]);
      expect(report!.events).toHaveLength(6);
    },
    QUEUED_TIMEOUT,
  );

  for (const file of scenarioFiles(ROOT).filter((f) => f.startsWith("formulas"))) {
    it.concurrent(
      file,
      async () => {
        const text = readFileSync(join(ROOT, file), "utf8");
        const { report, diagnostics } = await slot(() => simulate({ name: file, text }));
        expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
        expect(failures(report!)).toEqual([]);
        expect(explainDisagreements(file, text, report!)).toEqual([]);
        expect(report!.passed).toBe(true);
        expect(report!.events.map((e) => e.name)).toEqual([
          "apply",
          "reapply",
          "firewall-reload",
          "restart",
          "recreate",
          "delete-intent",
        ]);
      },
      QUEUED_TIMEOUT,
    );
  }
});
