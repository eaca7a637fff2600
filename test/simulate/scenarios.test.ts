/**
 * Scenarios the simulator proves that are not bundle goldens
 * (test/simulate/scenarios/*.yaml): each simulates with every event and
 * every flow holds, and the flows the scenario is about are among them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dialLabel, simulate, sourceLabel } from "../../src/simulate/index.js";
import { failures, isRoot, limit, ROOT } from "./helpers.js";

const slot = limit(3);
const DIR = join(ROOT, "test", "simulate", "scenarios");

/** Flows that must be among the checked ones (after apply), "source -> dial proto/port want". */
const ABOUT: Record<string, string[]> = {
  "vpn-tunnel-forward.yaml": [
    // from the VPN side (the tunnel of the service qube): open
    "outside 10.8.0.50 -> sys-vpn:tun0 tcp/51413 open",
    // from the LAN side (sys-net's uplink), even from inside 'from': closed
    "outside 10.8.0.50 -> sys-net:ens6 tcp/51413 closed",
    "outside 10.9.9.9 -> sys-vpn:tun0 tcp/51413 closed",
  ],
};

describe.skipIf(!isRoot)("qwire simulate on the simulator's own scenarios", () => {
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    it.concurrent(file, async () => {
      const { report, diagnostics } = await slot(() =>
        simulate({ name: file, text: readFileSync(join(DIR, file), "utf8") }),
      );
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(failures(report!)).toEqual([]);
      const seen = report!.events[0]!.flows.map(
        (r) =>
          `${sourceLabel(r.flow.from)} -> ${dialLabel(r.flow.dial)} ${r.flow.proto}/${r.flow.port} ${r.flow.expect}`,
      );
      expect(seen).toEqual(expect.arrayContaining(ABOUT[file] ?? []));
    });
  }
});
