/**
 * The imported qwire.yaml as text, comments included: what could not be
 * expressed stays visible where it belongs, and what dom0 cannot see
 * (forwards and network links live in the qubes' own scripts) is said at
 * the top. Written by hand rather than dumped so the comments sit on the
 * right lines; every value in it was checked by the readers.
 */
import type { Release } from "../validate/index.js";
import { ruleText, type ImportedList } from "./firewall-lists.js";
import type { ImportedCall, ImportedPolicy } from "./policy.js";
import type { ListedQube } from "./qvm-ls.js";

export interface ImportInputs {
  readonly qubes: readonly ListedQube[];
  readonly lists: readonly ImportedList[];
  readonly policy?: ImportedPolicy;
  readonly release: Release;
  /** The input file names, for the heading. */
  readonly from: readonly string[];
}

export function writeImportedYaml(input: ImportInputs): string {
  const out: string[] = [
    `# Imported by \`qwire import\` from dom0 command output (${input.from.join(", ")}).`,
    "# Review it before building. dom0 cannot list forwards or network links (they live in the",
    "# qubes' own /rw/config scripts): add them under forwards: and links:. A forward needs",
    "# the outside interface of its entry qube: add `uplink: <NIC>` (see `ip link` in sys-net).",
    "# Mark a VPN or other service qube with `role: service` (qvm-ls cannot tell).",
    "version: 1",
    `release: "${input.release}"`,
  ];
  const kept = input.qubes.filter((q) => q.klass !== "AdminVM" && q.klass !== "TemplateVM");
  const width = Math.max(...kept.map((q) => q.name.length)) + 1;
  out.push("qubes:");
  for (const q of kept) {
    const props = [
      ...(q.netvm !== undefined ? [`netvm: ${q.netvm}`] : []),
      ...(q.providesNetwork ? ["provides_network: true"] : []),
    ];
    const about = [
      q.klass,
      ...(q.template !== undefined ? [`template ${q.template}`] : []),
      ...(q.label !== undefined ? [`label ${q.label}`] : []),
    ].join(", ");
    out.push(`  ${`${q.name}:`.padEnd(width)} ${props.length === 0 ? "{}" : `{ ${props.join(", ")} }`}   # ${about}`);
  }
  const skipped = input.qubes.filter((q) => q.klass === "AdminVM" || q.klass === "TemplateVM").map((q) => q.name);
  if (skipped.length > 0)
    out.push(`# left out (dom0 and templates, which qwire does not route through): ${skipped.join(", ")}`);

  const calls = input.policy?.calls ?? [];
  const unexpressedPolicy = input.policy?.unexpressed ?? [];
  if (calls.length > 0 || unexpressedPolicy.length > 0) {
    out.push("links:");
    for (const link of qrexecLinks(calls)) {
      const local = link.localPort === link.port ? "" : `, local_port: ${link.localPort}`;
      out.push(
        `  - { from: ${link.from}, to: ${link.to}, via: qrexec, ports: [${link.port}]${local}${link.bothWays ? ", both_ways: true" : ""} }${link.localPort === link.port ? "" : "   # local_port chosen by qwire import: the policy does not name the client's port"}`,
      );
    }
    for (const u of unexpressedPolicy) out.push(`  # not expressed (${u.why}): ${u.line}`);
  }

  const lists = input.lists.filter((l) => kept.some((q) => q.name === l.qube));
  const shown = lists.filter((l) => !(l.rules.length === 0 && l.policy === "accept" && l.unexpressed.length === 0));
  if (shown.length > 0) {
    out.push("firewall:");
    for (const l of shown) {
      const q = kept.find((k) => k.name === l.qube)!;
      if (q.netvm === undefined) {
        out.push(`  # ${l.qube}: its outbound list is left out: it has no netvm, so nothing enforces it`);
        continue;
      }
      out.push(`  ${l.qube}:`, `    policy: ${l.policy}`);
      if (l.rules.length > 0 || l.unexpressed.length > 0) out.push("    rules:");
      for (const r of l.rules) out.push(`      - ${JSON.stringify(ruleText(r))}`);
      for (const u of l.unexpressed)
        out.push(`      # not expressed (an expiry time; qwire.yaml rules are permanent): ${u}`);
    }
  }
  return `${out.join("\n")}\n`;
}

interface QrexecLink {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly localPort: number;
  readonly bothWays: boolean;
}

/**
 * One link per call; a call and its reverse on the same port become one
 * both_ways link. The local port is the served port unless that would clash
 * in the calling qube (it serves that port itself, or calls it twice), as
 * qwire refuses (QW3016).
 */
function qrexecLinks(calls: readonly ImportedCall[]): QrexecLink[] {
  const links: { from: string; to: string; port: number; bothWays: boolean }[] = [];
  for (const c of [...calls].sort(
    (a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.port - b.port,
  )) {
    const reverse = links.find((l) => l.from === c.to && l.to === c.from && l.port === c.port);
    if (reverse) reverse.bothWays = true;
    else links.push({ from: c.from, to: c.to, port: c.port, bothWays: false });
  }
  const served = new Map<string, Set<number>>();
  const serve = (q: string, p: number) => served.set(q, (served.get(q) ?? new Set()).add(p));
  for (const l of links) {
    serve(l.to, l.port);
    if (l.bothWays) serve(l.from, l.port);
  }
  const usedLocal = new Map<string, Set<number>>();
  const pick = (q: string, port: number, also?: string): number => {
    const free = (p: number) =>
      [q, also].every(
        (x) => x === undefined || (!(served.get(x)?.has(p) ?? false) && !(usedLocal.get(x)?.has(p) ?? false)),
      );
    let p = port;
    if (!free(p)) for (p = port + 10000 > 65535 ? 1024 : port + 10000; !free(p); p = p >= 65535 ? 1024 : p + 1);
    for (const x of [q, also]) if (x !== undefined) usedLocal.set(x, (usedLocal.get(x) ?? new Set()).add(p));
    return p;
  };
  return links.map((l) => ({ ...l, localPort: pick(l.from, l.port, l.bothWays ? l.to : undefined) }));
}
