/**
 * The netvm graph: who routes for whom. Built from the declared qubes only;
 * undeclared references are reported by refs.ts before anything walks the graph.
 */
import type { FirewallSpec, IntentSpec, QubeName, QubeSpec } from "../validate/index.js";

export class NetvmGraph {
  readonly #qubes: ReadonlyMap<QubeName, QubeSpec>;
  readonly #firewalls: ReadonlyMap<QubeName, FirewallSpec>;

  constructor(spec: IntentSpec) {
    this.#qubes = new Map(spec.qubes.map((q) => [q.name, q]));
    this.#firewalls = new Map(spec.firewall.map((f) => [f.qube, f]));
  }

  /** The qube's outbound policy, when qwire.yaml gives one. */
  firewall(name: QubeName): FirewallSpec | undefined {
    return this.#firewalls.get(name);
  }

  get(name: QubeName): QubeSpec | undefined {
    return this.#qubes.get(name);
  }

  has(name: string): boolean {
    return this.#qubes.has(name as QubeName);
  }

  names(): QubeName[] {
    return [...this.#qubes.keys()];
  }

  /**
   * The qube and its netvms, upward: [web, sys-firewall, sys-net].
   * Stops at an undeclared netvm or at a qube seen before (a cycle).
   */
  upstream(name: QubeName): QubeName[] {
    const chain: QubeName[] = [];
    let at: QubeName | undefined = name;
    while (at !== undefined && this.#qubes.has(at) && !chain.includes(at)) {
      chain.push(at);
      at = this.#qubes.get(at)?.netvm;
    }
    return chain;
  }

  /** Every cycle in the netvm graph, each listed once starting at its smallest name. */
  cycles(): QubeName[][] {
    const found = new Map<string, QubeName[]>();
    for (const start of this.#qubes.keys()) {
      const seen: QubeName[] = [];
      let at: QubeName | undefined = start;
      while (at !== undefined && this.#qubes.has(at)) {
        const i = seen.indexOf(at);
        if (i !== -1) {
          const cycle = seen.slice(i);
          const first = cycle.reduce((m, q) => (q < m ? q : m));
          const k = cycle.indexOf(first);
          const canonical = [...cycle.slice(k), ...cycle.slice(0, k)];
          found.set(canonical.join(" "), canonical);
          break;
        }
        seen.push(at);
        at = this.#qubes.get(at)?.netvm;
      }
    }
    return [...found.values()].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  }
}
