/**
 * IPv4 for the model: CIDR membership, and picking client addresses inside
 * and outside the networks an intent allows. The arithmetic is
 * src/addresses/ipv4.ts.
 */
import { ipv4Network, ipv4Octets, ipv4Size, ipv4Text, octetsNumber } from "../../addresses/ipv4.js";

export function toInt(address: string): number {
  const octets = ipv4Octets(address);
  if (octets === undefined) throw new Error(`not an IPv4 address: ${address}`);
  return octetsNumber(octets);
}

export const toText = ipv4Text;

export interface Network {
  readonly base: number;
  readonly bits: number;
}

export function parseCidr(text: string): Network {
  const [address, bits = "32"] = text.split("/");
  const b = Number(bits);
  return { base: ipv4Network(toInt(address!), b), bits: b };
}

export function contains(net: Network, address: string): boolean {
  return ipv4Network(toInt(address), net.bits) === net.base;
}

/** Networks the model itself uses; client addresses avoid them. */
export const RESERVED: readonly Network[] = [
  "10.137.0.0/16",
  "10.138.0.0/16",
  "10.139.0.0/16",
  "198.18.0.0/15",
  "127.0.0.0/8",
  "0.0.0.0/8",
  "224.0.0.0/3",
].map(parseCidr);

function usable(address: string, taken: ReadonlySet<string>): boolean {
  return !taken.has(address) && !RESERVED.some((r) => contains(r, address));
}

/** A host address inside `net`, not taken; .50 of a /24 when it can. */
export function pickInside(net: Network, taken: ReadonlySet<string>): string | undefined {
  const size = ipv4Size(Math.min(net.bits, 32));
  if (size === 1) return toText(net.base);
  if (size === 2) return [net.base, net.base + 1].map(toText).find((a) => !taken.has(a));
  const start = size > 64 ? 50 : 1;
  for (let i = start; i < Math.min(size - 1, start + 4096); i++) {
    const a = toText(net.base + i);
    if (usable(a, taken)) return a;
  }
  for (let i = 1; i < Math.min(size - 1, 4096); i++) {
    const a = toText(net.base + i);
    if (!taken.has(a)) return a;
  }
  return undefined;
}

const OUTSIDE_CANDIDATES = [
  "10.9.9.9",
  "203.0.113.9",
  "198.51.100.9",
  "192.0.2.9",
  "172.31.255.9",
  "100.64.0.9",
  "192.168.254.9",
  "8.8.4.9",
];

/** A host address in none of `nets`, not taken; undefined when they cover everything usable. */
export function pickOutside(nets: readonly Network[], taken: ReadonlySet<string>): string | undefined {
  for (const a of OUTSIDE_CANDIDATES) if (usable(a, taken) && !nets.some((n) => contains(n, a))) return a;
  return undefined;
}
