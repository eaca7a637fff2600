/**
 * `qwire explain FROM TO PORT[/PROTO] [file]`: one packet hop by hop, the
 * rule that decides at each hop, and the verdict. Exit 0 open, 4 closed
 * (so scripts can test it), 1 errors in qwire.yaml, 2 a question that
 * does not fit the file (unknown qube: the nearest name is suggested).
 */
import { EXIT } from "./exit-codes.js";
import { checkedTopology } from "./read-source.js";

export async function runExplain(
  fromArg: string,
  toArg: string,
  portArg: string,
  file: string,
  via: "network" | "qrexec",
): Promise<number> {
  const topology = await checkedTopology(file);
  if (typeof topology === "number") return topology;
  const { explainFlow, formatExplanation, nearestPort, resolveQuery } = await import("../explain/index.js");
  const resolved = resolveQuery(topology, fromArg, toArg, portArg, via);
  if (!resolved.ok) {
    process.stderr.write(`qwire explain: ${resolved.message}\n`);
    return EXIT.usage;
  }
  const q = resolved.query;
  const e = explainFlow(topology, q.from, q.dial, q.proto, q.port, q.target);
  process.stdout.write(formatExplanation(q.title, e, e.open ? undefined : nearestPort(topology, q)));
  return e.open ? EXIT.ok : EXIT.closed;
}
