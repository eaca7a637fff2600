/**
 * `qwire explain FROM TO PORT[/PROTO] [file]`: one packet hop by hop, the
 * rule that decides at each hop, and the verdict. Exit 0 open, 4 closed
 * (so scripts can test it), 1 errors in qwire.yaml, 2 a question that
 * does not fit the file (unknown qube: the nearest name is suggested).
 */
import { Option, type Command } from "commander";
import { check } from "../pipeline.js";
import { EXIT } from "./exit-codes.js";
import { includeReader, readSource } from "./read-source.js";
import { printDiagnostics } from "./report.js";

export function addExplainCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command("explain")
    .description("follow one packet through the network qwire.yaml describes: the rule that decides at each hop (a qwire intent or a Qubes base rule) and the verdict")
    .argument("<from>", "a qube, or outside:ADDRESS for a client outside the machine")
    .argument("<to>", "a qube, or an IPv4 address on the internet (outbound policy)")
    .argument("<port>", "PORT or PORT/PROTO (tcp by default), e.g. 443 or 51820/udp")
    .argument("[file]", "the intents file", "qwire.yaml")
    .addOption(new Option("--via <how>", "network, or qrexec for a qubes.ConnectTCP link (PORT is the port served in TO)").choices(["network", "qrexec"]).default("network"))
    .addHelpText(
      "after",
      "\nExit status: 0 open, 1 errors in qwire.yaml, 2 usage (unknown qube or malformed port), 4 closed.\n" +
        "Examples:\n  qwire explain outside:192.168.1.50 web 443\n  qwire explain work vault 22 --via qrexec\n  qwire explain web 1.1.1.1 443",
    )
    .action(async (from: string, to: string, port: string, file: string, opts: { via: "network" | "qrexec" }) => {
      setCode(await runExplain(from, to, port, file, opts.via));
    });
}

async function runExplain(fromArg: string, toArg: string, portArg: string, file: string, via: "network" | "qrexec"): Promise<number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const files = includeReader(source.name);
  const checked = check(source, files.fleet);
  printDiagnostics(checked.diagnostics, source, "text", files.texts);
  if (!checked.topology) return EXIT.diagnostics;
  const { explainFlow, formatExplanation, nearestPort, resolveQuery } = await import("../explain/index.js");
  const resolved = resolveQuery(checked.topology, fromArg, toArg, portArg, via);
  if (!resolved.ok) {
    process.stderr.write(`qwire explain: ${resolved.message}\n`);
    return EXIT.usage;
  }
  const q = resolved.query;
  const e = explainFlow(checked.topology, q.from, q.dial, q.proto, q.port, q.target);
  process.stdout.write(formatExplanation(q.title, e, e.open ? undefined : nearestPort(checked.topology, q)));
  return e.open ? EXIT.ok : EXIT.closed;
}
