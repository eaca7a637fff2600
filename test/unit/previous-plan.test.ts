/**
 * plan.json format 2 holds decisions where format 1 held sentences; a build
 * still reads a format-1 plan.json of an earlier bundle, so that the qubes it
 * lists get their teardowns (test/fixtures/plan-format-1 is the reviewed
 * format-1 plan.json of the disposable-sys-net golden).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { readPreviousPlan } from "../../src/emit/index.js";
import { PLAN_FORMAT } from "../../src/render/index.js";
import { compileOk, file } from "../helpers/compile.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/plan-format-1/", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "qwire-previous-plan-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("reading the previous build's plan.json", () => {
  it("reads format 1: its qubes and hosts", async () => {
    const previous = await readPreviousPlan(FIXTURE);
    expect(previous?.qubes).toEqual(["sys-firewall", "sys-net", "web"]);
    expect(previous?.hosts).toEqual(["dvm-net"]);
  });

  it("a format-1 plan tears down what the new intents no longer hold, and the new plan is format 2", async () => {
    const dir = join(work, "v1");
    cpSync(FIXTURE, dir, { recursive: true });
    const previous = (await readPreviousPlan(dir))!;
    const result = compileOk(
      "version: 1\nqubes:\n  sys-net: { provides_network: true, uplink: ens6 }\n  web: { netvm: sys-net }\n",
      {
        previousQubes: previous.qubes,
        previousHosts: previous.hosts,
      },
    );
    expect(result.plan.teardowns.map((t) => t.qube)).toEqual(["sys-firewall", "sys-net", "web"]);
    expect(result.plan.hosts.map((h) => [h.host, h.guests.length])).toEqual([["dvm-net", 0]]);
    const plan = JSON.parse(file(result, "plan.json")) as { format: number };
    expect(plan.format).toBe(PLAN_FORMAT);
    expect(PLAN_FORMAT).toBe(2);
  });

  it("reads its own format 2 back", async () => {
    const result = compileOk(
      "version: 1\nqubes:\n  sys-net: { provides_network: true, uplink: ens6 }\n  web: { netvm: sys-net }\nforwards:\n  - { to: web, port: 443, from: [192.168.1.0/24] }\n",
    );
    const dir = join(work, "v2");
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, "plan.json"), file(result, "plan.json"));
    expect((await readPreviousPlan(dir))?.qubes).toEqual(["sys-net", "web"]);
  });

  it("refuses a format it does not know, instead of guessing", async () => {
    const dir = join(work, "v9");
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, "plan.json"), JSON.stringify({ generator: "qwire", format: 9, qubes: [] }));
    await expect(readPreviousPlan(dir)).rejects.toThrow(/plan format 9/);
  });
});
