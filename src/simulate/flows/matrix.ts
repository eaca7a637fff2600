/**
 * The connectivity matrix of one event, as text a person reads at a glance:
 * one row per client, one column per qube that should (or must not) answer;
 * a cell lists what the probes saw, "!" marking what was not expected.
 */
import { sourceLabel as plainLabel, type Flow } from "./flow.js";
import type { FlowResult } from "./probe.js";

export function formatMatrix(results: readonly FlowResult[]): string {
  if (results.length === 0) return "(no flows)\n";
  // One address on two outside networks (a tunnel and a LAN) is two rows.
  const nets = new Map<string, Set<string>>();
  for (const r of results)
    if (r.flow.from.kind === "outside")
      nets.set(
        r.flow.from.address,
        (nets.get(r.flow.from.address) ?? new Set()).add(`${r.flow.from.lan.qube}:${r.flow.from.lan.iface}`),
      );
  const sourceLabel = (from: Flow["from"]) =>
    from.kind === "outside" && nets.get(from.address)!.size > 1
      ? `${plainLabel(from)} on ${from.lan.qube}:${from.lan.iface}`
      : plainLabel(from);
  const rows = unique(results.map((r) => sourceLabel(r.flow.from)));
  const cols = unique(results.map((r) => r.flow.to)).sort();
  const cell = (row: string, col: string) =>
    results
      .filter((r) => sourceLabel(r.flow.from) === row && r.flow.to === col)
      .sort((a, b) => a.flow.port - b.flow.port || (a.flow.proto < b.flow.proto ? -1 : 1))
      .map(
        (r) =>
          `${r.pass ? "" : "!"}${via(r.flow)}${r.flow.port}/${r.flow.proto} ${r.outcome.state === "open" && (r.pass ? r.flow.expect === "open" : true) ? "open" : "shut"}`,
      )
      .join(", ") || ".";
  const table = [["from \\ to", ...cols], ...rows.map((row) => [row, ...cols.map((col) => cell(row, col))])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((line) => line[c]!.length)));
  const lines = table.map((line) =>
    line
      .map((text, c) => text.padEnd(widths[c]!))
      .join("  ")
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return `${lines.join("\n")}\n`;
}

/** How the client dialled, when not straight to the qube over IPv4: its own 127.0.0.1 (a qrexec socket), a qrexec call, IPv6. */
function via(f: Flow): string {
  if (f.dial.kind === "loopback") return "lo:";
  if (f.dial.kind === "qrexec") return "qrexec+";
  if (f.dial.kind === "internet") return `${f.dial.address}:`;
  return (f.dial.kind === "qube" && f.dial.ipv6) || (f.from.kind === "outside" && f.from.address.includes(":"))
    ? "v6:"
    : "";
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
