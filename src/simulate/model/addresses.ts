/**
 * Addresses and Xen domain ids the model hands out, as qubesd would:
 * a qube gets 10.137.0.N (N from its qid; pinned addresses are kept), and a
 * fresh domid, hence a fresh vif name in its netvm, every time it starts.
 * Outside networks (one per entry interface) get 198.18.K.1 as the entry
 * qube's address on that interface.
 */
import { contains, parseCidr } from "./ipv4.js";

/** Where qubesd puts qube addresses (ADMIN qubes/vm/mix/net.py). */
const QUBES_QUBES = parseCidr("10.137.0.0/16");

export class AddressBook {
  #nextHost = 2;
  #nextDomid = 1;
  readonly #used = new Set<string>();

  constructor(pinned: Iterable<string>) {
    for (const ip of pinned) this.#used.add(ip);
  }

  /** The next free 10.137.0.N (N grows; a recreated qube never gets its old address back). */
  qubeAddress(): string {
    for (;;) {
      const host = this.#nextHost++;
      if (host > 254) throw new Error("the model ran out of 10.137.0.N addresses");
      const ip = `10.137.0.${host}`;
      if (!this.#used.has(ip)) {
        this.#used.add(ip);
        return ip;
      }
    }
  }

  domid(): number {
    return this.#nextDomid++;
  }

  static lanGateway(index: number): string {
    return `198.18.${index}.1`;
  }

  static isQubeAddress(ip: string): boolean {
    return contains(QUBES_QUBES, ip);
  }
}
