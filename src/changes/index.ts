/**
 * What a new build changes against the bundle applied now (`qwire plan`):
 * per qube the intents added, removed and changed (in the plan's words),
 * the qubes that get a teardown, the qubes install.sh will target (those
 * whose files moved, by install.list's digests) and dom0's changes. Pure:
 * it compares the two bundles' plan.json and install.list, as data.
 */
import type { IntentDecision } from "../plan/index.js";
import { sentence } from "../render/words.js";

/** The two files of a bundle this module reads; `planJson` parsed, `installList` as text (absent before qwire wrote it). */
export interface BundleFacts {
  readonly planJson: unknown;
  readonly installList?: string;
}

export interface QubeChanges {
  readonly qube: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly { readonly before: string; readonly after: string }[];
}

export interface Target {
  readonly qube: string;
  readonly why: string;
}

export interface ChangeReport {
  /** False only when nothing at all differs (then install.sh targets no qube and dom0 changes nothing). */
  readonly changed: boolean;
  readonly qubes: readonly QubeChanges[];
  readonly teardowns: readonly string[];
  /** The qubes install.sh will target when dom0's addresses are as at the last apply. */
  readonly targets: readonly Target[];
  /** How many qubes the bundle can target in all. */
  readonly targetable: number;
  readonly dom0: readonly string[];
  /** Why the comparison is coarser than usual (no previous bundle, an older format). */
  readonly notes: readonly string[];
}

interface PlanDoc {
  readonly format?: unknown;
  readonly release?: unknown;
  readonly qubes?: readonly { readonly name?: unknown; readonly intents?: unknown }[];
  readonly teardowns?: readonly unknown[];
  readonly dom0?: {
    readonly prefs?: readonly {
      readonly qube?: unknown;
      readonly netvm?: unknown;
      readonly followsDefault?: unknown;
      readonly providesNetwork?: unknown;
      readonly ip?: unknown;
      readonly templateForDispvms?: unknown;
      readonly noNetvm?: unknown;
    }[];
    readonly creates?: readonly {
      readonly qube?: unknown;
      readonly class?: unknown;
      readonly template?: unknown;
      readonly label?: unknown;
    }[];
    readonly firewalls?: readonly { readonly qube?: unknown; readonly rules?: unknown }[];
    readonly qrexecPolicy?: readonly { readonly port?: unknown; readonly from?: unknown; readonly to?: unknown }[];
  };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/**
 * One qube's intent lines in words: format 1 kept sentences, format 2 keeps
 * typed decisions, which the words module (the one place sentences are
 * written) turns into the same kind of line. An entry of neither shape is
 * left out rather than guessed.
 */
function lines(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((x: unknown) => {
    if (typeof x === "string") return [x];
    if (typeof x === "object" && x !== null && "kind" in x && "intent" in x) {
      try {
        return [sentence(x as IntentDecision)];
      } catch {
        return [];
      }
    }
    return [];
  });
}

/** Intent lines by qube. */
function intents(doc: PlanDoc): Map<string, string[]> {
  return new Map(
    (doc.qubes ?? []).filter((q) => typeof q.name === "string").map((q) => [q.name as string, lines(q.intents)]),
  );
}

/** "forward web-https: tcp 443 ..." -> "forward web-https": the kind and name of the intent a line is about. */
function intentKey(line: string): string {
  const colon = line.indexOf(": ");
  return colon < 0 ? line : line.slice(0, colon);
}

function compareQube(qube: string, before: readonly string[], after: readonly string[]): QubeChanges {
  const beforeSet = new Set(before);
  const afterSet = new Set(after);
  const gone = before.filter((l) => !afterSet.has(l));
  const come = after.filter((l) => !beforeSet.has(l));
  const changed: { before: string; after: string }[] = [];
  const removed: string[] = [];
  const paired = new Set<string>();
  for (const b of gone) {
    const a = come.find((x) => !paired.has(x) && intentKey(x) === intentKey(b));
    if (a !== undefined) {
      paired.add(a);
      changed.push({ before: b, after: a });
    } else removed.push(b);
  }
  return { qube, added: come.filter((a) => !paired.has(a)), removed, changed };
}

/** target lines of an install.list: qube -> digest. */
function targetDigests(list: string): Map<string, string> {
  return new Map(
    list
      .split("\n")
      .filter((l) => l.startsWith("target "))
      .map((l) => {
        const [, qube = "", digest = ""] = l.split(" ");
        return [qube, digest] as const;
      }),
  );
}

function dom0Changes(before: PlanDoc, after: PlanDoc): string[] {
  const lines: string[] = [];
  // Qubes dom0 creates when missing: it never deletes one, so a create dropped from qwire.yaml leaves the qube.
  const word = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const creates = (d: PlanDoc) =>
    new Map(
      (d.dom0?.creates ?? []).map((c) => [
        word(c.qube),
        `${word(c.class)} from ${word(c.template)}, label ${word(c.label)}`,
      ]),
    );
  const [cb, ca] = [creates(before), creates(after)];
  for (const qube of [...new Set([...cb.keys(), ...ca.keys()])].sort()) {
    const b = cb.get(qube);
    const a = ca.get(qube);
    if (b === undefined) lines.push(`creates ${qube} when it is missing (${a!})`);
    else if (a === undefined) lines.push(`no longer creates ${qube} (an existing ${qube} stays)`);
    else if (a !== b)
      lines.push(`creates ${qube} when it is missing as ${a} (was ${b}; an existing ${qube} is not changed)`);
  }
  const prefs = (d: PlanDoc) => new Map((d.dom0?.prefs ?? []).map((p) => [String(p.qube), p]));
  const [pb, pa] = [prefs(before), prefs(after)];
  for (const qube of [...new Set([...pb.keys(), ...pa.keys()])].sort()) {
    const b = pb.get(qube);
    const a = pa.get(qube);
    const show = (v: unknown) => (v === undefined ? "not set by qwire" : typeof v === "string" ? v : JSON.stringify(v));
    const netvm = (p: typeof b) =>
      p?.noNetvm === true
        ? "none"
        : p?.netvm === undefined
          ? undefined
          : p.followsDefault === true
            ? `the default (${show(p.netvm)})`
            : show(p.netvm);
    if (netvm(b) !== netvm(a)) lines.push(`netvm of ${qube}: ${show(netvm(b))} -> ${show(netvm(a))}`);
    if (b?.providesNetwork !== a?.providesNetwork)
      lines.push(`provides_network of ${qube}: ${show(b?.providesNetwork)} -> ${show(a?.providesNetwork)}`);
    if (String(b?.ip) !== String(a?.ip)) lines.push(`pinned ip of ${qube}: ${show(b?.ip)} -> ${show(a?.ip)}`);
    if (b?.templateForDispvms !== a?.templateForDispvms)
      lines.push(`template_for_dispvms of ${qube}: ${show(b?.templateForDispvms)} -> ${show(a?.templateForDispvms)}`);
  }
  const firewalls = (d: PlanDoc) => new Map((d.dom0?.firewalls ?? []).map((f) => [String(f.qube), strings(f.rules)]));
  const [fb, fa] = [firewalls(before), firewalls(after)];
  for (const qube of [...new Set([...fb.keys(), ...fa.keys()])].sort()) {
    const b = fb.get(qube);
    const a = fa.get(qube);
    if (b === undefined) lines.push(`outbound list of ${qube}: set by qwire from now on (${a!.length} rules)`);
    else if (a === undefined)
      lines.push(`outbound list of ${qube}: no longer set by qwire (the last one stays until you reset it)`);
    else if (b.join("\n") !== a.join("\n")) {
      const added = a.filter((r) => !b.includes(r));
      const removed = b.filter((r) => !a.includes(r));
      lines.push(
        `outbound list of ${qube}: ${b.length} -> ${a.length} rules${added.length > 0 ? `; added ${added.join("; ")}` : ""}${removed.length > 0 ? `; removed ${removed.join("; ")}` : ""}${added.length === 0 && removed.length === 0 ? "; reordered" : ""}`,
      );
    }
  }
  const policy = (d: PlanDoc) =>
    (d.dom0?.qrexecPolicy ?? []).map(
      (l) => `qubes.ConnectTCP +${String(l.port)} ${String(l.from)} @default allow target=${String(l.to)}`,
    );
  const [qb, qa] = [policy(before), policy(after)];
  for (const l of qa.filter((x) => !qb.includes(x))) lines.push(`qrexec policy: + ${l}`);
  for (const l of qb.filter((x) => !qa.includes(x))) lines.push(`qrexec policy: - ${l}`);
  return lines;
}

export function compareBundles(previous: BundleFacts | undefined, next: BundleFacts): ChangeReport {
  const after = next.planJson as PlanDoc;
  const afterTargets = targetDigests(next.installList ?? "");
  const notes: string[] = [];
  const before: PlanDoc = (previous?.planJson as PlanDoc | undefined) ?? {};
  if (previous === undefined) notes.push("no previous bundle: everything is new, and install.sh targets every qube");
  else if (before.format !== after.format)
    notes.push(
      `the previous plan.json is of format ${String(before.format)}, this one of format ${String(after.format)}: intents are compared as far as both say them`,
    );
  if (previous !== undefined && previous.installList === undefined)
    notes.push("the previous bundle has no install.list (an older qwire): install.sh targets every qube once");
  if (previous !== undefined && before.release !== after.release)
    notes.push(`release ${String(before.release)} -> ${String(after.release)}`);

  const ib = intents(before);
  const ia = intents(after);
  const qubes = [...new Set([...ib.keys(), ...ia.keys()])]
    .sort()
    .map((q) => compareQube(q, ib.get(q) ?? [], ia.get(q) ?? []))
    .filter((c) => c.added.length + c.removed.length + c.changed.length > 0);
  const beforeTargets = targetDigests(previous?.installList ?? "");
  const teardowns = strings(after.teardowns);
  const targets: Target[] = [...afterTargets.entries()]
    .filter(([q, d]) => beforeTargets.get(q) !== d)
    .map(([qube]) => ({
      qube,
      why: !beforeTargets.has(qube)
        ? previous?.installList === undefined
          ? "no earlier install.list to compare with"
          : "new in this bundle"
        : teardowns.includes(qube)
          ? "it no longer carries qwire rules: teardown"
          : "its files in the bundle changed",
    }));
  const dom0 = dom0Changes(before, after);
  const changed =
    previous === undefined ||
    qubes.length > 0 ||
    targets.length > 0 ||
    dom0.length > 0 ||
    before.release !== after.release;
  return { changed, qubes, teardowns, targets, targetable: afterTargets.size, dom0, notes };
}
