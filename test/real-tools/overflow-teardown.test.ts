/**
 * A net qube that enforced an outbound list past qubesd's limit (chains and
 * sets qwire-out-*) is left with nothing of qwire's after the teardown.
 */
import { readFileSync } from "node:fs";
import { afterEach, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";
import { installed, listRuleset, loadQubesBase, NetnsPool, runInQube } from "../helpers/netns.js";
import { addressesFile, scriptOf } from "../helpers/tools.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

it("the teardown removes the qwire-out chains and sets with the rest", async () => {
  const yaml = readFileSync(new URL("../golden/outbound-policy-overflow/qwire.yaml", import.meta.url), "utf8");
  // A previous qube that is gone makes the bundle carry the teardown script.
  const bundle = compileOk(yaml, { previousQubes: ["gone"] });
  const ns = await pool.create();
  await loadQubesBase(ns, { netQube: true });
  const run = await runInQube(
    ns,
    installed(scriptOf(bundle.artifacts, "sys-firewall")),
    addressesFile({ web: "10.137.0.7", db: "10.137.0.8" }),
  );
  expect(run.exitCode).toBe(0);
  expect(await listRuleset(ns)).toMatch(/chain qwire-out-1 \{/);
  expect(await listRuleset(ns)).toMatch(/set qwire-out-1-1 \{/);
  const teardown = bundle.artifacts.find((a) => a.path === "salt/qwire/teardown-nft")!.content;
  expect((await runInQube(ns, { path: "/rw/config/qwire/teardown", content: teardown }, undefined)).exitCode).toBe(0);
  expect(await listRuleset(ns)).not.toContain("qwire");
});
