/**
 * The last step of `npm run build`: the command line bundled by esbuild into
 * dist/bin/, one file per entry point plus the chunks they share.
 *
 * Why: Node's ES module loader costs ~0.5 ms per module, and `qwire check`
 * loaded ~130 of them (zod alone 95), a third of its start. Bundled, check
 * loads a dozen files.
 *
 * - splitting + esm: each command still loads only its own code. main.ts
 *   imports a command's module in its action; esbuild makes every such
 *   dynamic import a chunk, and what several of them share a chunk of its own
 *   (check loads no Handlebars, render/ or the simulator).
 * - Every file lands in dist/bin/, two folders below the package root, as the
 *   tsc output in dist/<folder>/ is: render/index.ts and handlebars-env.ts find
 *   salt/, templates/ and dist/templates.js by URLs relative to their own
 *   module (new URL("../../salt/", import.meta.url)), which hold from any
 *   file of dist/bin/ as they do from dist/render/.
 * - dist/cli.js, the user's entry (package.json "bin", README, tests), is
 *   written here as a module that imports dist/bin/qwire.js: the bundled
 *   entry itself cannot sit in dist/ (one folder up, its URLs would miss).
 *   tsc writes no dist/cli.js (src/qwire.ts is the command), so the bundled
 *   command is never replaced by the unbundled one while a build runs.
 * - The banner gives each file a `require`: commander and Handlebars are
 *   CommonJS and require Node's built-ins, which esbuild leaves to a require
 *   at run time that an ES module does not have.
 * - Built from src/ (esbuild strips the types, as vitest does for the tests),
 *   so this step does not depend on tsc's dist/. tsc's dist/ stays: bench/
 *   and tests import dist/pipeline.js and others.
 * - dist/bin/meta.json is esbuild's metafile: which source modules each
 *   output file holds (test/cli-startup.test.ts reads it).
 * - A file is written only when its bytes change, by a rename (never half
 *   written), and a chunk of an earlier build is removed only once the new
 *   files are in place: tests run dist/cli.js while another test rebuilds
 *   (test/diagnostics/cli-errors.test.ts runs npm run build), and a rebuild
 *   of the same sources must leave every file as it was.
 *
 * esbuild is a devDependency: the bundle is made at build time; the runtime
 * dependencies are the same (and still what tsc's dist/ imports).
 */
import { Buffer } from "node:buffer";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/**
 * Entry points: each is written as dist/bin/<its file name>.js. A module that
 * is loaded by its URL rather than imported (a worker thread's,
 * new URL("./x.js", import.meta.url)) must be listed here: from the bundle,
 * that URL names dist/bin/x.js, beside the chunk that holds the caller.
 */
const ENTRIES = ["src/qwire.ts"];

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const OUT = `${ROOT}dist/bin/`;

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
  write: false,
  logLevel: "warning",
});

// A module loaded by its URL beside the caller (a worker thread's entry) that is not an entry above would be
// missing from dist/bin/: the caller would fail there, or quietly do without it. Refused before anything is written.
for (const f of result.outputFiles) {
  for (const [, name] of f.text.matchAll(/new URL\(\s*["']\.\/([^"'/]+\.js)["']\s*,\s*import\.meta\.url\s*\)/g)) {
    if (!result.outputFiles.some((o) => o.path === OUT + name))
      throw new Error(`${f.path} loads ./${name} by its URL: add its source to ENTRIES in build/bundle.js`);
  }
}

/** Writes bytes to path unless it holds them already; the new file replaces the old one whole. */
function writeIfChanged(path, bytes) {
  if (existsSync(path) && Buffer.compare(readFileSync(path), bytes) === 0) return;
  writeFileSync(`${path}.${process.pid}.tmp`, bytes);
  renameSync(`${path}.${process.pid}.tmp`, path);
}

mkdirSync(OUT, { recursive: true });
// Chunks (named by their content) before the entries that import them, the metafile and dist/cli.js last.
const files = result.outputFiles.map((f) => f.path);
const entries = new Set(ENTRIES.map((e) => OUT + e.replace(/^.*\//, "").replace(/\.ts$/, ".js")));
for (const f of result.outputFiles.filter((f) => !entries.has(f.path))) writeIfChanged(f.path, f.contents);
for (const f of result.outputFiles.filter((f) => entries.has(f.path))) writeIfChanged(f.path, f.contents);
writeIfChanged(`${OUT}meta.json`, Buffer.from(JSON.stringify(result.metafile, null, 1)));
writeIfChanged(
  `${ROOT}dist/cli.js`,
  Buffer.from(
    [
      "#!/usr/bin/env node",
      "// Written by build/bundle.js: what package.json's bin, the README and the tests run; the command itself is",
      "// bundled in dist/bin/ (two folders below the package root, so its paths to salt/ and templates/ hold).",
      'import "./bin/qwire.js";',
      "",
    ].join("\n"),
  ),
);
for (const name of readdirSync(OUT)) {
  if (name !== "meta.json" && !files.includes(OUT + name)) rmSync(OUT + name, { force: true });
}
