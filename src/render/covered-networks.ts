/**
 * nft refuses an element of an interval set that overlaps one already in it
 * ("conflicting intervals"), and the forward maps hold one element per
 * source network. Two sources of one forward overlap only when one contains
 * the other (networks are aligned), so the contained one adds nothing and is
 * left out. Same family only; canonical text as the validator writes it.
 */
import type { Cidr } from "../plan/index.js";

/** The first and last address of a network, as integers of its family's width. */
function bounds(c: Cidr): [bigint, bigint] {
  const [addr = "", prefix = "0"] = c.text.split("/");
  const width = c.family === 4 ? 32n : 128n;
  const value = c.family === 4 ? addr.split(".").reduce((n, o) => n * 256n + BigInt(o), 0n) : ipv6Value(addr);
  const size = 1n << (width - BigInt(prefix));
  const first = value - (value % size);
  return [first, first + size - 1n];
}

function ipv6Value(addr: string): bigint {
  const [head = "", tail] = addr.split("::");
  const words = (s: string) => (s === "" ? [] : s.split(":"));
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return all.reduce((n, w) => (n << 16n) + BigInt(parseInt(w, 16)), 0n);
}

/**
 * The networks no other one of the list contains, in their order (of equal
 * ones, the first). Sorted by start, larger first, then by position, a
 * network is covered exactly when one before it (same family) ends at or
 * after its end, as aligned networks nest or are apart: one sweep, not a
 * comparison of every pair (100,000 sources took ten minutes).
 */
export function withoutCovered(networks: readonly Cidr[]): Cidr[] {
  if (networks.length < 2) return [...networks];
  const items = networks.map((c, i) => ({ i, family: c.family, b: bounds(c) }));
  const order = [...items].sort(
    (x, y) => x.family - y.family || cmp(x.b[0], y.b[0]) || cmp(y.b[1], x.b[1]) || x.i - y.i,
  );
  const covered = new Set<number>();
  let family: number | undefined;
  let end = -1n;
  for (const it of order) {
    if (it.family !== family) {
      family = it.family;
      end = -1n;
    }
    if (it.b[1] <= end) covered.add(it.i);
    else end = it.b[1];
  }
  return networks.filter((_, i) => !covered.has(i));
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
