/**
 * Start-up stays small: each command loads only the modules it needs
 * (src/cli/main.ts declares the commands, each action imports its own
 * module), and it loads them as a few files of the bundle (dist/bin/,
 * build/bundle.js) rather than one file per module. Checked by the files Node
 * actually loads, not by a clock: each file of dist/bin/ is mapped to the
 * modules it holds by esbuild's metafile (dist/bin/meta.json); a module in a
 * loaded file is a module loaded (esbuild puts a module in the files of
 * exactly the entry points and dynamic imports that reach it).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CLI = `${ROOT}dist/cli.js`;
const FORMULA = `${ROOT}formulas/lan-web-server.yaml`;
/** A module hook that names every module as Node loads it. */
const HOOK = `data:text/javascript,${encodeURIComponent('export async function load(u, c, n) { process.stderr.write("qwire-loaded " + u + "\\n"); return n(u, c); }')}`;

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

interface Loaded {
  exitCode: number;
  /** The package's own files Node loaded, relative to dist/ (cli.js, bin/cli.js, bin/chunk-X.js, templates.js). */
  files: string[];
  /** The source modules in them: src/ ones relative to src/ with .js (cli/main.js), as in tsc's dist/. */
  own: string[];
  /** The npm packages whose modules they hold. */
  packages: Set<string>;
  /** Every module in them, as esbuild names it (src/cli/main.ts, node_modules/zod/v4/core/core.js). */
  inputs: string[];
}

async function loaded(args: string[]): Promise<Loaded> {
  const meta = JSON.parse(readFileSync(`${ROOT}dist/bin/meta.json`, "utf8")) as Metafile;
  const r = await execa("node", ["--no-warnings", "--experimental-loader", HOOK, CLI, ...args], { reject: false });
  const urls = r.stderr
    .split("\n")
    .flatMap((l) => (l.startsWith("qwire-loaded file:") ? [fileURLToPath(l.slice("qwire-loaded ".length))] : []));
  const files = urls.map((path) => {
    expect(path.startsWith(`${ROOT}dist/`), `${path}: a file outside the package's dist/`).toBe(true);
    return path.slice(`${ROOT}dist/`.length);
  });
  const inputs = files.flatMap((f) => {
    if (!f.startsWith("bin/")) return [];
    const output = meta.outputs[`dist/${f}`];
    expect(output, `dist/${f} is not in dist/bin/meta.json: run npm run build`).toBeDefined();
    // A package's modules as node_modules/<package>/..., wherever node_modules really is (esbuild names real paths).
    return Object.keys(output!.inputs).map((i) => i.replace(/^.*\/node_modules\//, "node_modules/"));
  });
  const own = inputs.flatMap((i) => (i.startsWith("src/") ? [i.slice("src/".length).replace(/\.ts$/, ".js")] : []));
  const packages = new Set(inputs.flatMap((i) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(i)?.[1] ?? []));
  return { exitCode: r.exitCode ?? -1, files, own, packages, inputs };
}

describe("qwire start-up", () => {
  it("--version loads commander and the command declarations only", async () => {
    const r = await loaded(["--version"]);
    expect(r.exitCode).toBe(0);
    expect([...r.packages]).toEqual(["commander"]);
    expect(r.own).toContain("cli/main.js");
    // The declarations may use small modules of src/cli and the list of simulate's events, nothing of the pipeline.
    expect(r.own.filter((m) => !(m === "qwire.js" || m.startsWith("cli/") || m === "simulate/events.js"))).toEqual([]);
  });

  it("check loads neither the renderer nor Handlebars nor the simulator, in a few files", async () => {
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
    // zod's parts qwire does not use stay out (`import * as z from "zod"`, eslint.config.js): of its locales, English.
    expect(r.inputs.filter((i) => i.startsWith("node_modules/zod/v4/locales/"))).toEqual([
      "node_modules/zod/v4/locales/en.js",
    ]);
    // The point of the bundle: ~130 module files unbundled (zod alone 95), 12 files now (dist/cli.js, the
    // entry, the chunks esbuild splits by which entries and commands share them; another entry point adds
    // a chunk or two). A few more chunks may come; not dozens.
    expect(r.files.length, r.files.join(" ")).toBeLessThanOrEqual(16);
  });

  it("build loads the bundle and the precompiled templates, no second copy of a module", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "qwire-startup-"));
    const r = await loaded(["build", FORMULA, "-o", join(tmp, "out")]).finally(() =>
      rmSync(tmp, { recursive: true, force: true }),
    );
    expect(r.exitCode).toBe(0);
    // dist/templates.js imports nothing (its templates call the HELPERS handlebars-env.ts passes): from the bundle,
    // an import of dist/render/helpers.js would load that module and its imports a second time.
    expect(r.files.filter((f) => !(f === "cli.js" || f === "templates.js" || f.startsWith("bin/")))).toEqual([]);
    // Found from dist/bin/ as from dist/render/: else every template would be compiled from its file on every build.
    expect(r.files).toContain("templates.js");
    expect(r.own).toContain("render/handlebars-env.js");
    expect(r.packages).toContain("handlebars");
  });
});
