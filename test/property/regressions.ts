/**
 * Shrunk counterexamples found by the property tests and `npm run fuzz`,
 * kept so that each fixed failure stays fixed. Each names what it found.
 */
import type { Generated } from "./arbitraries.js";

export const REGRESSIONS: readonly (Generated & { readonly name: string })[] = [
  {
    name: "a NUL byte: QW1001 was placed at 1:12, past the end of line 1 (js-yaml's line/column skip the newline before a NUL)",
    yaml: "version: 1\n\u0000qubes:\n  a:\n    netvm: aa\n  aa:\n    netvm: a\n    provides_network: true\n",
    planted: ["\u0000"],
  },
];
