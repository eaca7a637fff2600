/**
 * The pillars of the bundle, rendered by Salt in dom0 when qubesctl applies
 * qwire.vm to a qube: the only Jinja qwire writes besides vm.sls's dispatch
 * (DESIGN.md §3) asks qvm-prefs for the addresses a qube's script needs.
 */
import type { HostPlan, QubePlan } from "../plan/index.js";
import { profileOf } from "../release/index.js";
import type { QubeName, Release } from "../validate/index.js";
import { dumpYaml } from "./yaml.js";

/**
 * A qube's pillar, rendered by Salt in dom0 (`pillar.items --id=<qube>`), so
 * its Jinja may ask qvm-prefs. Each line of `addresses` is "<key> <address>",
 * or "<key> - <reason>" when the lookup failed (see addressLookup); the
 * script never puts a line of the second kind into a rule. Pinned addresses
 * are written as is.
 */
export function pillar(q: QubePlan, pins: ReadonlyMap<QubeName, string>, release: Release): string {
  const lines = addressLines(q, pins, release);
  return dumpYaml({ qwire: { addresses: lines.length === 0 ? "" : `${lines.join("\n")}\n` } }, [
    `Pillar for qube ${q.qube}, rendered in dom0 when qubesctl applies qwire.vm to it.`,
    lines.length === 0
      ? "It needs no qube addresses."
      : `Addresses it needs, looked up now (not at build time): ${addressNames(q).join(", ")}.`,
  ]);
}

/** The pillar of a host: each guest's addresses, looked up in dom0 as for any qube. */
export function hostPillar(
  h: HostPlan,
  guests: readonly QubePlan[],
  pins: ReadonlyMap<QubeName, string>,
  release: Release,
): string {
  const entries = guests.map((g) => {
    const lines = addressLines(g, pins, release);
    return [g.qube, { addresses: lines.length === 0 ? "" : `${lines.join("\n")}\n` }] as const;
  });
  return dumpYaml({ qwire: { guests: Object.fromEntries(entries) } }, [
    `Pillar for ${h.host}, which holds the scripts of ${guests.map((g) => g.qube).join(", ")}; rendered in dom0 when qubesctl applies qwire.vm to it.`,
    ...guests.map((g) =>
      addressNames(g).length === 0
        ? `${g.qube} needs no qube addresses.`
        : `Addresses ${g.qube} needs, looked up now (not at build time): ${addressNames(g).join(", ")}.`,
    ),
  ]);
}

function addressNames(q: QubePlan): string[] {
  return [...q.addresses, ...(q.ipv6 ? q.v6.addresses.map((a) => `${a} (IPv6)`) : [])];
}

function addressLines(q: QubePlan, pins: ReadonlyMap<QubeName, string>, release: Release): string[] {
  const lines = [
    ...q.addresses.map((name) => {
      const pinned = pins.get(name);
      return pinned !== undefined ? `${name} ${pinned}` : `${name} ${addressLookup(release, name, "ip")}`;
    }),
    // IPv6 addresses are never pinned; "<qube>/6" keeps them apart (no qube name has a '/').
    ...(q.ipv6 ? q.v6.addresses.map((name) => `${name}/6 ${addressLookup(release, name, "ip6")}`) : []),
  ];
  return lines;
}

/** Characters a failure reason keeps (the rest become '_'): nothing that could end the YAML line, quote, or reach a shell. */
const REASON_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._:,()/@+-";

/**
 * The Jinja that asks dom0 for one address at pillar render time and prints
 * the address, or "- <reason>": qvm-prefs' own error (its last stderr line),
 * "qube does not exist", or "no netvm" when it answers with no address.
 * cmd.run_all runs qvm-prefs without a shell (python_shell is off when called
 * from Jinja) and ignore_retcode keeps the expected failure out of Salt's
 * error log. Every character printed is taken from a fixed set, one line,
 * at most 160 characters: no qvm-prefs output can break the pillar's YAML or
 * put anything but address characters where the script reads an address.
 */
function addressLookup(release: Release, name: QubeName, property: "ip" | "ip6"): string {
  // R3.2's qvm-prefs needs -g to get one property (reference §6); R4 takes the bare form.
  const cmd = `${profileOf(release).salt.getPref} ${name} ${property}`;
  const keep = (expr: string, chars: string) =>
    `{% for c in (${expr})[:160] %}{{ c if c in '${chars}' else '_' }}{% endfor %}`;
  return [
    `{% set r = salt['cmd.run_all']('${cmd}', ignore_retcode=True) %}`,
    `{% if r['retcode'] == 0 and r['stdout'].strip() %}${keep("r['stdout'].strip()", "0123456789abcdefABCDEF.:")}`,
    `{% elif r['retcode'] == 0 %}- ${property === "ip" ? "no netvm (qvm-prefs gives no ip)" : "no IPv6 address (no netvm, or the ipv6 feature is off)"}`,
    `{% elif 'no such domain' in r['stderr'] %}- qube does not exist`,
    `{% else %}- ${keep(`(r['stderr'].strip().split('\\n') | last) or 'qvm-prefs exited with ' ~ r['retcode']`, REASON_CHARS)}{% endif %}`,
  ].join("");
}
