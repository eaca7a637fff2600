/**
 * `qwire import QUBES [--firewall F] [--policy F] [-o qwire.yaml]`: a
 * qwire.yaml from the output of dom0 commands. A line it cannot read is
 * reported at that line of that output and nothing is written (exit 1).
 */
import { writeFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { check } from "../pipeline.js";
import { RELEASES, type Release } from "../validate/index.js";
import { EXIT } from "./exit-codes.js";
import { readSource } from "./read-source.js";
import { printDiagnostics } from "./report.js";

interface ImportCliOptions {
  readonly firewall?: string;
  readonly policy?: string;
  readonly release: Release;
  readonly output?: string;
}

const FIELDS = "NAME,CLASS,NETVM,PROVIDES_NETWORK,TEMPLATE,LABEL";

export function addImportCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command("import")
    .description("write a qwire.yaml that declares the netvm layout, outbound policies and qrexec links a machine has now, from dom0 command output")
    .argument("<qubes>", `the output of: qvm-ls --raw-data --fields ${FIELDS}`)
    .option("--firewall <file>", "per qube a line '== <qube>' and the output of: qvm-firewall <qube> list")
    .option("--policy <file>", "the qubes.ConnectTCP lines of /etc/qubes/policy.d (grep -h ConnectTCP /etc/qubes/policy.d/*.policy)")
    .addOption(new Option("--release <release>", "the machine's Qubes release").choices([...RELEASES]).default("4.2"))
    .option("-o, --output <file>", "write the qwire.yaml here (never over an existing file); default: stdout")
    .addHelpText(
      "after",
      "\nIn dom0:\n" +
        `  qvm-ls --raw-data --fields ${FIELDS} > qubes.txt\n` +
        "  for q in $(qvm-ls --raw-data --fields NAME,CLASS | grep -v -e '|AdminVM$' -e '|TemplateVM$' | cut -d'|' -f1); do echo \"== $q\"; qvm-firewall \"$q\" list; done > firewall.txt\n" +
        "  grep -h ConnectTCP /etc/qubes/policy.d/*.policy > policy.txt\n" +
        "Then, in the qube where you build: qwire import qubes.txt --firewall firewall.txt --policy policy.txt -o qwire.yaml\n" +
        "Exit status: 0 written, 1 a line of the output could not be read (nothing written), 2 usage.",
    )
    .action(async (qubes: string, opts: ImportCliOptions) => {
      setCode(await runImport(qubes, opts));
    });
}

async function runImport(qubesFile: string, opts: ImportCliOptions): Promise<number> {
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
  const result = importDom0({ qvmLs: qvmLs!, ...(firewall ? { firewall } : {}), ...(policy ? { policy } : {}), release: opts.release });
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
    process.stderr.write(`qwire import: cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code === "EEXIST" ? "it exists (import never overwrites a file)" : String(e)}\n`);
    return EXIT.usage;
  }
  process.stdout.write(`qwire import: wrote ${opts.output}; review it, then: qwire check ${opts.output}\n`);
  return EXIT.ok;
}
