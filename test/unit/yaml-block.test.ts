/**
 * blockYaml (src/render/yaml-block.ts) writes what js-yaml writes, or
 * refuses. Compared here on the YAML data of every golden scenario and on
 * generated values made of the strings YAML is picky about (indicators,
 * ': ', ' #', numbers, YAML 1.1 booleans, leading spaces, line feeds,
 * trailing newlines, quotes, tabs, non-ASCII), at every nesting depth.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockYaml } from "../../src/render/yaml-block.js";
import { jsYamlDump } from "../../src/render/yaml.js";
import { compileOk } from "../helpers/compile.js";
import { scenarios } from "../helpers/golden.js";
import yaml from "js-yaml";

/** Whole strings YAML reads as something else, or writes in a special way. */
const SPECIAL = [
  ...["", " ", "\n", "\n\n", " \n", "a\n", "a\n\n", "\na", "\n a", "  a\nb", "a\n b\n", "a\n\n\nb"],
  ...["true", "False", "NULL", "~", "null", "yes", "No", "on", "OFF", "y", "n", "Y"],
  ...[
    "0",
    "-1",
    "+1",
    "0755",
    "0o17",
    "0x1F",
    "1_000",
    "1e3",
    "1.5",
    ".5",
    ".inf",
    "-.Inf",
    ".nan",
    "12:30",
    "1:2:3.5",
  ],
  ...[
    "-",
    "- a",
    "-a",
    "?",
    "? a",
    ":",
    "a:",
    "a: b",
    "a:b",
    "#",
    "a #b",
    "a#b",
    "[a]",
    "{a}",
    "a,b",
    "*a",
    "&a",
    "!a",
  ],
  ...["|", ">", "'", "''", "it's", '"q"', "%a", "@a", "`a`", "=", "a ", " a", "a\tb", "\t", "é", "a\rb", "\u2028"],
  ...["qwire-app-0-dir", "/rw/config/qwire", "qvm-prefs -- app-1 ip", "salt://qwire/files/sys-net/50-qwire", "0644"],
];
const ALPHABET = [
  "a",
  "b",
  "0",
  "1",
  " ",
  ":",
  "#",
  "-",
  "'",
  '"',
  "\n",
  ".",
  "_",
  "/",
  "{",
  "}",
  "[",
  "]",
  ",",
  "\t",
  "é",
];

/**
 * Values as Salt data is made of, to depth 4: lists and mappings of up to 3
 * entries (keys among the special strings), integers, booleans, the special
 * strings, and strings of up to 11 characters from ALPHABET.
 */
const { value: generated } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.constantFrom(true, false, 0, 7, -3, 443, 65535),
    fc.constantFrom(...SPECIAL),
    fc.array(fc.constantFrom(...ALPHABET), { maxLength: 11 }).map((cs) => cs.join("")),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...SPECIAL, "name", "require"), tie("value"), { maxKeys: 3 }),
  ),
}));

describe("blockYaml", () => {
  it("writes js-yaml's bytes for generated values, or refuses them", () => {
    let written = 0;
    fc.assert(
      fc.property(generated, (value) => {
        const ours = blockYaml(value);
        if (ours === undefined) return;
        written++;
        expect(ours, JSON.stringify(value)).toBe(jsYamlDump(value));
      }),
      { seed: 20261129, numRuns: 20000 },
    );
    // Most values are within what it writes (refusals are tabs, non-ASCII, CR, line separators).
    expect(written).toBeGreaterThan(10000);
  });

  it("writes every special string on its own, as a key, in a list and nested, as js-yaml does", () => {
    for (const s of SPECIAL) {
      for (const value of [s, { [s]: s }, [s], { k: [s, { [s]: [s] }] }, [[s]], { a: { b: { c: s } } }]) {
        const ours = blockYaml(value);
        if (ours !== undefined) expect(ours, JSON.stringify(value)).toBe(jsYamlDump(value));
      }
    }
  });

  it("refuses what js-yaml writes in ways it does not copy", () => {
    for (const value of [
      null,
      { a: undefined },
      [undefined],
      1.5,
      -0,
      "a\tb",
      "é",
      { ["k".repeat(1025)]: 1 },
      new Date(0),
    ])
      expect(blockYaml(value), JSON.stringify(value)).toBeUndefined();
  });

  it.each(scenarios().map((s) => [s.name, s] as const))(
    "writes the YAML files of golden scenario %s itself",
    (_, s) => {
      // Every .sls and .top file the bundle has, read back: the data that was dumped.
      const files = compileOk(s.yaml, { previousQubes: s.previousQubes }).artifacts.filter((a) =>
        /\.(sls|top)$/.test(a.path),
      );
      for (const file of files) {
        if (file.path === "salt/qwire/vm.sls") continue; // hand-written Jinja, copied from salt/
        const data = yaml.load(file.content, { schema: yaml.CORE_SCHEMA });
        const ours = blockYaml(data);
        expect(ours, file.path).toBeDefined();
        expect(ours, file.path).toBe(jsYamlDump(data));
      }
    },
  );
});
