import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileOk } from "./helpers/compile.js";
import { listFiles, scenarios, UPDATE, writeExpected } from "./helpers/golden.js";

describe.each(scenarios())("golden bundle $name", (scenario) => {
  const expectedDir = join(scenario.dir, "expected");
  const result = compileOk(scenario.yaml, { previousQubes: scenario.previousQubes });
  if (UPDATE) writeExpected(expectedDir, result.artifacts);

  it("has exactly the reviewed files", () => {
    expect(result.artifacts.map((a) => a.path).sort()).toEqual(listFiles(expectedDir));
  });

  it.each(result.artifacts.map((a) => [a.path, a.content] as const))(
    "%s matches the reviewed bytes",
    (path, content) => {
      expect(content).toBe(readFileSync(join(expectedDir, path), "utf8"));
    },
  );

  it("is byte-identical when built twice", () => {
    const again = compileOk(scenario.yaml, { previousQubes: scenario.previousQubes });
    expect(again.artifacts).toEqual(result.artifacts);
  });
});
