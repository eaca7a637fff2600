/** DESIGN.md §5. */
export const EXIT = {
  ok: 0,
  diagnostics: 1,
  usage: 2,
  failure: 3,
  /** `qwire plan`: the new bundle changes something. */
  changes: 4,
  /** `qwire explain`: the packet does not get through (an answer, not a failure of qwire). */
  closed: 4,
} as const;
