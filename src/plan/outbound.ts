/**
 * The outbound planner: each qube's list as dom0 sets it, and where a list
 * past the release's limit is enforced instead (R3.2: in the qube; R4.2/R4.3:
 * in its netvm, Qubes #4228).
 */
import type { ReleaseProfile } from "../release/index.js";
import { overflows, overflowsQubesd, r32FirewallOf, type Topology } from "../topology/index.js";
import { MAX_FIREWALL_RULES, ruleString, type QubeName, type R32Firewall } from "../validate/index.js";
import { compare, type Drafts } from "./drafts.js";
import { overflowChain, type OverflowChain } from "./overflow.js";
import type { OutboundPolicy } from "./plan.js";

export interface OutboundPlan {
  readonly firewalls: OutboundPolicy[];
  /** R3.2: lists a qube enforces itself, by qube. */
  readonly inQube: ReadonlyMap<QubeName, R32Firewall>;
  /** R4.2/R4.3: the chains a netvm holds for its downstream qubes, by netvm. */
  readonly netvmChains: ReadonlyMap<QubeName, readonly OverflowChain[]>;
}

export function planOutbound(topology: Topology, profile: ReleaseProfile, drafts: Drafts): OutboundPlan {
  const { spec, graph } = topology;
  const listOf = (q: QubeName) => topology.outbound.get(q)!;

  // R3.2: qvm-firewall's policy + exceptions; past the 3 kB budget the qube holds the list.
  const r32 = new Map<QubeName, { fw: R32Firewall; inQube: boolean }>();
  if (profile.outbound.model === "exceptions") {
    for (const f of spec.firewall) {
      const fw = r32FirewallOf(f, listOf(f.qube));
      const inQube = overflows(fw);
      r32.set(f.qube, { fw, inQube });
      if (inQube)
        drafts.of(f.qube).decisions.push({
          kind: "outbound-in-qube",
          exceptions: fw.exceptions.length,
          list: fw.policy === "deny" ? "allow-list" : "deny-list",
        });
    }
  }

  // R4.2/R4.3 past qubesd's limit (Qubes #4228): the netvm enforces the whole list.
  const overflowLists = new Map<QubeName, { netvm: QubeName; rules: number }>();
  const netvmChains = new Map<QubeName, OverflowChain[]>();
  if (profile.outbound.overflow === "netvm") {
    for (const f of [...spec.firewall].sort((a, b) => compare(a.qube, b.qube))) {
      const rules = listOf(f.qube).rules;
      const netvm = graph.get(f.qube)?.netvm;
      if (!overflowsQubesd(rules) || netvm === undefined) continue;
      const chains = netvmChains.get(netvm) ?? [];
      const chain = overflowChain(f.qube, chains.length + 1, rules, f.policy);
      chains.push(chain);
      netvmChains.set(netvm, chains);
      overflowLists.set(f.qube, { netvm, rules: rules.length });
      drafts.of(netvm).decisions.push({
        kind: "outbound-for-downstream",
        qube: f.qube,
        rules: rules.length,
        chain: chain.chain,
        steps: chain.steps.length,
        policy: f.policy,
      });
    }
  }

  const firewalls: OutboundPolicy[] = spec.firewall.map((f) => {
    const added = listOf(f.qube).added.map(ruleString);
    const own = f.rules.map(ruleString);
    const legacy = r32.get(f.qube);
    const set = legacy?.inQube ? { ...legacy.fw, policy: "allow" as const, exceptions: [] } : legacy?.fw;
    const overflow = overflowLists.get(f.qube);
    if (overflow !== undefined) {
      // qubes-firewall decides only what its first rules decide; the netvm's chain decides the rest (a packet must pass both).
      return {
        qube: f.qube,
        rules: [...[...added, ...own].slice(0, MAX_FIREWALL_RULES - 1), "action=accept"],
        addedForLinks: added.length,
        overflow,
      };
    }
    return {
      qube: f.qube,
      rules: [...added, ...own, `action=${f.policy}`],
      addedForLinks: added.length,
      ...(legacy === undefined || set === undefined ? {} : { r32: { set, inQube: legacy.inQube } }),
    };
  });

  const inQube = new Map([...r32].filter(([, v]) => v.inQube).map(([q, v]) => [q, v.fw] as const));
  return { firewalls, inQube, netvmChains };
}
