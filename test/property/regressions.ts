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
  {
    name: 'two links between the same qubes, 3 set elements: three printf >>"$rules" in a row made shellcheck report SC2129 (gone with perf\'s rewrite of the scripts)',
    yaml: "version: 1\nqubes:\n  a:\n    provides_network: true\n    uplink: ens6\n  aa:\n    netvm: a\n    provides_network: true\n  aF:\n    netvm: aa\n  j:\n    netvm: aa\nlinks:\n  - from: aF\n    to: j\n    ports:\n      - 1\n    via: network\n  - from: aF\n    to: j\n    ports:\n      - 1-1\n      - 3\n    proto: udp\n    via: network\n",
    planted: [],
  },
  {
    name: "a key holding a newline: QW2001's message carried the raw newline",
    yaml: "\"\\nreboot\": ''''\nrelease: '4.2'\nqubes:\n  a:\n    netvm: aa\n  aa:\n    netvm: a\n    provides_network: true\n",
    planted: ["\nreboot", "'"],
  },
  {
    name: "a text mutation joining a valid name ('aaaaaaaaaa----'): the property's own false alarm (inserted text is no value), kept as a valid build",
    yaml: "version: 1\nrelease: '4.2'\nqubes:\n  aaaaa:\n    provides_network: true\n    uplink:\n      - a\n      - ens6\n  aa:\n    netvm: aaaaa\n    provides_network: true\n  aaaaaa:\n    netvm: aa\n    ip: 10.137.0.101\nforwards:\n  - to: aaaaaa\n    port: 10001-10001\n    proto: tcp\n    from:\n      - 116.4.100.0/22\n      - any\n    name: aaaaaaaaaa----\n\n",
    planted: [],
  },
];
