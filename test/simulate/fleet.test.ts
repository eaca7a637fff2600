/**
 * `qwire simulate` reads `include:` and `--host` as build and check do
 * (test/simulate/fleet/: shared files, and hosts/laptop.yaml naming the
 * laptop's card and adding a forward): the flows come from the merged
 * document, arrive on the host's interface (or, without --host, on the card
 * `uplink: auto` finds), and delete-intent deletes the merged document's last
 * forward, which the overlay declared. Run through the CLI, as a user would.
 */
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { isRoot, ROOT } from "./helpers.js";

const CLI = join(ROOT, "dist/cli.js");
const FILE = "test/simulate/fleet/qwire.yaml";

interface Flow {
  readonly flow: {
    from: { kind: string; address?: string; qube?: string };
    dial: { kind: string; lan?: { qube: string; iface: string }; qube?: string };
    proto: string;
    port: number;
    expect: string;
    origin: string;
  };
  readonly pass: boolean;
}
interface Report {
  readonly passed: boolean;
  readonly events: readonly { name: string; title: string; flows: readonly Flow[] }[];
}

async function simulateFleet(args: readonly string[]): Promise<{ exitCode: number; report: Report; stderr: string }> {
  const r = await execa(
    process.execPath,
    [CLI, "simulate", FILE, "--events", "delete-intent", "--format", "json", ...args],
    { cwd: ROOT, reject: false },
  );
  return { exitCode: r.exitCode ?? -1, report: (JSON.parse(r.stdout) as { report: Report }).report, stderr: r.stderr };
}

/** "outside ADDRESS -> QUBE:IFACE tcp/PORT want" for flows from outside, the rest "FROM -> TO tcp/PORT want". */
const label = ({ flow: f }: Flow) =>
  `${f.from.kind === "outside" ? `outside ${f.from.address}` : f.from.qube} -> ${f.dial.lan ? `${f.dial.lan.qube}:${f.dial.lan.iface}` : f.dial.qube} ${f.proto}/${f.port} ${f.expect}`;

describe.skipIf(!isRoot)("qwire simulate on fleet files", () => {
  it("--host laptop: the shared intents and the laptop's own, on the laptop's card; delete-intent removes the overlay's forward", async () => {
    const { exitCode, report, stderr } = await simulateFleet(["--host", "laptop"]);
    expect(exitCode, stderr).toBe(0);
    expect(report.passed).toBe(true);
    const [apply, deletion] = report.events;
    expect(apply!.flows.map(label)).toEqual(
      expect.arrayContaining([
        "outside 192.168.1.50 -> sys-net:wlp0s20f3 tcp/443 open",
        "outside 192.168.1.50 -> sys-net:wlp0s20f3 tcp/2222 open",
        "dev -> web tcp/8080 open",
      ]),
    );
    // expect: lines of qwire.yaml and of the overlay, merged.
    expect(apply!.flows.filter((f) => f.flow.origin.startsWith("expect #"))).toHaveLength(3);
    expect(deletion!.title).toBe("forward dev-ssh removed from qwire.yaml, new bundle applied");
    expect(deletion!.flows.map(label)).toContain("outside 192.168.1.50 -> sys-net:wlp0s20f3 tcp/2222 closed");
    expect(deletion!.flows.map(label)).toContain("outside 192.168.1.50 -> sys-net:wlp0s20f3 tcp/443 open");
  });

  it("without --host: the shared files alone, sys-net's card found at run time (uplink: auto)", async () => {
    const { exitCode, report, stderr } = await simulateFleet([]);
    expect(exitCode, stderr).toBe(0);
    expect(report.events[0]!.flows.map(label)).toContain("outside 192.168.1.50 -> sys-net:auto tcp/443 open");
    expect(report.events[0]!.flows.map(label).filter((l) => l.includes("2222"))).toEqual([]);
    expect(report.events[1]!.title).toBe("forward web-https removed from qwire.yaml, new bundle applied");
  });
});

describe("qwire simulate on fleet files: errors before anything runs", () => {
  it("a missing host file is QW1005, exit 1; a bad host name is a usage error, exit 2", async () => {
    const missing = await execa(process.execPath, [CLI, "simulate", FILE, "--host", "nosuch"], {
      cwd: ROOT,
      reject: false,
    });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("error QW1005: cannot read the host file 'test/simulate/fleet/hosts/nosuch.yaml'");
    const bad = await execa(process.execPath, [CLI, "simulate", FILE, "--host", "../x"], { cwd: ROOT, reject: false });
    expect(bad.exitCode).toBe(2);
  });
});
