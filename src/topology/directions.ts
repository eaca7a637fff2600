/** The directions a link carries: from -> to, and back when `both_ways`. */
import type { LinkSpec, QubeName } from "../validate/index.js";

export function linkDirections(l: Pick<LinkSpec, "from" | "to" | "bothWays">): [from: QubeName, to: QubeName][] {
  return l.bothWays
    ? [
        [l.from, l.to],
        [l.to, l.from],
      ]
    : [[l.from, l.to]];
}
