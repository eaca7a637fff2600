/**
 * `qwire import QUBES [--firewall F] [--policy F] [-o qwire.yaml]`: a
 * qwire.yaml from the output of dom0 commands. A line it cannot read is
 * reported at that line of that output and nothing is written (exit 1).
 */
import { writeFile } from "node:fs/promises";
import { check } from "../check.js";
import { RELEASES, releaseNamed } from "../release/index.js";
import { EXIT } from "./exit-codes.js";
import { readSource } from "./read-source.js";
import { printDiagnostics } from "./report.js";

interface ImportCliOptions {
  readonly firewall?: string;
  readonly policy?: string;
  readonly release: string;
  readonly output?: string;
}

export async function runImport(qubesFile: string, opts: ImportCliOptions): Promise<number> {
  const release = releaseNamed(opts.release);
  if (release === undefined) {
    process.stderr.write(
      `qwire import: --release ${opts.release} is not a Qubes release qwire knows (${RELEASES.join(", ")})\n`,
    );
    return EXIT.usage;
  }
  const files = [qubesFile, opts.firewall, opts.policy];
  const sources = [];
  for (const f of files) {
    if (f === undefined) {
      sources.push(undefined);
      continue;
    }
    const s = await readSource(f);
    if (typeof s === "number") return s;
    sources.push(s);
  }
  const [qvmLs, firewall, policy] = sources;
  const { importDom0 } = await import("../import/index.js");
  const result = importDom0({
    qvmLs: qvmLs!,
    ...(firewall ? { firewall } : {}),
    ...(policy ? { policy } : {}),
    release,
  });
  for (const i of result.inputs) printDiagnostics(i.diagnostics, i.source, "text");
  if (result.yaml === undefined) return EXIT.diagnostics;
  // The machine's own state should always make a valid file; if it does not, say why rather than write it.
  const imported = { name: opts.output ?? "(imported qwire.yaml)", text: result.yaml };
  const checked = check(imported);
  if (checked.diagnostics.some((d) => d.severity === "error")) {
    process.stderr.write(result.yaml);
    printDiagnostics(checked.diagnostics, imported, "text");
    process.stderr.write("qwire import: the imported file (above) does not pass qwire check; nothing written\n");
    return EXIT.diagnostics;
  }
  if (opts.output === undefined) {
    process.stdout.write(result.yaml);
    return EXIT.ok;
  }
  try {
    await writeFile(opts.output, result.yaml, { flag: "wx" });
  } catch (e) {
    process.stderr.write(
      `qwire import: cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code === "EEXIST" ? "it exists (import never overwrites a file)" : String(e)}\n`,
    );
    return EXIT.usage;
  }
  process.stdout.write(`qwire import: wrote ${opts.output}; review it, then: qwire check ${opts.output}\n`);
  return EXIT.ok;
}
