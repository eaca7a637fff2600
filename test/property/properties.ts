/**
 * The safety properties of the whole pipeline, as functions that return the
 * list of what is wrong with one input (empty: it holds). Used by the seeded
 * tests (test/property/*.test.ts) and by `npm run fuzz` (fuzz/).
 *
 * compileProperty (cheap, in-process):
 * - compile never throws; every diagnostic has a known code, a position
 *   inside the file and a one-line message of bounded length;
 * - when it builds: a second compile gives the same bytes; every file is
 *   printable ASCII (plus newline and tab: nothing the validator's grammars
 *   do not allow, no look-alikes, no control characters); no string planted
 *   by a mutation that holds a shell/nft/Jinja/YAML metacharacter appears in
 *   the bundle; every Salt file parses as YAML once its Jinja is taken out,
 *   and its only Jinja is the lookups DESIGN §3 allows (pillar address
 *   lookups with a validated qube name, the vm.sls dispatch on grains['id']);
 *   no other file holds Jinja; no state renders a file through a template.
 * toolsProperty (real tools, slower): every script passes `sh -n` and
 * shellcheck; on R4.2/R4.3 every qube script loads in a network namespace
 * holding the Qubes base tables (table ip6 qubes too when a qube has
 * IPv6), its transaction checked by `nft -c` first.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import yaml from "js-yaml";
import { DIAGNOSTIC_CODES } from "../../src/diagnostics/codes.js";
import type { Artifact } from "../../src/render/artifact.js";
import { compileText } from "../helpers/compile.js";
import { qubes6Table } from "../../src/simulate/model/qubes-tables.js";
import { installed, loadQubesBase, nftIn, runInQube, type Attached, type NetnsPool } from "../helpers/netns.js";
import { SHELLCHECK, addressesFile, removeDir, scriptsOf, tempDir } from "../helpers/tools.js";
import type { Generated } from "./arbitraries.js";

const QUBE_NAME_SLOT = /(qvm-prefs (?:-g )?-- )([^ ']*)( ip6?')/g;
const QUBE = /^[A-Za-z][A-Za-z0-9_.-]{0,30}$/;
/**
 * The Jinja DESIGN §3 allows: the tags qwire's own Salt templates write (read
 * off a reference build, so a template change needs no edit here), with the
 * qube name of an address lookup as the only slot, which must be a valid
 * qube name. A tag holding anything else from qwire.yaml is a failure.
 */
let allowedTags: Set<string> | undefined;
function allowed(): Set<string> {
  if (allowedTags) return allowedTags;
  const reference = (release: string, ipv6: boolean) => `version: 1
release: "${release}"
qubes:
  sys-net: { provides_network: true, uplink: ens6${ipv6 ? ", ipv6: true" : ""} }
  sys-firewall: { netvm: sys-net, provides_network: true${ipv6 ? ", ipv6: true" : ""} }
  web: { netvm: sys-firewall${ipv6 ? ", ipv6: true" : ""} }
forwards:
  - { to: web, port: 443, from: [192.168.1.0/24${ipv6 ? ", 2001:db8::/32" : ""}] }
`;
  allowedTags = new Set();
  for (const [release, ipv6] of [
    ["4.2", true],
    ["4.1", false],
    ["3.2", false],
  ] as const) {
    for (const a of compileText(reference(release, ipv6)).artifacts ?? []) {
      for (const tag of a.content.match(JINJA_TAG) ?? []) allowedTags.add(tag.replace(QUBE_NAME_SLOT, "$1NAME$3"));
    }
  }
  return allowedTags;
}
function isAllowedTag(tag: string): boolean {
  let names = true;
  const normal = tag.replace(QUBE_NAME_SLOT, (_m, a: string, name: string, b: string) => {
    if (!QUBE.test(name)) names = false;
    return `${a}NAME${b}`;
  });
  return names && allowed().has(normal);
}
const JINJA_TAG = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g;
/** Characters no validated field allows into a generated file. */
const DANGEROUS = /[$`'"\\|&<>(){}\n\r\0]|[^\x20-\x7e]/;

/** `stats.built` counts the inputs that gave a bundle. */
export function compileProperty(g: Generated, stats?: { built: number }): string[] {
  const failures: string[] = [];
  let result;
  try {
    result = compileText(g.yaml);
  } catch (e) {
    return [`compile threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`];
  }
  const text = g.yaml.replace(/^\uFEFF/, "");
  const lines = text.split("\n");
  for (const d of result.diagnostics) {
    if (!(d.code in DIAGNOSTIC_CODES)) failures.push(`unknown code ${d.code}`);
    const line = lines[d.span.line - 1];
    if (!Number.isInteger(d.span.line) || line === undefined)
      failures.push(`${d.code} at line ${d.span.line}, outside the file's ${lines.length} lines`);
    else if (!(d.span.column >= 1 && d.span.column <= line.length + 1))
      failures.push(`${d.code} at ${d.span.line}:${d.span.column}, past the end of that line (${line.length})`);
    // eslint-disable-next-line no-control-regex -- the property is that no control character is left
    if (/[\x00-\x1f\x7f]/.test(d.message))
      failures.push(`${d.code} message has a control character: ${JSON.stringify(d.message)}`);
    if (d.message.length > 1000) failures.push(`${d.code} message is ${d.message.length} characters long`);
  }
  if (!result.artifacts) {
    if (!result.diagnostics.some((d) => d.severity === "error")) failures.push("no bundle and no error");
    return failures;
  }
  if (stats) stats.built++;
  const again = compileText(g.yaml);
  if (JSON.stringify(again.artifacts) !== JSON.stringify(result.artifacts))
    failures.push("a second compile gave different bytes");
  for (const a of result.artifacts) failures.push(...checkArtifact(a));
  for (const p of g.planted) {
    if (p.length < 2 || !DANGEROUS.test(p)) continue;
    const holder = result.artifacts.find((a) => a.content.includes(p));
    if (holder) failures.push(`the planted value ${JSON.stringify(p.slice(0, 80))} reached ${holder.path}`);
  }
  return failures;
}

export function checkArtifact(a: Artifact): string[] {
  const failures: string[] = [];
  const bad = /[^\x20-\x7e\n\t]/.exec(a.content);
  if (bad) {
    const line = a.content.slice(0, bad.index).split("\n").length;
    failures.push(
      `${a.path}:${line} holds ${JSON.stringify(bad[0])} (U+${bad[0].codePointAt(0)!.toString(16).padStart(4, "0")})`,
    );
  }
  const isSalt = /\.(sls|top)$/.test(a.path);
  if (!isSalt) {
    if (/\{\{|\{%/.test(a.content)) failures.push(`${a.path} holds Jinja, which only Salt files may`);
    return failures;
  }
  const jinjaHere = a.path.startsWith("pillar/") || a.path === "salt/qwire/vm.sls";
  for (const tag of a.content.match(JINJA_TAG) ?? []) {
    if (!jinjaHere)
      failures.push(
        `${a.path} holds Jinja (${tag.slice(0, 80)}), which DESIGN §3 allows only in pillars and the vm.sls dispatch`,
      );
    else if (!isAllowedTag(tag)) failures.push(`${a.path} holds Jinja DESIGN §3 does not allow: ${tag.slice(0, 120)}`);
  }
  if (/^\s*-?\s*template:\s/m.test(a.content)) failures.push(`${a.path} renders a file through a template`);
  const plain = a.content.replace(JINJA_TAG, (t) => (t.startsWith("{{") ? "x" : ""));
  try {
    yaml.load(plain, { schema: yaml.CORE_SCHEMA });
  } catch (e) {
    failures.push(`${a.path} is not YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  return failures;
}

/** An address per qube of the document (pins kept), as dom0 would report them. */
function addressesOf(yamlText: string): Map<string, string> {
  const doc = yaml.load(yamlText, { schema: yaml.CORE_SCHEMA }) as { qubes?: Record<string, { ip?: string }> };
  const out = new Map<string, string>();
  Object.entries(doc.qubes ?? {}).forEach(([name, q], i) =>
    out.set(name, typeof q?.ip === "string" ? q.ip : `10.137.1.${10 + i}`),
  );
  return out;
}

/** Qubes' IPv6 address of a qube: its IPv4 address in the fd09:24ef:4179::/64 prefix (10.137.0.7 -> fd09:24ef:4179::a89:7). */
function qubesIpv6(ipv4: string): string {
  const [a, b, c, d] = ipv4.split(".").map(Number) as [number, number, number, number];
  return `fd09:24ef:4179::${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** What toolsProperty checked over a run, so a test can tell that it checked something. */
export const toolCounts = { scripts: 0, nftLoads: 0, ipv6Scripts: 0 };

export async function toolsProperty(g: Generated, pool: NetnsPool): Promise<string[]> {
  const result = compileText(g.yaml);
  if (!result.artifacts || !result.plan) return [];
  const failures: string[] = [];
  const dir = await tempDir("prop-tools");
  try {
    const scripts = result.artifacts.filter((a) => a.content.startsWith("#!"));
    const paths: string[] = [];
    for (const [i, s] of scripts.entries()) {
      const path = join(dir, `${i}-${s.path.replaceAll("/", "_")}`);
      await writeFile(path, s.content);
      paths.push(path);
      toolCounts.scripts++;
      const syntax = await execa("/bin/sh", ["-n", path], { reject: false });
      if (syntax.exitCode !== 0) failures.push(`sh -n ${s.path}: ${syntax.stderr.trim()}`);
    }
    if (paths.length > 0) {
      const sc = await execa(SHELLCHECK, ["-s", "sh", "-f", "gcc", ...paths], { reject: false });
      if (sc.exitCode !== 0) failures.push(`shellcheck: ${`${sc.stdout}${sc.stderr}`.trim().slice(0, 2000)}`);
    }
    const plan = result.plan;
    if (plan.release !== "4.2" && plan.release !== "4.3") return failures;
    const doc = yaml.load(g.yaml, { schema: yaml.CORE_SCHEMA }) as {
      qubes?: Record<string, { netvm?: string; ipv6?: boolean }>;
    };
    const ipv6 = Object.values(doc.qubes ?? {}).some((q) => q?.ipv6 === true);
    const ips = addressesOf(g.yaml);
    // An address key is a qube ("web") or its IPv6 address ("web/6"), which Qubes derives from the IPv4 one.
    const addressOf = (key: string) =>
      key.endsWith("/6") ? qubesIpv6(ips.get(key.slice(0, -2)) ?? "10.137.9.9") : (ips.get(key) ?? "10.137.9.9");
    for (const script of scriptsOf(result.artifacts)) {
      const q = plan.qubes.find((p) => p.stem === script.stem);
      if (!q || q.host !== undefined) continue;
      const ns = await pool.create();
      const downstream: Attached[] = Object.entries(doc.qubes ?? {})
        .filter(([, d]) => d?.netvm === q.qube)
        .map(([name], i) => ({ vif: `vif${10 + i}.0`, address: ips.get(name)! }));
      await loadQubesBase(ns, { netQube: script.placement === "qubes-firewall.d", downstream });
      if (ipv6) {
        await nftIn(ns, ["-f", "-"], qubes6Table());
        toolCounts.ipv6Scripts++;
      }
      // As the pillar writes it: a qube with IPv6 also gets its `name/6` line.
      const keys = q.addresses.flatMap((n) => (doc.qubes?.[n]?.ipv6 === true ? [n, `${n}/6`] : [n]));
      const addresses = addressesFile(Object.fromEntries(keys.map((n) => [n, addressOf(n)])));
      const run = await runInQube(ns, installed(script), addresses, { name: q.qube });
      toolCounts.nftLoads += run.nftChecks;
      if (run.rebootCalled) failures.push(`${script.stem}: the script ran reboot`);
      if (run.exitCode !== 0)
        failures.push(`${script.stem}: exit ${run.exitCode}: ${run.stderr.trim().slice(0, 1500)}`);
      else if (q.hasPacketRules && run.nftChecks < 1) failures.push(`${script.stem}: loaded no nft transaction`);
    }
    return failures;
  } finally {
    await pool.deleteAll();
    await removeDir(dir);
  }
}
