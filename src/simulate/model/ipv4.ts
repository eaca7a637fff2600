/**
 * IPv4 arithmetic for the model: parsing, CIDR membership, and picking
 * client addresses inside and outside the networks an intent allows.
 */

export function toInt(address: string): number {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function toText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Network {
  readonly base: number;
  readonly bits: number;
}

export function parseCidr(text: string): Network {
  const [address, bits = "32"] = text.split("/");
  const b = Number(bits);
  const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  return { base: (toInt(address!) & mask) >>> 0, bits: b };
}

export function contains(net: Network, address: string): boolean {
  const mask = net.bits === 0 ? 0 : (0xffffffff << (32 - net.bits)) >>> 0;
  return ((toInt(address) & mask) >>> 0) === net.base;
}

/** Networks the model itself uses; client addresses avoid them. */
export const RESERVED: readonly Network[] = ["10.137.0.0/16", "10.138.0.0/16", "10.139.0.0/16", "198.18.0.0/15", "127.0.0.0/8", "0.0.0.0/8", "224.0.0.0/3"].map(parseCidr);

function usable(address: string, taken: ReadonlySet<string>): boolean {
  return !taken.has(address) && !RESERVED.some((r) => contains(r, address));
}

/** A host address inside `net`, not taken; .50 of a /24 when it can. */
export function pickInside(net: Network, taken: ReadonlySet<string>): string | undefined {
  const size = net.bits >= 32 ? 1 : 2 ** (32 - net.bits);
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

const OUTSIDE_CANDIDATES = ["10.9.9.9", "203.0.113.9", "198.51.100.9", "192.0.2.9", "172.31.255.9", "100.64.0.9", "192.168.254.9", "8.8.4.9"];

/** A host address in none of `nets`, not taken; undefined when they cover everything usable. */
export function pickOutside(nets: readonly Network[], taken: ReadonlySet<string>): string | undefined {
  for (const a of OUTSIDE_CANDIDATES) if (usable(a, taken) && !nets.some((n) => contains(n, a))) return a;
  return undefined;
}
