/**
 * IPv4 arithmetic, in one place: the validator's grammar reads addresses
 * with it (validate/values.ts), the plan and topology compare networks with
 * it, and the simulator's model computes its addresses with it. Addresses
 * are plain numbers 0..2^32-1 (no bit operators on the top bit: no signs).
 */

/** An inclusive interval of numbers: a network's first and last address, or a port range. */
export type Interval = readonly [first: number, last: number];

/** The four octets of a dotted address, or undefined; no leading zeros ("010" is octal to some tools and decimal to others). */
export function ipv4Octets(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    octets.push(n);
  }
  return octets;
}

export function octetsNumber(octets: readonly number[]): number {
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

/** The number of a dotted address that is known to be well formed (canonical text from the validator). */
export function ipv4Number(address: string): number {
  return octetsNumber(address.split(".").map(Number));
}

export function ipv4Text(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** How many addresses a prefix covers. */
export function ipv4Size(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** The network an address falls in under `prefix` (host bits cleared). */
export function ipv4Network(n: number, prefix: number): number {
  const size = ipv4Size(prefix);
  return Math.floor(n / size) * size;
}

/** The range of "a.b.c.d/len" (or a bare address: one host); host bits are ignored. */
export function ipv4Range(cidr: string): Interval {
  const [addr = "", prefix = "32"] = cidr.split("/");
  const start = ipv4Network(ipv4Number(addr), Number(prefix));
  return [start, start + ipv4Size(Number(prefix)) - 1];
}

export function rangesOverlap(a: Interval, b: Interval): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

export function rangeContains(outer: Interval, inner: Interval): boolean {
  return outer[0] <= inner[0] && inner[1] <= outer[1];
}

/** Networks in address order, a shorter prefix first on the same address. */
export function compareIpv4Cidr(a: string, b: string): number {
  const key = (t: string) => {
    const [addr = "", len = "0"] = t.split("/");
    return ipv4Number(addr) * 64 + Number(len);
  };
  return key(a) - key(b);
}
