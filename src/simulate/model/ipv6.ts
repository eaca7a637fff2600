/**
 * IPv6 arithmetic for the model (BigInt): parsing, CIDR membership, the
 * Qubes address of a qube, and picking client addresses inside and outside
 * the IPv6 networks a forward allows. Text is RFC 5952 (what nft and
 * qwire's validator print); the arithmetic is src/addresses/ipv6.ts.
 */
import { ipv4Number } from "../../addresses/ipv4.js";
import { ipv6Big, ipv6FromBig, ipv6Groups, ipv6Text } from "../../addresses/ipv6.js";

export function toBig(address: string): bigint {
  const groups = ipv6Groups(address);
  if (groups === undefined) throw new Error(`not an IPv6 address: ${address}`);
  return ipv6Big(groups);
}

export function toText(n: bigint): string {
  return ipv6Text(ipv6FromBig(n));
}

export interface Network6 {
  readonly base: bigint;
  readonly bits: number;
}

const ALL = (1n << 128n) - 1n;

function mask(bits: number): bigint {
  return bits === 0 ? 0n : (ALL << BigInt(128 - bits)) & ALL;
}

export function parseCidr6(text: string): Network6 {
  const [address, bits = "128"] = text.split("/");
  const b = Number(bits);
  return { base: toBig(address!) & mask(b), bits: b };
}

export function contains6(net: Network6, address: string): boolean {
  return (toBig(address) & mask(net.bits)) === net.base;
}

/**
 * A qube's IPv6 address as qubesd gives it (qubes/vm/mix/net.py): the
 * Qubes prefix fd09:24ef:4179::/64 with the IPv4 address as the last 32 bits.
 */
export function qubeAddress6(ipv4: string): string {
  return toText((0xfd0924ef4179n << 80n) | BigInt(ipv4Number(ipv4)));
}

/** Networks the model itself uses; IPv6 client addresses avoid them. */
const RESERVED6: readonly Network6[] = ["fd09:24ef:4179::/48", "2001:2::/48", "fe80::/10", "ff00::/8", "::/8"].map(
  parseCidr6,
);

function usable(address: string, taken: ReadonlySet<string>): boolean {
  return !taken.has(address) && !RESERVED6.some((r) => contains6(r, address));
}

/** A host address inside `net`, not taken: base + 0x50 when the network is big enough. */
export function pickInside6(net: Network6, taken: ReadonlySet<string>): string | undefined {
  if (net.bits >= 127) return usable(toText(net.base), taken) ? toText(net.base) : undefined;
  for (const offset of [0x50n, 0x51n, 0x52n, 1n, 2n]) {
    if (net.bits > 121 && offset >= 1n << BigInt(128 - net.bits)) continue;
    const a = toText(net.base + offset);
    if (usable(a, taken)) return a;
  }
  return undefined;
}

const OUTSIDE6 = ["2001:db8:ffff::9", "fd7f:ffff::9", "2001:db8:7777::9", "3fff:ffff::9", "fc00:9::9"];

/** A host address in none of `nets`, not taken; undefined when they cover every candidate. */
export function pickOutside6(nets: readonly Network6[], taken: ReadonlySet<string>): string | undefined {
  return OUTSIDE6.find((a) => usable(a, taken) && !nets.some((n) => contains6(n, a)));
}

/** The entry qube's own IPv6 address on outside network K (the benchmarking prefix 2001:2::/48, RFC 5180). */
export function lanGateway6(index: number): string {
  return `2001:2:0:${index.toString(16)}::1`;
}
