/** DESIGN.md §5. */
/** `closed`: `qwire explain`'s answer for a packet that does not get through (not a failure of qwire). */
export const EXIT = { ok: 0, diagnostics: 1, usage: 2, failure: 3, closed: 4 } as const;
