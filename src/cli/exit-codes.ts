/** DESIGN.md §5. */
export const EXIT = { ok: 0, diagnostics: 1, usage: 2, failure: 3 } as const;
