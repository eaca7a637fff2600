/**
 * What real Salt taught (test/real-stack runs it): in every golden bundle,
 * each command qubesctl runs in a qube on every apply speaks Salt's stateful
 * protocol (or is guarded by onlyif/unless), so a second apply reports no
 * change; and file.blockreplace never leaves a .bak beside the user's file.
 */
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { compileOk } from "./helpers/compile.js";
import { scenarios } from "./helpers/golden.js";

type Args = Record<string, unknown>[];

describe.each(scenarios())("$name", (scenario) => {
  const { artifacts } = compileOk(scenario.yaml, { previousQubes: scenario.previousQubes });
  const states = artifacts
    .filter((a) => /^salt\/qwire\/.*\.sls$/.test(a.path) && a.path !== "salt/qwire/vm.sls")
    .flatMap((a) =>
      Object.entries(yaml.load(a.content) as Record<string, Record<string, Args>>).map(([id, body]) => ({
        file: a.path,
        id,
        body,
      })),
    );

  it("every cmd.run is stateful (with a test_name) or guarded by onlyif/unless", () => {
    const plain = states
      .filter((s) => s.body["cmd.run"] !== undefined)
      .filter(({ body }) => {
        const keys = new Map(body["cmd.run"]!.flatMap((arg) => Object.entries(arg)));
        const stateful = keys.get("stateful") as Args | undefined;
        return !(
          keys.has("onlyif") ||
          keys.has("unless") ||
          (Array.isArray(stateful) && typeof stateful[0]?.test_name === "string")
        );
      })
      .map((s) => `${s.file}: ${s.id}`);
    expect(plain).toEqual([]);
  });

  it("every file.blockreplace has backup: false", () => {
    const blocks = states.filter((s) => s.body["file.blockreplace"] !== undefined);
    for (const b of blocks) expect(b.body["file.blockreplace"], `${b.file}: ${b.id}`).toContainEqual({ backup: false });
  });
});
