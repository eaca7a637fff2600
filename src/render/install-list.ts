/**
 * The two plain-text files install.sh reads in dom0, where there is no
 * JSON parser it may rely on (dom0 has sha256sum, awk and sed; qwire does
 * not want install.sh to depend on a python module layout):
 *
 * - `SHA256SUMS`: `sha256sum -c` lines for every file of the bundle but
 *   plan.json and itself. plan.json lists SHA256SUMS with its sha256, so the
 *   bundle digest (the sha256 of plan.json) covers every byte of the bundle.
 * - `install.list`: one record per line, the facts of plan.json install.sh
 *   acts on: each VM-phase target with the digest of the files its apply
 *   reads and the addresses its pillar looks up in dom0, the teardowns, and
 *   what dom0 sets (so that --uninstall can say what it leaves).
 */
import { createHash } from "node:crypto";
import type { Plan, QubePlan } from "../plan/index.js";
import type { QubeName } from "../validate/index.js";
import { profileOf } from "../release/index.js";
import { BANNER, digestOf, type Artifact, type FileEntry } from "./artifact.js";

export const INSTALL_LIST_FORMAT = 1;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The folder of the qubes' states: installList reads their text (each names the files its apply reads). */
export const QUBE_STATES = "salt/qwire/qubes/";

/** `sha256sum` output for `files`, in their order. */
function sumLines(files: readonly FileEntry[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}\n`).join("");
}

/** SHA256SUMS: `sha256sum -c` lines for `files`, in their (sorted) order. */
export function sha256sums(files: readonly FileEntry[]): Artifact {
  return { path: "SHA256SUMS", content: sumLines(files), mode: 0o644 };
}

/**
 * An address lookup a pillar makes in dom0 at apply time: `qvm-prefs -- <qube> <property>`.
 * install.sh repeats it to notice a qube whose needed addresses changed.
 */
function lookupsOf(q: QubePlan, pins: ReadonlyMap<QubeName, string>): string[] {
  return [
    ...q.addresses.filter((a) => !pins.has(a)).map((a) => `${a}:ip`),
    ...(q.ipv6 ? q.v6.addresses.map((a) => `${a}:ip6`) : []),
  ];
}

/**
 * The files one target's `state.apply qwire.vm` reads: vm.sls, its state,
 * its pillar, and every salt:// file its state names (read from the state's
 * text, `states`, as Salt will read it).
 */
function inputsOf(
  stem: string,
  byPath: ReadonlyMap<string, FileEntry>,
  states: ReadonlyMap<string, string>,
): FileEntry[] {
  const state = `${QUBE_STATES}${stem}.sls`;
  const text = states.get(state);
  if (text === undefined) throw new Error(`install list: no state ${state} in the bundle`);
  const sources = [...text.matchAll(/salt:\/\/([A-Za-z0-9_./-]+)/g)].map((m) => `salt/${m[1]}`);
  const paths = new Set(["salt/qwire/vm.sls", state, `pillar/qwire/qubes/${stem}.sls`, ...sources]);
  return [...paths].sort().flatMap((p) => {
    const a = byPath.get(p);
    if (a === undefined && p !== `pillar/qwire/qubes/${stem}.sls`)
      throw new Error(`install list: ${state} names ${p}, which is not in the bundle`);
    return a === undefined ? [] : [a];
  });
}

/** install.list for a bundle of `files`; `states` holds the text of each file under QUBE_STATES. */
export function installList(plan: Plan, files: readonly FileEntry[], states: ReadonlyMap<string, string>): Artifact {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const stems = new Map<QubeName, string>([
    ...plan.qubes.map((q) => [q.qube, q.stem] as const),
    ...plan.hosts.map((h) => [h.host, h.stem] as const),
    ...plan.teardowns.map((t) => [t.qube, t.stem] as const),
  ]);
  const setsProvidesNetwork = profileOf(plan.release).salt.prefs === "qvm.prefs";
  const lookups = new Map<QubeName, string[]>();
  for (const q of plan.qubes) {
    const holder = q.host?.qube ?? q.qube;
    lookups.set(holder, [...(lookups.get(holder) ?? []), ...lookupsOf(q, plan.pins)]);
  }
  const lines = [
    `# ${BANNER}`,
    "# Read by install.sh: the facts of plan.json it acts on, one record per line.",
    "#   target QUBE DIGEST LOOKUP...  a qube of the VM phase, the sha256 of the files its apply reads,",
    "#                                 and the addresses (QUBE:ip, QUBE:ip6) its pillar asks qvm-prefs for",
    "#   teardown QUBE                 a target whose state removes what qwire put there",
    "#   netvm QUBE NETVM | provides-network QUBE | create QUBE | firewall QUBE | ipv6 QUBE   what dom0 sets",
    `format ${INSTALL_LIST_FORMAT}`,
    `release ${plan.release}`,
    ...plan.targets.map((t) => {
      const stem = stems.get(t);
      if (stem === undefined) throw new Error(`install list: target ${t} is no qube, host or teardown of the plan`);
      const digest = sha256(sumLines(inputsOf(stem, byPath, states)));
      const needs = [...new Set(lookups.get(t) ?? [])].sort();
      return ["target", t, digest, ...needs].join(" ");
    }),
    ...plan.teardowns.map((t) => `teardown ${t.qube}`),
    // R3.2's dom0 sets the netvm only (provides network is a VM type there, chosen at qvm-create).
    ...plan.prefs.flatMap((p) => [
      ...(p.netvm !== undefined ? [`netvm ${p.qube} ${p.netvm}`] : []),
      ...(p.providesNetwork && setsProvidesNetwork ? [`provides-network ${p.qube}`] : []),
    ]),
    ...plan.creates.map((c) => `create ${c.qube}`),
    ...plan.firewalls.map((f) => `firewall ${f.qube}`),
    ...plan.ipv6Qubes.map((q) => `ipv6 ${q}`),
  ];
  return { path: "install.list", content: `${lines.join("\n")}\n`, mode: 0o644 };
}

/** The bundle digest: the sha256 of plan.json, which covers every other file through SHA256SUMS. */
export function bundleDigest(files: readonly Artifact[]): string {
  const plan = files.find((f) => f.path === "plan.json");
  if (plan === undefined) throw new Error("bundle digest: the bundle has no plan.json");
  return digestOf(plan);
}
