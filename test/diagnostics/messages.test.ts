/** Wording of diagnostics for degenerate files (B3: never a bare or meaningless message). */
import { describe, expect, it } from "vitest";
import { compileText } from "../helpers/compile.js";

const messages = (text: string) => compileText(text).diagnostics.map((d) => [d.code, d.message]);

describe("messages for files that are not a qwire document", () => {
  it("a mapping without qubes names the missing key", () => {
    expect(messages("version: 1\n")).toEqual([["QW2002", "missing required key 'qubes' at the top level"]]);
  });

  it("a multi-document stream is a syntax error", () => {
    expect(messages("version: 1\nqubes: {}\n---\nx: 1\n").map(([c]) => c)).toEqual(["QW1001"]);
  });

  // Bug: zod reports the empty document as invalid_type at path [] with
  // nothing there, and zod-issues.ts turns that into a missing key named
  // String(undefined). Actual: "missing required key 'undefined' at the top level".
  it("an empty file: says the file must be a mapping, never names a key 'undefined'", () => {
    const [[code, message]] = messages("") as [[string, string]];
    expect(code).toBe("QW2002");
    expect(message).not.toContain("undefined");
    expect(message).toMatch(/version/);
    expect(message).toMatch(/qubes/);
  });

  // Bug: the document root has an empty path, printed as ''. Actual:
  // "'' must be a mapping, found a list".
  it("a list at the top: says the file must be a mapping, without an empty '' path", () => {
    const [[code, message]] = messages("- a\n- b\n") as [[string, string]];
    expect(code).toBe("QW2002");
    expect(message).not.toContain("''");
  });
});
