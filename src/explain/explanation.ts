/** What `qwire explain` answers: the hops a packet takes, the rule that decides at each, and the verdict. */
import type { Proto, QubeName } from "../validate/index.js";

export interface Hop {
  /** A qube, "dom0", or "outside <address>". */
  readonly at: string;
  /** The rule that decides here, in words: a qwire intent by name or a Qubes base rule. */
  readonly rule: string;
  readonly passes: boolean;
}

export interface Explanation {
  readonly hops: readonly Hop[];
  readonly open: boolean;
  /** The intent that opens it, e.g. "forward web-https". */
  readonly by?: string;
  /** Who answers when open (a qube, or "the internet"). */
  readonly reaches?: QubeName | "the internet";
  readonly serverPort?: number;
  /** Closed: where the packet is dropped, the first hop that does not pass. */
  readonly droppedAt?: string;
  /** Closed: the intent that would open it, as qwire.yaml lines (or a sentence when no intent can). */
  readonly opener?: readonly string[];
  readonly proto: Proto;
  readonly port: number;
}
