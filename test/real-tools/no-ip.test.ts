/**
 * DESIGN.md §3: no qube IP is written into any file of the bundle unless the
 * user pinned it; addresses are looked up in dom0 at apply time. Scans every
 * artifact's bytes, plan.json and README included.
 */
import { describe, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";
import { QUBES_IP } from "../helpers/tools.js";
import { PINNED_DOTTED, SCENARIOS, TWO_FORWARDS_QUBES, TWO_FORWARDS_V2_YAML } from "./scenarios.js";

interface Found {
  readonly path: string;
  readonly address: string;
}

/** Every Qubes-range address in the artifacts, with the file it is in. */
function qubesIps(artifacts: readonly { path: string; content: string }[]): Found[] {
  return artifacts.flatMap((a) => [...a.content.matchAll(QUBES_IP)].map((m) => ({ path: a.path, address: m[0] })));
}

describe("a bundle without pins", () => {
  it.each(SCENARIOS.map((s) => [s.name, s.yaml] as const))(
    "%s: no 10.137.x.x or 10.138.x.x in any file",
    (_name, yaml) => {
      const { artifacts } = compileOk(yaml);
      expect(artifacts.length).toBeGreaterThan(10);
      expect(qubesIps(artifacts)).toEqual([]);
    },
  );

  it("with a teardown: no 10.137.x.x or 10.138.x.x in any file", () => {
    const { artifacts, plan } = compileOk(TWO_FORWARDS_V2_YAML, { previousQubes: TWO_FORWARDS_QUBES });
    expect(plan.teardowns).not.toEqual([]);
    expect(qubesIps(artifacts)).toEqual([]);
  });
});

describe("a bundle with a pin", () => {
  it("holds the pinned address, and only that one, where dom0 and the pillars need it", () => {
    const { artifacts } = compileOk(PINNED_DOTTED.yaml);
    const found = qubesIps(artifacts);
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((f) => f.address))).toEqual(new Set(["10.137.0.40"]));
    const files = new Set(found.map((f) => f.path));
    expect(files).toContain("salt/qwire/dom0.sls");
    expect(files).toContain("pillar/qwire/qubes/sys-firewall.sls");
    expect(files).toContain("pillar/qwire/qubes/work.sls");
    expect([...files].filter((f) => f.startsWith("salt/qwire/files/"))).toEqual([]);
  });
});
