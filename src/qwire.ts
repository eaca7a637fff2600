/**
 * The qwire command. `npm run build` bundles it into dist/bin/qwire.js
 * (build/bundle.js), which dist/cli.js, what package.json's bin runs,
 * imports. tsc's dist/qwire.js is the same command unbundled (one file per
 * module): not dist/cli.js, so that tsc, which rewrites its output on every
 * build, never replaces the bundled command while something runs it.
 */
import { main } from "./cli/main.js";

process.exitCode = await main(process.argv);
