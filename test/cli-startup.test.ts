/**
 * Start-up stays small: each command loads only the modules it needs
 * (src/cli/main.ts declares the commands, each action imports its own
 * module). Checked by the modules Node actually loads, not by a clock.
 */
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const CLI = new URL("../dist/cli.js", import.meta.url).pathname;
const FORMULA = new URL("../formulas/lan-web-server.yaml", import.meta.url).pathname;
/** A module hook that names every module as Node loads it. */
const HOOK = `data:text/javascript,${encodeURIComponent('export async function load(u, c, n) { process.stderr.write("qwire-loaded " + u + "\\n"); return n(u, c); }')}`;

async function loaded(args: string[]): Promise<{ exitCode: number; packages: Set<string>; own: string[] }> {
  const r = await execa("node", ["--no-warnings", "--experimental-loader", HOOK, CLI, ...args], { reject: false });
  const urls = r.stderr
    .split("\n")
    .flatMap((l) => (l.startsWith("qwire-loaded ") ? [l.slice("qwire-loaded ".length)] : []));
  const packages = new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));
  const own = urls.flatMap((u) => /\/dist\/(.*)$/.exec(u)?.[1] ?? []);
  return { exitCode: r.exitCode ?? -1, packages, own };
}

describe("qwire start-up", () => {
  it("--version loads commander and the command declarations only", async () => {
    const r = await loaded(["--version"]);
    expect(r.exitCode).toBe(0);
    expect([...r.packages]).toEqual(["commander"]);
    expect(r.own).toContain("cli/main.js");
    // The declarations may use small modules of src/cli and the list of simulate's events, nothing of the pipeline.
    expect(r.own.filter((m) => !(m === "cli.js" || m.startsWith("cli/") || m === "simulate/events.js"))).toEqual([]);
  });

  it("check loads neither the renderer nor Handlebars nor the simulator", async () => {
    const r = await loaded(["check", FORMULA]);
    expect(r.exitCode).toBe(0);
    expect(r.own.length).toBeGreaterThan(5);
    expect(
      r.own.filter(
        (m) =>
          m.startsWith("render/") || m.startsWith("plan/") || m.startsWith("simulate/apply") || m === "pipeline.js",
      ),
    ).toEqual([]);
    expect([...r.packages].sort()).toEqual(["commander", "js-yaml", "zod"]);
  });
});
