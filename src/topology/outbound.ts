/**
 * A qube's outbound list as dom0 sets it, composed once: the accepts qwire
 * adds so that its links pass the qube's own firewall (Qubes #3644), each
 * once, then the qube's own rules. The R3.2 mapping, the overflow checks and
 * the plan all read this list.
 */
import { ruleString, type FirewallRule, type FirewallSpec, type QubeName } from "../validate/index.js";

export interface OutboundList {
  /** The accepts added for links, each once (the same rule for two links is one rule). */
  readonly added: readonly FirewallRule[];
  /** `added`, then the qube's own rules: the whole list before the policy. */
  readonly rules: readonly FirewallRule[];
}

type OutboundAccepts = readonly { readonly qube: QubeName; readonly rules: readonly FirewallRule[] }[];

export function composeOutbound(
  firewall: readonly FirewallSpec[],
  links: readonly { readonly outboundAccepts: OutboundAccepts }[],
): ReadonlyMap<QubeName, OutboundList> {
  return new Map(
    firewall.map((f) => {
      const seen = new Set<string>();
      const added = links
        .flatMap((l) => l.outboundAccepts.filter((a) => a.qube === f.qube).flatMap((a) => a.rules))
        .filter((r) => !seen.has(ruleString(r)) && seen.add(ruleString(r)) !== undefined);
      return [f.qube, { added, rules: [...added, ...f.rules] }] as const;
    }),
  );
}
