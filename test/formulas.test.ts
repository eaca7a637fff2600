/** The ready-made recipes in formulas/ build cleanly: no error, no warning. */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileText } from "./helpers/compile.js";

const DIR = new URL("../formulas/", import.meta.url);
const recipes = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("formulas", () => {
  it("has the recipes DESIGN.md and issue #12 name", () => {
    expect(recipes).toEqual(
      expect.arrayContaining([
        "lan-web-server.yaml",
        "ssh-into-qube.yaml",
        "vpn-chain.yaml",
        "qube-services.yaml",
        "vpn-port-forward.yaml",
        "qrexec-ssh.yaml",
        "file-sync.yaml",
        "wireguard-udp.yaml",
        "media-server.yaml",
        "split-vpn.yaml",
      ]),
    );
  });

  it("indexes every recipe in formulas/README.md", () => {
    const index = readFileSync(new URL("README.md", DIR), "utf8");
    for (const r of recipes) expect(index).toContain(`[${r}](${r})`);
  });

  it.each(recipes)("%s says when to use it and what it expects", (name) => {
    const text = readFileSync(new URL(name, DIR), "utf8");
    expect(text).toMatch(/^# When to use it: /m);
    expect(text).toMatch(/^expect:\n {2}- /m);
  });

  it.each(recipes)("%s builds without a diagnostic", (name) => {
    const result = compileText(readFileSync(new URL(name, DIR), "utf8"));
    expect(result.diagnostics).toEqual([]);
    expect(result.artifacts?.length).toBeGreaterThan(5);
  });
});
