/**
 * Parser limits: very large, very long and very deep documents, and alias
 * bombs, get a clear diagnostic (a code, a position inside the file, a
 * one-line message of bounded length) or build. No timed assertions: the
 * times are printed (budget: a few seconds per case on the bench machine).
 */
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { ALIAS_EXPANSION_LIMIT } from "../../src/parse/index.js";
import type { CompileResult } from "../../src/pipeline.js";
import { compileText } from "../helpers/compile.js";

const HEAD = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
`;

/** Nine levels of ten aliases: 10^9 values when walked as a tree. */
function lols(levels = 9): string[] {
  const defs = ['&l0 ["192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24", "192.168.4.0/24", "192.168.5.0/24"]'];
  for (let i = 1; i < levels; i++)
    defs.push(
      `&l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(", ")}]`,
    );
  return defs;
}

/** The bomb put where each section's validator walks the value. */
const BOMB_PLACES: Record<string, string> = {
  version: HEAD.replace("version: 1", `version: [${lols().join(", ")}]`),
  release: `${HEAD}release: [${lols().join(", ")}]\n`,
  "a qube's settings": `${HEAD}  mail: [${lols().join(", ")}]\n`,
  uplink: HEAD.replace("uplink: ens6", `uplink: [${lols().join(", ")}]`),
  forwards: `${HEAD}forwards: [${lols().join(", ")}]\n`,
  "a forward's from": `${HEAD}forwards:\n  - { to: web, port: 443, from: [${lols().join(", ")}] }\n`,
  "a link's ports": `${HEAD}links:\n  - { from: web, to: sys-firewall, ports: [${lols().join(", ")}] }\n`,
  "firewall rules": `${HEAD}firewall:\n  web:\n    rules: [${lols().join(", ")}]\n`,
  expect: `${HEAD}expect: [${lols().join(", ")}]\n`,
  "an unknown key": `${HEAD}x-anchors: [${lols().join(", ")}]\n`,
  "mapping aliases": `${HEAD}x-maps:\n  - &m0 { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 }\n${Array.from(
    { length: 8 },
    (_, i) => `  - &m${i + 1} { ${Array.from({ length: 10 }, (_, k) => `k${k}: *m${i}`).join(", ")} }\n`,
  ).join("")}`,
};

function timed(text: string): { result: CompileResult; ms: number } {
  const t0 = performance.now();
  const result = compileText(text);
  return { result, ms: performance.now() - t0 };
}

/** Every diagnostic: a code, a line of the file, a column on that line, one short line of message. */
function expectWellFormed(text: string, result: CompileResult): void {
  const lines = text.split("\n");
  for (const d of result.diagnostics) {
    expect(d.code).toMatch(/^QW\d{4}$/);
    expect(d.span.line).toBeGreaterThanOrEqual(1);
    expect(d.span.line).toBeLessThanOrEqual(lines.length);
    expect(d.span.column).toBeGreaterThanOrEqual(1);
    expect(d.span.column).toBeLessThanOrEqual((lines[d.span.line - 1]?.length ?? 0) + 1);
    // eslint-disable-next-line no-control-regex -- the test is that no control character is left
    expect(d.message).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(d.message.length).toBeLessThan(600);
  }
}

const times: string[] = [];

describe("alias bombs are refused with QW1009, wherever they sit", () => {
  for (const [place, text] of Object.entries(BOMB_PLACES)) {
    it(place, () => {
      const { result, ms } = timed(text);
      times.push(`alias bomb in ${place}: ${ms.toFixed(0)} ms`);
      expectWellFormed(text, result);
      expect(result.artifacts).toBeUndefined();
      expect(result.diagnostics.map((d) => d.code)).toEqual(["QW1009"]);
      // At the first alias that stands for a list or a mapping.
      const d = result.diagnostics[0]!;
      expect(text.split("\n")[d.span.line - 1]!.slice(d.span.column - 1)).toMatch(/^\*[lm]0/);
    });
  }

  it("small aliases, as people use them for a shared `from:` list, still build", () => {
    const text = `${HEAD}forwards:\n  - { to: web, port: 443, from: &lan [192.168.1.0/24, 172.16.0.0/12] }\n${Array.from(
      { length: 50 },
      (_, i) => `  - { to: web, port: ${1000 + i}, from: *lan }\n`,
    ).join("")}`;
    const { result } = timed(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.artifacts).toBeDefined();
  });

  it("one alias just past the limit is refused, just under it is not", () => {
    // A list of n distinct values aliased m times adds n*m (plus m for the lists themselves).
    const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(", ")}]`;
    const under = `${HEAD}x-a: &a ${list(999)}\nx-b: [${Array(99).fill("*a").join(", ")}]\n`;
    const over = `${HEAD}x-a: &a ${list(1000)}\nx-b: [${Array(101).fill("*a").join(", ")}]\n`;
    expect(99 * 1000).toBeLessThanOrEqual(ALIAS_EXPANSION_LIMIT);
    expect(compileText(under).diagnostics.map((d) => d.code)).not.toContain("QW1009");
    expect(compileText(over).diagnostics.map((d) => d.code)).toContain("QW1009");
  });
});

describe("deep nesting: 1,000 levels get QW1001 'nests deeper than 100 levels'", () => {
  const flow = `${HEAD}forwards:\n  - { to: web, port: 443, from: ${"[".repeat(1000)}${"]".repeat(1000)} }\n`;
  let block = `${HEAD}x-deep:\n`;
  for (let i = 0; i < 1000; i++) block += `${"  ".repeat(i + 1)}k${i}:\n`;
  const blockSeq = `${HEAD}x-deep:\n${Array.from({ length: 1000 }, (_, i) => `${"  ".repeat(i + 1)}-\n`).join("")}`;
  for (const [name, text] of Object.entries({
    "flow lists": flow,
    "block mappings": block,
    "block sequences": blockSeq,
  })) {
    it(name, () => {
      const { result, ms } = timed(text);
      times.push(`1,000 levels of ${name}: ${ms.toFixed(0)} ms`);
      expectWellFormed(text, result);
      expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
        ["QW1001", "the YAML nests deeper than 100 levels here"],
      ]);
    });
  }
});

describe("size", () => {
  it("a 10 MB value in a field: refused with a short message", () => {
    const text = `${HEAD}forwards:\n  - to: web\n    port: 443\n    from: [192.168.1.0/24]\n    name: ${"a".repeat(10_000_000)}\n`;
    const { result, ms } = timed(text);
    times.push(`10 MB name: ${ms.toFixed(0)} ms`);
    expectWellFormed(text, result);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["QW2011"]);
  });

  it("a 10 MB value where a number belongs: refused with a short message", () => {
    const text = `${HEAD}forwards:\n  - to: web\n    port: "${"9".repeat(10_000_000)}"\n    from: [192.168.1.0/24]\n`;
    const { result, ms } = timed(text);
    times.push(`10 MB port: ${ms.toFixed(0)} ms`);
    expectWellFormed(text, result);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["QW2004"]);
  });

  it("a 10 MB file of comments builds", () => {
    let text = HEAD;
    const comment = `# ${"c".repeat(100)}\n`;
    text += comment.repeat(Math.ceil(10_000_000 / comment.length));
    text += "forwards:\n  - { to: web, port: 443, from: [192.168.1.0/24] }\n";
    const { result, ms } = timed(text);
    times.push(`10 MB of comments: ${ms.toFixed(0)} ms`);
    expect(result.diagnostics).toEqual([]);
    expect(result.artifacts).toBeDefined();
  });

  it("100,000 sources in one forward build", () => {
    const from = Array.from(
      { length: 100_000 },
      (_, i) => `      - 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32\n`,
    ).join("");
    const text = `${HEAD}forwards:\n  - to: web\n    port: 443\n    from:\n${from}`;
    const { result, ms } = timed(text);
    times.push(`100,000 sources: ${ms.toFixed(0)} ms`);
    expect(result.diagnostics).toEqual([]);
    expect(result.artifacts).toBeDefined();
  });

  it("100,000 forwards, every external port used twice or more: one QW3006 each, well formed", () => {
    const forwards = Array.from(
      { length: 100_000 },
      (_, i) => `  - { to: web, port: ${1 + (i % 60000)}, from: [192.168.1.0/24], name: f${i} }\n`,
    ).join("");
    const text = `${HEAD}forwards:\n${forwards}`;
    const { result, ms } = timed(text);
    times.push(`100,000 forwards: ${ms.toFixed(0)} ms`);
    expectWellFormed(text, result);
    expect(result.diagnostics.length).toBe(40_000);
    expect(new Set(result.diagnostics.map((d) => d.code))).toEqual(new Set(["QW3006"]));
  });

  it("prints the times", () => {
    console.log(`parser limits (in-process compile):\n  ${times.join("\n  ")}`);
  });
});
