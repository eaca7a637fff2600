/**
 * DESIGN.md §5. 4 is a question's answer, not a failure, and the same value
 * for each command that asks one (`plan`: changes; `explain`: closed): a
 * script runs one command and tests for 4, and the commands never meet in
 * one exit status. 3 stays "qwire could not do it" everywhere.
 */
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
