/**
 * src/release/ is the only place that names a Qubes release: a stage asks
 * the release's profile what it has. This lint fails on a comparison with a
 * release literal anywhere else in the compiler (`release === "3.2"`,
 * `case "4.0":`, `["4.2", "4.3"].includes(...)`).
 *
 * src/simulate/ is left out: it models the Qubes base rules each release
 * ships (upstream's tables, not a decision of qwire's) and never feeds the
 * bundle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { RELEASES } from "../src/release/index.js";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const EXEMPT = ["release/", "simulate/"];

const literal = `["'\`](?:${RELEASES.map((r) => r.replace(".", "\\.")).join("|")})["'\`]`;
const COMPARISONS = [
  new RegExp(`[=!]==?\\s*${literal}`),
  new RegExp(`${literal}\\s*[=!]==?`),
  new RegExp(`\\bcase\\s+${literal}\\s*:`),
  new RegExp(`\\[\\s*${literal}(?:\\s*,\\s*${literal})*\\s*\\]\\s*\\.\\s*(?:includes|indexOf|some)\\b`),
];

/** Lines of `text` that compare with a release literal, as "line: text". */
export function releaseComparisons(text: string): string[] {
  return text
    .split("\n")
    .map((line, i) => [i + 1, line] as const)
    .filter(([, line]) => COMPARISONS.some((re) => re.test(line)))
    .map(([n, line]) => `${n}: ${line.trim()}`);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

describe("release literals live in src/release/ only", () => {
  it("the lint finds every form of comparison (it can fail)", () => {
    expect(releaseComparisons('if (release === "3.2") x();')).toHaveLength(1);
    expect(releaseComparisons("const r41 = '4.1' !== release;")).toHaveLength(1);
    expect(releaseComparisons('    case "4.0":')).toHaveLength(1);
    expect(releaseComparisons('if (["4.2", "4.3"].includes(release)) y();')).toHaveLength(1);
    expect(releaseComparisons('const text = `Qubes R${release}`; // "4.2" is the default')).toHaveLength(0);
  });

  it("no file outside src/release/ (and the simulator) compares with a release literal", () => {
    const found = sources(SRC)
      .map((path) => relative(SRC, path))
      .filter((path) => !EXEMPT.some((e) => path.startsWith(e)))
      .flatMap((path) => releaseComparisons(readFileSync(join(SRC, path), "utf8")).map((hit) => `src/${path}:${hit}`));
    expect(found).toEqual([]);
  });
});
