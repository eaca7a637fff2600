import { describe, expect, it } from "vitest";
import { DIAGNOSTIC_CODES } from "../../src/diagnostics/codes.js";
import { formatJson, formatText } from "../../src/diagnostics/format.js";
import { compileText } from "../helpers/compile.js";

const TEXT = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  web:
    netvm: sys-firewal
  sys-firewall: { netvm: sys-net, provides_network: true }
links:
  - from: web
    to: sys-firewall
    local_port: 22
`;

interface JsonDiagnostic {
  file: string;
  severity: string;
  code: string;
  message: string;
  span: { line: number; column: number; length: number };
  notes: { message: string; span?: { line: number; column: number } }[];
  hint?: string;
}

describe("formatJson", () => {
  it("parses, and carries file, code, severity, span, notes and hint", () => {
    const { diagnostics } = compileText(TEXT);
    const parsed = JSON.parse(formatJson(diagnostics, "qwire.yaml")) as JsonDiagnostic[];
    expect(parsed).toHaveLength(diagnostics.length);
    expect(parsed.filter((p) => p.code === "QW2002")).toEqual([
      {
        file: "qwire.yaml",
        severity: "error",
        code: "QW2002",
        message: "'local_port' only applies to 'via: qrexec' links",
        span: { line: 10, column: 5, length: 10 },
        notes: [],
        hint: "remove it",
      },
    ]);
  });

  it("notes keep their spans; a diagnostic without hint has no hint key", () => {
    const { diagnostics } = compileText(TEXT.replace("    local_port: 22\n", ""));
    const parsed = JSON.parse(formatJson(diagnostics, "x/qwire.yaml")) as JsonDiagnostic[];
    const d = parsed.find((p) => p.code === "QW3001")!;
    expect(d).toMatchObject({ file: "x/qwire.yaml", severity: "error", span: { line: 5, column: 12, length: 11 } });
    expect(d.notes).toEqual([{ message: "did you mean 'sys-firewall'?" }]);
    expect("hint" in d).toBe(false);
    for (const p of parsed) expect(Object.keys(DIAGNOSTIC_CODES)).toContain(p.code);
  });

  it("a warning keeps severity 'warning'", () => {
    const { diagnostics } = compileText(`version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  web: { netvm: sys-net }
forwards:
  - to: web
    port: 443
    from: [any]
`);
    const parsed = JSON.parse(formatJson(diagnostics, "qwire.yaml")) as JsonDiagnostic[];
    expect(parsed.map((p) => [p.severity, p.code, p.span.line, p.span.column])).toEqual([["warning", "QW2010", 8, 12]]);
  });

  it("no diagnostics: an empty JSON list (and empty text)", () => {
    expect(JSON.parse(formatJson([], "qwire.yaml"))).toEqual([]);
    expect(formatText([], "qwire.yaml", "")).toBe("");
  });

  it("hostile text in a message stays one JSON string, and one text line", () => {
    const { diagnostics } = compileText('version: 1\nqubes:\n  "a\\nb\\u0007": {}\n');
    const parsed = JSON.parse(formatJson(diagnostics, "qwire.yaml")) as JsonDiagnostic[];
    expect(parsed[0]!.code).toBe("QW2003");
    // eslint-disable-next-line no-control-regex -- the test is that no control character is left
    expect(parsed[0]!.message).not.toMatch(/[\n\x07]/);
    const text = formatText(diagnostics, "qwire.yaml", 'version: 1\nqubes:\n  "a\\nb\\u0007": {}\n');
    expect(text.split("\n")[0]).toContain("'a\\x0ab\\x07'");
  });
});
