/** The ready-made recipes in formulas/ build cleanly: no error, no warning. */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileText } from "./helpers/compile.js";

const DIR = new URL("../formulas/", import.meta.url);
const recipes = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();

describe("formulas", () => {
  it("has the recipes DESIGN.md names", () => {
    expect(recipes).toEqual(expect.arrayContaining(["lan-web-server.yaml", "ssh-into-qube.yaml", "vpn-chain.yaml", "qube-services.yaml"]));
  });

  it.each(recipes)("%s builds without a diagnostic", (name) => {
    const result = compileText(readFileSync(new URL(name, DIR), "utf8"));
    expect(result.diagnostics).toEqual([]);
    expect(result.artifacts?.length).toBeGreaterThan(5);
  });
});
