/**
 * The command line: argv -> pipeline -> text on the terminal and an exit code.
 * The only module that prints or decides the process's exit status.
 */
import { Command, CommanderError, Option } from "commander";
import { emit, EmitError, readPreviousPlan } from "../emit/index.js";
import { check, compile, reconnect } from "../pipeline.js";
import type { Placement } from "../plan/index.js";
import { guestFiles, layoutOf } from "../render/layout.js";
import { EXIT } from "./exit-codes.js";
import { printDiagnostics, type OutputFormat } from "./report.js";
import { addExplainCommand } from "./explain-command.js";
import { addGraphCommand } from "./graph-command.js";
import { addImportCommand } from "./import-command.js";
import { fleetReader, includeReader, readSource } from "./read-source.js";
import { addSimulateCommand } from "./simulate-command.js";

const DEFAULT_FILE = "qwire.yaml";

export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command()
    .name("qwire")
    .description(
      "Compile qwire.yaml, your Qubes OS networking intents (port forwards from the LAN, links between qubes, " +
        "outbound policy, the netvm layout), into a Salt bundle that dom0's qubesctl applies. " +
        "Build it in an ordinary qube, copy the bundle to dom0, read it, then run its install.sh.",
    )
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) })
    .showHelpAfterError("(qwire --help shows every command)");

  const format = () => new Option("--format <format>", "diagnostics as text or json").choices(["text", "json"]).default("text");
  const hostOption = () => new Option("--host <name>", "this machine's overlay: hosts/<name>.yaml beside qwire.yaml, read over it (its values win)");

  program
    .command("build")
    .description("check qwire.yaml and write the bundle (README.md, install.sh, plan.json, salt/, pillar/) into a folder")
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .requiredOption("-o, --output <dir>", "bundle folder; replaced as a whole if it holds an earlier qwire bundle, refused otherwise")
    .option("--previous <plan.json>", "plan.json of the bundle that is applied now (default: the one in the output folder); qubes it lists that no longer carry rules are torn down")
    .addOption(format())
    .addOption(hostOption())
    .addHelpText(
      "after",
      "\nExit status: 0 bundle written (warnings allowed), 1 errors in qwire.yaml (nothing written), 2 usage.\n" +
        "Example:\n  qwire build qwire.yaml -o out && less out/README.md",
    )
    .action(async (file: string, opts: { output: string; previous?: string; format: OutputFormat; host?: string }) => {
      code = await build(file, opts);
    });

  program
    .command("check")
    .description("check qwire.yaml and print every problem, with its line; writes nothing")
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .addOption(format())
    .addOption(hostOption())
    .addHelpText("after", "\nExit status: 0 no errors (warnings allowed), 1 errors, 2 usage.")
    .action(async (file: string, opts: { format: OutputFormat; host?: string }) => {
      const source = await readSource(file);
      if (typeof source === "number") {
        code = source;
        return;
      }
      const files = fleetReader(file, opts.host);
      if (typeof files === "string") {
        process.stderr.write(`qwire: ${files}\n`);
        code = EXIT.usage;
        return;
      }
      const result = check(source, files.fleet);
      printDiagnostics(result.diagnostics, source, opts.format, files.texts);
      if (opts.format === "text" && result.diagnostics.length === 0) process.stdout.write(`${source.name}: ok\n`);
      code = result.diagnostics.some((d) => d.severity === "error") ? EXIT.diagnostics : EXIT.ok;
    });

  program
    .command("reconnect")
    .description("print the dom0 commands that re-attach every declared qube to its netvm after a netvm restart, upstream first")
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .addOption(format())
    .addHelpText("after", "\nThe bundle's salt/qwire/reconnect.sls does the same from Salt: sudo qubesctl state.apply qwire.reconnect saltenv=user")
    .action(async (file: string, opts: { format: OutputFormat }) => {
      const source = await readSource(file);
      if (typeof source === "number") {
        code = source;
        return;
      }
      const files = includeReader(file);
      const result = reconnect(source, files.fleet);
      printDiagnostics(result.diagnostics, source, opts.format, files.texts);
      if (result.script === undefined) {
        code = EXIT.diagnostics;
        return;
      }
      if (opts.format === "text") process.stdout.write(result.script);
      code = EXIT.ok;
    });

  addSimulateCommand(program, (c) => (code = c));
  addGraphCommand(program, (c) => (code = c));
  addExplainCommand(program, (c) => (code = c));
  addImportCommand(program, (c) => (code = c));

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw e;
  }
  return code;
}

async function build(file: string, opts: { output: string; previous?: string; format: OutputFormat; host?: string }): Promise<number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const files = fleetReader(file, opts.host);
  if (typeof files === "string") {
    process.stderr.write(`qwire: ${files}\n`);
    return EXIT.usage;
  }
  let previousQubes: readonly string[] = [];
  let previousHosts: readonly string[] = [];
  let hadPrevious = false;
  try {
    const previous = opts.previous !== undefined ? await readPreviousPlanFile(opts.previous) : await readPreviousPlan(opts.output);
    previousQubes = previous?.qubes ?? [];
    previousHosts = previous?.hosts ?? [];
    hadPrevious = previous !== undefined;
  } catch (e) {
    if (!(e instanceof EmitError)) throw e;
    process.stderr.write(`qwire: ${e.message}\n`);
    return EXIT.usage;
  }
  const result = compile(source, { previousQubes, previousHosts, fleet: files.fleet });
  printDiagnostics(result.diagnostics, source, opts.format, files.texts);
  if (!result.artifacts || !result.plan) return EXIT.diagnostics;
  try {
    await emit(opts.output, result.artifacts);
  } catch (e) {
    if (!(e instanceof EmitError)) throw e;
    process.stderr.write(`qwire: ${e.message}\n`);
    return EXIT.usage;
  }
  if (opts.format === "text") {
    const p = result.plan;
    const layout = layoutOf(p.release);
    // "in /rw/config/qubes-firewall.d" as before for hook folders; the file itself when a marked block calls it.
    const scriptWhere = (placement: Placement) =>
      placement === "qubes-firewall.d" || placement === "rc.local.d" ? `in /rw/config/${placement}` : `${layout.scriptPath(placement)} (called from ${placement})`;
    const lines = [
      `qwire: wrote ${opts.output}/ (${result.artifacts.length} files) for Qubes R${p.release}`,
      ...p.qubes.map((q) =>
        q.host !== undefined
          ? `  ${q.qube}: ${q.summary.length} intent line(s), ${p.backend} script ${guestFiles(q.host.kind, q.qube).script} in ${q.host.kind === "disposable" ? "the disposable template" : "the template"} ${q.host.qube}; loaded when ${q.qube} next starts`
          : `  ${q.qube}: ${q.summary.length} intent line(s)${q.hasPacketRules ? `, ${p.backend} script ${scriptWhere(q.placement)}` : ""}${q.connects.length > 0 ? `, qrexec sockets ${layout.markedBlocks ? `from ${layout.connectPath} (called from rc.local)` : "in /rw/config/rc.local.d"}` : ""}`,
      ),
      ...p.hosts.filter((h) => h.guests.length === 0).map((h) => `  ${h.host}: held qwire scripts of other qubes in the previous build; they are removed`),
      ...p.teardowns.map((t) => `  ${t.qube}: teardown (it carried qwire rules in the previous build)`),
      `  dom0: ${p.prefs.length} qube(s) with netvm preferences, ${p.firewalls.length} with an outbound policy`,
      ...(hadPrevious
        ? []
        : [
            "note: no plan.json of an earlier build was found, so no qube gets a teardown; if an earlier bundle is applied,",
            "      build into its folder (or pass --previous <its plan.json>) so that qubes which lost all rules are cleaned up",
          ]),
      ...(p.qubes.some((q) => q.host !== undefined)
        ? [
            `note: restart ${p.qubes.filter((q) => q.host !== undefined).map((q) => q.qube).join(", ")} after install.sh: a qube whose scripts are in its (disposable) template`,
            "      loads its qwire rules only when it starts (once that template has shut down; qubesctl shuts it down if it was not running)",
          ]
        : []),
      `next: read ${opts.output}/README.md, copy ${opts.output}/ to dom0, run: sudo ./install.sh --dry-run`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return EXIT.ok;
}

async function readPreviousPlanFile(path: string) {
  const dir = path.replace(/\/?plan\.json$/, "") || ".";
  const previous = await readPreviousPlan(dir);
  if (previous === undefined) throw new EmitError(`${path} is not a plan.json written by qwire`);
  return previous;
}
