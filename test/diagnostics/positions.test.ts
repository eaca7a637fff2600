/**
 * Where diagnostics point, end to end (compile -> Diagnostic.span). The
 * it.fails cases are known bugs in src/parse/position-index.ts; see the
 * unit tests in test/unit/position-index.test.ts.
 */
import { describe, expect, it } from "vitest";
import { compileText } from "../helpers/compile.js";

const at = (text: string) =>
  compileText(text).diagnostics.map((d) => [d.code, d.span.line, d.span.column, d.span.length]);

const QUBES = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  web: { netvm: sys-net }
`;

describe("diagnostic spans", () => {
  it("block style: the caret is on the offending value", () => {
    expect(at(`${QUBES}expect:\n  - from: web\n    to: wbe\n    port: 443\n    result: open\n`)).toEqual([
      ["QW3001", 7, 9, 3],
    ]);
  });

  it("CRLF files: same columns as LF", () => {
    expect(at(`${QUBES}forwards:\n  - to: web\n    port: 0\n    from: [10.0.0.0/8]\n`.replace(/\n/g, "\r\n"))).toEqual([
      ["QW2004", 7, 11, 1],
    ]);
  });

  it("a value after a comment line: the caret is on the value", () => {
    expect(at(`${QUBES}  dev:\n    netvm:\n      # the firewall\n      sys-firewal\n`)).toEqual([["QW3001", 8, 7, 11]]);
  });

  it("flow mapping as a list item (DESIGN.md's own `expect:` style): the caret is on the value, not the whole mapping", () => {
    // actual: [["QW3001", 6, 5, 47]] (the whole `{ ... }`)
    expect(at(`${QUBES}expect:\n  - { from: web, to: wbe, port: 443, result: open }\n`)).toEqual([
      ["QW3001", 6, 22, 3],
    ]);
  });

  it("a key with an empty value: the caret stays on that key's line", () => {
    // actual: [["QW2002", 6, 1, 1]], on the next key `links:`
    expect(at(`${QUBES}forwards:\nlinks: []\n`).map(([code, line]) => [code, line])).toEqual([["QW2002", 5]]);
  });

  it("a UTF-8 byte order mark does not shift carets", () => {
    // actual: [["QW2008", 2, 8, 6]], on `: "5.0"`
    expect(
      at(`\ufeffversion: 1\nrelease: "5.0"\nqubes:\n  sys-net: { provides_network: true, uplink: ens6 }\n`),
    ).toEqual([["QW2008", 2, 10, 5]]);
  });
});
