/**
 * Every golden scenario (test/golden/<name>/qwire.yaml, globbed when the
 * test runs) simulates with every event and every flow holds; scenarios the
 * model does not cover (R4.0, R3.2, guest net qubes) are refused, not
 * half-simulated. On every flow of the apply event `qwire explain` must
 * give the verdict the simulation observed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/simulate/index.js";
import { explainDisagreements, failures, isRoot, limit, QUEUED_TIMEOUT, ROOT, scenarioFiles } from "./helpers.js";

const slot = limit(2);

/** Releases the model has base rules for (docs/simulate.md); R4.0 and R3.2 are refused. */
const MODELLED = /^release: "(4\.0|3\.2)"/m;

describe.skipIf(!isRoot)("qwire simulate on every golden scenario", () => {
  const files = scenarioFiles(ROOT).filter((f) => f.startsWith("test"));
  const legacy = files.filter((f) => MODELLED.test(readFileSync(join(ROOT, f), "utf8")));

  it.each(legacy)("%s: refused with the releases the model has, not half-simulated", async (file) => {
    const run = simulate({ name: file, text: readFileSync(join(ROOT, file), "utf8") });
    await expect(run).rejects.toThrow(/models Qubes R4\.3, R4\.2 \(nftables\) and R4\.1/);
  });

  // Guest net qubes (disposable_template, placement: template) are not modelled either.
  const guests = files.filter(
    (f) => !legacy.includes(f) && /disposable_template:|placement: template/.test(readFileSync(join(ROOT, f), "utf8")),
  );

  it.each(guests)("%s: refused, guest net qubes are not modelled", async (file) => {
    const run = simulate({ name: file, text: readFileSync(join(ROOT, file), "utf8") });
    await expect(run).rejects.toThrow(/does not model qubes whose files live in a disposable template or a template/);
  });

  for (const file of files.filter((f) => !legacy.includes(f) && !guests.includes(f))) {
    it.concurrent(
      file,
      async () => {
        const text = readFileSync(join(ROOT, file), "utf8");
        const { report, diagnostics } = await slot(() => simulate({ name: file, text }));
        expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
        expect(failures(report!)).toEqual([]);
        expect(explainDisagreements(file, text, report!)).toEqual([]);
        expect(report!.passed).toBe(true);
      },
      QUEUED_TIMEOUT,
    );
  }
});
