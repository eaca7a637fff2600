/**
 * Outbound policies past qubesd's ~900 rules (Qubes issue #4228, R4.2/R4.3):
 * dom0 sets the first 899 rules and then `action=accept`, and the qube's
 * netvm enforces the whole ordered list in table ip qubes (reference
 * qubes-networking.md §1.3: a forwarded packet must pass both the
 * qubes-firewall table and table ip qubes, so the two lists together decide
 * exactly what the whole list decides).
 *
 * Here the list becomes the steps of the netvm's chain: consecutive rules of
 * the same action are grouped into set lookups, so a new connection costs a
 * handful of lookups, not a walk down 10,000 rules. nft refuses overlapping
 * elements in an interval set, so an element that overlaps one already in
 * the current set starts a new set (same action, so the order inside a group
 * does not matter), and an element the current set already covers is left
 * out (a duplicate rule would otherwise cost a set of its own).
 */
import { ipv4Range, rangeContains, rangesOverlap, type Interval } from "../addresses/ipv4.js";
import type { FirewallRule, QubeName } from "../validate/index.js";

export type OverflowVerdict = "accept" | "drop";

/** One element of `ip daddr . meta l4proto . th dport`: network, tcp|udp, port range (0-65535 = any). */
export interface PortElement {
  readonly net: string;
  readonly proto: "tcp" | "udp";
  readonly first: number;
  readonly last: number;
}

export type OverflowStep =
  | {
      readonly kind: "ports";
      readonly set: string;
      readonly verdict: OverflowVerdict;
      readonly elements: readonly PortElement[];
    }
  | {
      readonly kind: "nets";
      readonly set: string;
      readonly verdict: OverflowVerdict;
      readonly elements: readonly string[];
    }
  | { readonly kind: "icmp"; readonly verdict: OverflowVerdict; readonly net: string; readonly icmptype: number | null }
  | { readonly kind: "dns"; readonly verdict: OverflowVerdict; readonly protos: readonly ("tcp" | "udp")[] };

export interface OverflowChain {
  /** The qube whose outbound list this is. */
  readonly qube: QubeName;
  /** Chain name in the netvm: qwire-out-<n>; its sets are qwire-out-<n>-<k>. */
  readonly chain: string;
  readonly rules: number;
  readonly steps: readonly OverflowStep[];
  readonly policy: OverflowVerdict;
}

const ANY4 = "0.0.0.0/0";

/** The netvm chain for one qube's whole list (IPv4 networks, no host names: the validator refuses the rest). */
export function overflowChain(
  qube: QubeName,
  index: number,
  rules: readonly FirewallRule[],
  policy: OverflowVerdict,
): OverflowChain {
  const chain = `qwire-out-${index}`;
  const steps: OverflowStep[] = [];
  let sets = 0;
  // The open sets of the current group (same action), with what they hold for the overlap check.
  let ports:
    | {
        step: { kind: "ports"; set: string; verdict: OverflowVerdict; elements: PortElement[] };
        spans: [Interval, string, Interval][];
      }
    | undefined;
  let nets:
    | { step: { kind: "nets"; set: string; verdict: OverflowVerdict; elements: string[] }; spans: Interval[] }
    | undefined;
  let action: OverflowVerdict | undefined;
  for (const r of rules) {
    if (r.action !== action) {
      action = r.action;
      ports = undefined;
      nets = undefined;
    }
    const net = r.dsthost === undefined ? ANY4 : r.dsthost.text;
    if (r.specialtarget === "dns") {
      steps.push({
        kind: "dns",
        verdict: r.action,
        protos: r.proto === "tcp" || r.proto === "udp" ? [r.proto] : ["tcp", "udp"],
      });
    } else if (r.proto === "icmp") {
      steps.push({ kind: "icmp", verdict: r.action, net, icmptype: r.icmptype ?? null });
    } else if (r.proto === "tcp" || r.proto === "udp") {
      const span = ipv4Range(net);
      const element = { net, proto: r.proto, first: r.dstports?.first ?? 0, last: r.dstports?.last ?? 65535 };
      const pspan: [number, number] = [element.first, element.last];
      // Already covered by an element of this group's set (same action): nothing to add.
      if (ports?.spans.some(([s, p, q]) => p === r.proto && rangeContains(s, span) && rangeContains(q, pspan)))
        continue;
      if (
        ports === undefined ||
        ports.spans.some(([s, p, q]) => p === r.proto && rangesOverlap(s, span) && rangesOverlap(q, pspan))
      ) {
        ports = { step: { kind: "ports", set: `${chain}-${++sets}`, verdict: r.action, elements: [] }, spans: [] };
        steps.push(ports.step);
      }
      ports.step.elements.push(element);
      ports.spans.push([span, r.proto, pspan]);
    } else {
      const span = ipv4Range(net);
      if (nets?.spans.some((s) => rangeContains(s, span))) continue;
      if (nets === undefined || nets.spans.some((s) => rangesOverlap(s, span))) {
        nets = { step: { kind: "nets", set: `${chain}-${++sets}`, verdict: r.action, elements: [] }, spans: [] };
        steps.push(nets.step);
      }
      nets.step.elements.push(net);
      nets.spans.push(span);
    }
  }
  return { qube, chain, rules: rules.length, steps, policy };
}
