/**
 * The command line: argv -> pipeline -> text on the terminal and an exit code.
 * The only module that prints or decides the process's exit status.
 *
 * Start-up matters (`qwire --version`, `qwire check` run in editors and
 * hooks): this file only declares the commands. Each action imports its
 * ./<name>-command.js when it runs, so a command loads only what it needs
 * (check: no Handlebars or render; --version and --help: only commander).
 * New commands follow the same pattern.
 */
import { Command, CommanderError, Option } from "commander";
import { EVENT_NAMES } from "../simulate/events.js";
import { EXIT } from "./exit-codes.js";
import type { OutputFormat } from "./report.js";

const DEFAULT_FILE = "qwire.yaml";

/** What `qwire import` reads from qvm-ls (kept here so --help needs no import module). */
const QVM_LS_FIELDS = "NAME,CLASS,NETVM,PROVIDES_NETWORK,TEMPLATE,LABEL";

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

  const format = () =>
    new Option("--format <format>", "diagnostics as text or json").choices(["text", "json"]).default("text");
  const host = () =>
    new Option(
      "--host <name>",
      "this machine's overlay: hosts/<name>.yaml beside qwire.yaml, read over it (its values win)",
    );

  program
    .command("build")
    .description(
      "check qwire.yaml and write the bundle (README.md, install.sh, plan.json, salt/, pillar/) into a folder",
    )
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .requiredOption(
      "-o, --output <dir>",
      "bundle folder; replaced as a whole if it holds an earlier qwire bundle, refused otherwise",
    )
    .option(
      "--previous <plan.json>",
      "plan.json of the bundle that is applied now (default: the one in the output folder); qubes it lists that no longer carry rules are torn down",
    )
    .addOption(format())
    .addOption(host())
    .addHelpText(
      "after",
      "\nExit status: 0 bundle written (warnings allowed), 1 errors in qwire.yaml (nothing written), 2 usage.\n" +
        "Example:\n  qwire build qwire.yaml -o out && less out/README.md",
    )
    .action(async (file: string, opts: { output: string; previous?: string; format: OutputFormat; host?: string }) => {
      code = await (await import("./build-command.js")).runBuild(file, opts);
    });

  program
    .command("check")
    .description("check qwire.yaml and print every problem, with its line; writes nothing")
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .addOption(format())
    .addOption(host())
    .addHelpText("after", "\nExit status: 0 no errors (warnings allowed), 1 errors, 2 usage.")
    .action(async (file: string, opts: { format: OutputFormat; host?: string }) => {
      code = await (await import("./check-command.js")).runCheck(file, opts);
    });

  program
    .command("reconnect")
    .description(
      "print the dom0 commands that re-attach every declared qube to its netvm after a netvm restart, upstream first",
    )
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .addOption(format())
    .addHelpText(
      "after",
      "\nThe bundle's salt/qwire/reconnect.sls does the same from Salt: sudo qubesctl state.apply qwire.reconnect saltenv=user",
    )
    .action(async (file: string, opts: { format: OutputFormat }) => {
      code = await (await import("./reconnect-command.js")).runReconnect(file, opts);
    });

  program
    .command("simulate")
    .description(
      "build the bundle and prove it in network namespaces shaped like the Qubes network (Linux, root): apply, re-apply, firewall reload, restart, recreate, delete an intent; check every flow after each",
    )
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .addOption(new Option("--format <format>", "report as text or json").choices(["text", "json"]).default("text"))
    .option("--events <list>", `comma-separated subset of ${EVENT_NAMES.join(",")} (apply always runs)`)
    .option("-q, --quiet", "text: matrices and failures only, not every passing flow")
    .addOption(host())
    .addHelpText(
      "after",
      "\nExit status: 0 every flow held after every event, 1 errors in qwire.yaml, 2 usage,\n" +
        "3 a flow or check failed, or the simulation could not run (missing root, nft, iproute2, python3-jinja2).\n" +
        "Example:\n  sudo qwire simulate formulas/lan-web-server.yaml",
    )
    .action(async (file: string, opts: { format: OutputFormat; events?: string; quiet?: boolean; host?: string }) => {
      code = await (await import("./simulate-command.js")).runSimulate(file, opts);
    });

  program
    .command("graph")
    .description(
      "draw the netvm tree, forwards (hop by hop from outside), network links, qrexec links and service qubes as Mermaid, Graphviz DOT or SVG",
    )
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .addOption(
      new Option("--format <format>", "mermaid (renders on GitHub), dot, or svg (needs graphviz's dot)")
        .choices(["mermaid", "dot", "svg"])
        .default("mermaid"),
    )
    .addHelpText(
      "after",
      "\nExit status: 0 drawn, 1 errors in qwire.yaml, 2 usage, 3 svg asked for but graphviz's dot is missing or failed.\n" +
        "Examples:\n  qwire graph > network.mmd\n  qwire graph --format svg > network.svg",
    )
    .action(async (file: string, opts: { format: "mermaid" | "dot" | "svg" }) => {
      code = await (await import("./graph-command.js")).runGraph(file, opts.format);
    });

  program
    .command("explain")
    .description(
      "follow one packet through the network qwire.yaml describes: the rule that decides at each hop (a qwire intent or a Qubes base rule) and the verdict",
    )
    .argument("<from>", "a qube, or outside:ADDRESS for a client outside the machine")
    .argument("<to>", "a qube, or an IPv4 address on the internet (outbound policy)")
    .argument("<port>", "PORT or PORT/PROTO (tcp by default), e.g. 443 or 51820/udp")
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .addOption(
      new Option("--via <how>", "network, or qrexec for a qubes.ConnectTCP link (PORT is the port served in TO)")
        .choices(["network", "qrexec"])
        .default("network"),
    )
    .addHelpText(
      "after",
      "\nExit status: 0 open, 1 errors in qwire.yaml, 2 usage (unknown qube or malformed port),\n" +
        "4 closed: an answer that needs attention, not a failure (qwire plan's 4, 'something changes', is the same kind).\n" +
        "Examples:\n  qwire explain outside:192.168.1.50 web 443\n  qwire explain work vault 22 --via qrexec\n  qwire explain web 1.1.1.1 443",
    )
    .action(async (from: string, to: string, port: string, file: string, opts: { via: "network" | "qrexec" }) => {
      code = await (await import("./explain-command.js")).runExplain(from, to, port, file, opts.via);
    });

  program
    .command("import")
    .description(
      "write a qwire.yaml that declares the netvm layout, outbound policies and qrexec links a machine has now, from dom0 command output",
    )
    .argument("<qubes>", `the output of: qvm-ls --raw-data --fields ${QVM_LS_FIELDS}`)
    .option("--firewall <file>", "per qube a line '== <qube>' and the output of: qvm-firewall <qube> list")
    .option(
      "--policy <file>",
      "the qubes.ConnectTCP lines of /etc/qubes/policy.d (grep -h ConnectTCP /etc/qubes/policy.d/*.policy)",
    )
    .option("--release <release>", "the machine's Qubes release, e.g. 4.2 (the default) or 4.3", "4.2")
    .option("-o, --output <file>", "write the qwire.yaml here (never over an existing file); default: stdout")
    .addHelpText(
      "after",
      "\nIn dom0:\n" +
        `  qvm-ls --raw-data --fields ${QVM_LS_FIELDS} > qubes.txt\n` +
        "  for q in $(qvm-ls --raw-data --fields NAME,CLASS | grep -v -e '|AdminVM$' -e '|TemplateVM$' | cut -d'|' -f1); do echo \"== $q\"; qvm-firewall \"$q\" list; done > firewall.txt\n" +
        "  grep -h ConnectTCP /etc/qubes/policy.d/*.policy > policy.txt\n" +
        "Then, in the qube where you build: qwire import qubes.txt --firewall firewall.txt --policy policy.txt -o qwire.yaml\n" +
        "Exit status: 0 written, 1 a line of the output could not be read (nothing written), 2 usage.",
    )
    .action(async (qubes: string, opts: { firewall?: string; policy?: string; release: string; output?: string }) => {
      code = await (await import("./import-command.js")).runImport(qubes, opts);
    });

  program
    .command("plan")
    .description(
      "say what building qwire.yaml would change against the bundle applied now: per qube, teardowns, install.sh's targets, dom0; writes nothing",
    )
    .argument("[file]", "the intents file", DEFAULT_FILE)
    .option("--against <dir|plan.json>", "the bundle applied now (its folder, or its plan.json)", "out")
    .addOption(new Option("--format <format>", "report as text or json").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExit status: 0 nothing changes, 1 errors in qwire.yaml, 2 usage (an unreadable --against),\n" +
        "4 something changes: an answer that needs attention, not a failure (qwire explain's 4, 'closed', is the same kind).\n" +
        "Example:\n  qwire plan qwire.yaml --against out || [ $? -eq 4 ]",
    )
    .action(async (file: string, opts: { against: string; format: OutputFormat }) => {
      code = await (await import("./plan-command.js")).runPlan(file, opts);
    });

  program
    .command("schema")
    .description("print the JSON Schema of qwire.yaml, for editors (completion and checks as you type)")
    .option(
      "--part",
      "the schema of a file qwire.yaml includes, or of a host overlay (hosts/NAME.yaml): the same keys, none required",
    )
    .addHelpText(
      "after",
      "\nExample:\n  qwire schema > qwire.schema.json\n" +
        "  then start qwire.yaml with: # yaml-language-server: $schema=./qwire.schema.json\n" +
        "  qwire schema --part > qwire-part.schema.json, for included files and hosts/*.yaml\n" +
        "The schema checks the shape; `qwire check` still decides (values, the release's limits, references).",
    )
    .action(async (opts: { part?: boolean }) => {
      code = (await import("./schema-command.js")).runSchema(opts);
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw e;
  }
  return code;
}
