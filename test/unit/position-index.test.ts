/**
 * PositionIndex: YAML paths -> spans of keys and values, rebuilt from js-yaml's
 * listener events. Given a document and a path, want the 1-based line, column
 * and length of the value (and of the key that introduces it).
 */
import { describe, expect, it } from "vitest";
import { DiagnosticBag } from "../../src/diagnostics/diagnostic.js";
import { parse, type YamlPath } from "../../src/parse/index.js";

function positions(text: string) {
  const diag = new DiagnosticBag();
  const doc = parse({ name: "qwire.yaml", text }, diag);
  if (!doc) throw new Error(`does not parse: ${JSON.stringify(diag.sorted())}`);
  return doc.positions;
}

type At = [line: number, column: number, length: number];
const span = (s: { line: number; column: number; length: number }): At => [s.line, s.column, s.length];

const DEFAULT_DOC = `# a comment before everything
version: 1 # trailing comment
qubes:
  # a comment before a key
  web:
    netvm:   # a comment before the value
      sys-net
  "quoted key": {a: 1, bb: [x, yy]}
  wéb€: x
  "日本": "値"
  sys-net: { provides_network: true, uplink: [ens6, wlan0] }
list:
  - a
  -   b
  - - c
    - dd
  - k: v
    k2: v2
  # a comment between items
  - last
flow: [1, [2, {k: v}]]
`;

describe("PositionIndex.value / key", () => {
  const TABLE: { path: YamlPath; value: At; key?: At; why: string }[] = [
    { why: "scalar in a block mapping, trailing comment", path: ["version"], value: [2, 10, 1], key: [2, 1, 7] },
    { why: "value on the line after a comment", path: ["qubes", "web", "netvm"], value: [7, 7, 7], key: [6, 5, 5] },
    { why: "block mapping as a value: its first line", path: ["qubes", "web"], value: [6, 5, 37], key: [5, 3, 3] },
    { why: "quoted key", path: ["qubes", "quoted key"], value: [8, 17, 19], key: [8, 3, 12] },
    { why: "flow mapping value", path: ["qubes", "quoted key", "a"], value: [8, 21, 1], key: [8, 18, 1] },
    { why: "flow sequence inside a flow mapping", path: ["qubes", "quoted key", "bb", 1], value: [8, 32, 2] },
    {
      why: "unicode before the value (UTF-16 columns = characters here)",
      path: ["qubes", "wéb€"],
      value: [9, 9, 1],
      key: [9, 3, 4],
    },
    { why: "CJK quoted key and value", path: ["qubes", "日本"], value: [10, 9, 3], key: [10, 3, 4] },
    { why: "flow sequence in a flow mapping", path: ["qubes", "sys-net", "uplink", 1], value: [11, 53, 5] },
    { why: "block sequence item", path: ["list", 0], value: [13, 5, 1] },
    { why: "extra spaces after the dash", path: ["list", 1], value: [14, 7, 1] },
    { why: "nested block sequence", path: ["list", 2, 1], value: [16, 7, 2] },
    { why: "block mapping in a block sequence", path: ["list", 3, "k2"], value: [18, 9, 2], key: [18, 5, 2] },
    { why: "comment between sequence items", path: ["list", 4], value: [20, 5, 4] },
    { why: "nested flow collections", path: ["flow", 1, 1, "k"], value: [21, 19, 1], key: [21, 16, 1] },
  ];

  const p = positions(DEFAULT_DOC);
  for (const row of TABLE) {
    it(`${row.why}: ${JSON.stringify(row.path)}`, () => {
      expect(span(p.value(row.path))).toEqual(row.value);
      if (row.key) expect(span(p.key(row.path))).toEqual(row.key);
    });
  }

  it("a path that does not exist falls back to the nearest ancestor", () => {
    expect(span(p.value(["qubes", "web", "nope"]))).toEqual([6, 5, 37]);
    expect(span(p.key(["qubes", "nope"]))).toEqual([3, 1, 5]);
    expect(span(p.value(["list", 99]))).toEqual([13, 3, 3]);
  });

  it("the empty path is the document", () => {
    expect(span(p.value([]))).toEqual([2, 1, 29]);
  });

  it("an empty document has no spans but line 1, column 1", () => {
    const empty = positions("");
    expect(span(empty.value(["qubes"]))).toEqual([1, 1, 1]);
  });

  it("CRLF line ends: columns as with LF, lengths without the CR", () => {
    const crlf = positions("version: 1\r\nqubes:\r\n  web: { netvm: sys-net }\r\n");
    expect(span(crlf.value(["qubes", "web", "netvm"]))).toEqual([3, 17, 7]);
    expect(span(crlf.value(["version"]))).toEqual([1, 10, 1]);
  });

  it("tabs before a comment", () => {
    expect(span(positions("a:\t# c\n  b\n").value(["a"]))).toEqual([2, 3, 1]);
  });

  it("block scalar: the indicator line", () => {
    const s = positions("a: |\n  text\nb: 1\n");
    expect(span(s.value(["b"]))).toEqual([3, 4, 1]);
    expect(span(s.key(["b"]))).toEqual([3, 1, 1]);
  });

  it("position(offset) converts offsets to 1-based line and column", () => {
    const q = positions("ab\ncd\n");
    expect(q.position(0)).toEqual({ line: 1, column: 1 });
    expect(q.position(3)).toEqual({ line: 2, column: 1 });
    expect(q.position(4)).toEqual({ line: 2, column: 2 });
  });
});

describe("PositionIndex: js-yaml quirks (fixed)", () => {
  // js-yaml wraps a flow collection that is an item of a block sequence in an
  // extra node frame, so #child finds no key/value pairs in it and every path
  // inside `- { to: web, ... }` falls back to the whole mapping.
  it("flow mapping as a block sequence item: the value of a key inside it", () => {
    const q = positions("forwards:\n  - { to: web, port: 443 }\n");
    expect(span(q.value(["forwards", 0, "port"]))).toEqual([2, 22, 3]);
  });

  it("flow mapping as a block sequence item: the key inside it", () => {
    const q = positions("forwards:\n  - { to: web, port: 443 }\n");
    expect(span(q.key(["forwards", 0, "port"]))).toEqual([2, 16, 4]);
  });

  it("flow sequence as a block sequence item: an element inside it", () => {
    const q = positions("b:\n  - [4, 55]\n");
    expect(span(q.value(["b", 0, 1]))).toEqual([2, 9, 2]);
  });

  // A key with no value (`forwards:` followed by another key): the empty node's
  // span runs to the next line, so the caret lands on the next key.
  it("an empty value stays on its key's line", () => {
    const q = positions("forwards:\nlinks: []\n");
    expect(q.value(["forwards"]).line).toBe(1);
  });

  // js-yaml drops a leading UTF-8 BOM and reports offsets into the text
  // without it; the index computes lines and columns on the text with it.
  it("a UTF-8 byte order mark does not shift positions", () => {
    const withBom = positions("\ufeffversion: 1\nqubes: x\nabc: defg\n");
    expect(span(withBom.value(["abc"]))).toEqual([3, 6, 4]);
    expect(span(withBom.key(["abc"]))).toEqual([3, 1, 3]);
  });
});
