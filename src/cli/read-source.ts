/** Reads the user's qwire.yaml for a command; a file that cannot be read is QW1003. */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { FleetOptions } from "../parse/fleet.js";
import type { SourceFile } from "../parse/index.js";
import type { Topology } from "../topology/index.js";
import { EXIT } from "./exit-codes.js";
import { printDiagnostics } from "./report.js";

export async function readSource(file: string): Promise<SourceFile | number> {
  try {
    return { name: file, text: await readFile(file, "utf8") };
  } catch (e) {
    process.stderr.write(`qwire: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (QW1003)\n`);
    return EXIT.diagnostics;
  }
}

/**
 * The files qwire.yaml includes, and the host overlay (`--host NAME` reads
 * hosts/NAME.yaml beside qwire.yaml), read from disk; `texts` keeps what was
 * read so diagnostics can show lines of those files.
 */
export function fleetReader(file: string, host?: string): { fleet: FleetOptions; texts: Map<string, string> } | string {
  if (host !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(host))
    return `--host '${host}' is not a machine name (letters, digits, '_', '.', '-')`;
  return includeReader(file, host);
}

/** The same without a host overlay: it cannot fail (an unreadable include is a diagnostic). */
export function includeReader(file: string, host?: string): { fleet: FleetOptions; texts: Map<string, string> } {
  const texts = new Map<string, string>();
  const read = (path: string) => {
    try {
      const text = readFileSync(path, "utf8");
      texts.set(path, text);
      return text;
    } catch {
      return undefined;
    }
  };
  return {
    fleet: { read, ...(host === undefined ? {} : { host: join(dirname(file), "hosts", `${host}.yaml`) }) },
    texts,
  };
}

/** What a fleet reader read, as the files printDiagnostics may show lines of. */
export function sourcesOf(texts: ReadonlyMap<string, string>): SourceFile[] {
  return [...texts].map(([name, text]) => ({ name, text }));
}

/** qwire.yaml and the reader of its includes and host overlay; a number is the exit code (the reason is printed). */
export async function readFleet(
  file: string,
  host?: string,
): Promise<{ source: SourceFile; files: { fleet: FleetOptions; texts: Map<string, string> } } | number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const files = fleetReader(file, host);
  if (typeof files === "string") {
    process.stderr.write(`qwire: ${files}\n`);
    return EXIT.usage;
  }
  return { source, files };
}

/**
 * For commands that read the network (graph, explain): qwire.yaml and its
 * includes checked, the diagnostics printed; the topology, or the exit code
 * when the file cannot be read or has errors.
 */
export async function checkedTopology(file: string): Promise<Topology | number> {
  const source = await readSource(file);
  if (typeof source === "number") return source;
  const files = includeReader(source.name);
  const { check } = await import("../check.js");
  const checked = check(source, files.fleet);
  printDiagnostics(checked.diagnostics, source, "text", sourcesOf(files.texts));
  return checked.topology ?? EXIT.diagnostics;
}
