/**
 * The per-qube drafts the planners write into, and how a draft becomes a
 * qube's sorted rules. Each planner (forwards, links, qrexec, outbound) adds
 * what its intents need to the qubes they touch; plan() merges the drafts.
 */
import { mergeRanges, type IntentName, type PortRange, type Proto, type QubeName } from "../validate/index.js";
import type { IntentDecision } from "./decisions.js";
import type { FamilyRules, ForwardHop, ForwardInput, LinkInput, LinkPass, QrexecConnect, Traffic } from "./plan.js";

/** The rules of one address family in one qube, as they are collected. */
export interface FamilyDraft {
  readonly forwardHops: ForwardHop[];
  readonly forwardInputs: ForwardInput[];
  readonly passes: Map<string, { from: QubeName; to: QubeName; intents: IntentName[]; traffic: Traffic[] }>;
  readonly inputs: Map<QubeName, { intents: IntentName[]; traffic: Traffic[] }>;
}

export interface Draft {
  readonly v4: FamilyDraft;
  readonly v6: FamilyDraft;
  readonly connects: QrexecConnect[];
  /** In the order the planners decided them: forwards, links, qrexec, outbound. */
  readonly decisions: IntentDecision[];
}

/** The qubes that carry something: a qube gets a draft when a planner first gives it a rule or a decision. */
export class Drafts {
  readonly #drafts = new Map<QubeName, Draft>();

  of(q: QubeName): Draft {
    let d = this.#drafts.get(q);
    if (!d) {
      d = { v4: emptyFamily(), v6: emptyFamily(), connects: [], decisions: [] };
      this.#drafts.set(q, d);
    }
    return d;
  }

  /** Sorted by qube. */
  sorted(): [QubeName, Draft][] {
    return [...this.#drafts.entries()].sort(([a], [b]) => compare(a, b));
  }
}

const emptyFamily = (): FamilyDraft => ({ forwardHops: [], forwardInputs: [], passes: new Map(), inputs: new Map() });

/** Sorted, merged rules of one family, and the qube addresses they need. */
export function familyRules(d: FamilyDraft): FamilyRules & { hasRules: boolean } {
  const linkPasses: LinkPass[] = [...d.passes.values()]
    .map((p) => ({ from: p.from, to: p.to, intents: unique(p.intents), traffic: normalizeTraffic(p.traffic) }))
    .sort((a, b) => compare(a.from, b.from) || compare(a.to, b.to));
  const linkInputs: LinkInput[] = [...d.inputs.entries()]
    .map(([from, p]) => ({ from, intents: unique(p.intents), traffic: normalizeTraffic(p.traffic) }))
    .sort((a, b) => compare(a.from, b.from));
  const addresses = unique([
    ...d.forwardHops.map((h) => h.next),
    ...linkPasses.flatMap((p) => [p.from, p.to]),
    ...linkInputs.map((i) => i.from),
  ]).sort(compare);
  return {
    forwardHops: d.forwardHops,
    forwardInputs: d.forwardInputs,
    linkPasses,
    linkInputs,
    addresses,
    hasRules: d.forwardHops.length + d.forwardInputs.length + linkPasses.length + linkInputs.length > 0,
  };
}

/**
 * One entry per protocol with disjoint, sorted port ranges ("all" absorbs
 * the rest): an nft interval set refuses overlapping elements.
 */
function normalizeTraffic(traffic: readonly Traffic[]): Traffic[] {
  if (traffic.some((t) => t.kind === "all")) return [{ kind: "all" }];
  const byProto = new Map<Proto, PortRange[]>();
  for (const t of traffic) if (t.kind === "ports") byProto.set(t.proto, [...(byProto.get(t.proto) ?? []), ...t.ports]);
  return [...byProto.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([proto, ports]) => ({ kind: "ports", proto, ports: mergeRanges(ports) }));
}

export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** Code-point order: the same on every machine, whatever the locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
