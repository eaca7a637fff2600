/**
 * The last step of `npm run build`: the command line bundled by esbuild into
 * dist/bin/, one file per entry point plus the chunks they share.
 *
 * Why: Node's ES module loader costs ~0.5 ms per module, and `qwire check`
 * loaded ~130 of them (zod alone 95: its core re-exports every locale), about
 * 70 ms of a 0.25 s start. Bundled, check loads a handful of files.
 *
 * - splitting + esm: each command still loads only its own code. main.ts
 *   imports a command's module in its action; esbuild makes every such
 *   dynamic import a chunk, and what several of them share a chunk of its own
 *   (check loads no Handlebars, render/ or the simulator).
 * - Every file lands in dist/bin/, two folders below the package root, as the
 *   tsc output in dist/<folder>/ is: render/index.ts and handlebars-env.ts find
 *   salt/, templates/ and dist/templates.js by URLs relative to their own
 *   module (new URL("../../salt/", import.meta.url)), which hold from any
 *   chunk of dist/bin/ as they do from dist/render/.
 * - dist/cli.js, the user's entry (package.json "bin", README, tests), is
 *   rewritten as a two-line module that imports dist/bin/cli.js: the bundled
 *   entry itself cannot sit in dist/ (one folder up, its URLs would miss).
 * - The banner gives each file a `require`: commander and Handlebars are
 *   CommonJS and require Node's built-ins, which esbuild leaves to a require
 *   at run time that an ES module does not have.
 * - Built from src/ (esbuild strips the types, as vitest does for the tests),
 *   so this step does not depend on tsc's dist/ and can run again on its own.
 *   tsc's dist/ stays: bench/ and tests import dist/pipeline.js and others.
 * - dist/bin/meta.json is esbuild's metafile: which source modules each
 *   output file holds (test/cli-startup.test.ts reads it).
 *
 * esbuild is a devDependency: the bundle is made at build time; the runtime
 * dependencies are the same (and still what tsc's dist/ imports).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/**
 * Entry points: each is written as dist/bin/<its file name>.js. A module that
 * is loaded by its URL rather than imported (a worker thread's,
 * new URL("./x.js", import.meta.url)) must be listed here: from the bundle,
 * that URL names dist/bin/x.js, beside the chunk that holds the caller.
 */
const ENTRIES = ["src/cli.ts"];

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OUT = "dist/bin";

// Chunk names carry a hash: a chunk of an earlier build must not linger beside the new ones.
rmSync(ROOT + OUT, { recursive: true, force: true });
mkdirSync(ROOT + OUT, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: ENTRIES,
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  banner: {
    js: "import { createRequire as __qwireRequire } from 'node:module'; const require = __qwireRequire(import.meta.url);",
  },
  metafile: true,
  logLevel: "warning",
});
writeFileSync(`${ROOT}${OUT}/meta.json`, JSON.stringify(result.metafile, null, 1));

writeFileSync(
  `${ROOT}dist/cli.js`,
  [
    "#!/usr/bin/env node",
    "// Written by build/bundle.js: what package.json's bin, the README and the tests run; the command line itself is",
    "// bundled in dist/bin/ (two folders below the package root, so its paths to salt/ and templates/ hold).",
    'import "./bin/cli.js";',
    "",
  ].join("\n"),
);
