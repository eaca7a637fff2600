/**
 * Every recipe in formulas/ simulates with every event (apply, reapply,
 * firewall reload, restart, recreate, delete an intent) and every flow holds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/simulate/index.js";
import { failures, isRoot, limit, ROOT, scenarioFiles } from "./helpers.js";

const slot = limit(2);

/** The machine of the time budget (the same as bench/simulate.js). */
const FIVE_QUBES_FOUR_INTENTS = `version: 1
qubes:
  sys-net:      { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web:          { netvm: sys-firewall }
  work:         { netvm: sys-firewall }
  dev:          { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
  - { name: dev-ssh, to: dev, port: 22, external_port: 2222, from: [192.168.1.0/24, 10.20.0.0/16] }
links:
  - { name: work-dev-ssh, from: work, to: dev, ports: [22] }
  - { name: work-web-dns, from: work, to: web, ports: [53], proto: udp, both_ways: true }
`;

describe.skipIf(!isRoot)("qwire simulate on every recipe", () => {
  it.concurrent("5 qubes, 4 intents, every event: passes in under 30 s", async () => {
    const { report } = await slot(() => simulate({ name: "five-qubes.yaml", text: FIVE_QUBES_FOUR_INTENTS }));
    expect(failures(report!)).toEqual([]);
    expect(report!.events).toHaveLength(6);
    expect(report!.durationMs).toBeLessThan(30_000);
  });

  for (const file of scenarioFiles(ROOT).filter((f) => f.startsWith("formulas"))) {
    it.concurrent(file, async () => {
      const { report, diagnostics } = await slot(() => simulate({ name: file, text: readFileSync(join(ROOT, file), "utf8") }));
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(failures(report!)).toEqual([]);
      expect(report!.passed).toBe(true);
      expect(report!.events.map((e) => e.name)).toEqual(["apply", "reapply", "firewall-reload", "restart", "recreate", "delete-intent"]);
    });
  }
});
