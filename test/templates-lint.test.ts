/**
 * Every value that reaches a script or the README goes through a typed
 * helper (src/render/helpers.ts). This walks each template's AST and fails on
 * a bare {{value}}, a triple-stash, or a helper outside the allowlist.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTemplate, TEMPLATE_DIR } from "../src/render/handlebars-env.js";
import { HELPERS } from "../src/render/helpers.js";

const BLOCKS = new Set(["if", "unless", "each"]);

function templates(dir = TEMPLATE_DIR): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? templates(p) : p.endsWith(".hbs") ? [p] : [];
  });
}

type Node = { type: string; [k: string]: unknown };

function problems(ast: Node): string[] {
  const found: string[] = [];
  const where = (n: Node) => `line ${(n.loc as { start: { line: number } }).start.line}`;
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (n === null || typeof n !== "object") return;
    const node = n as Node;
    if (node.type === "MustacheStatement" || node.type === "SubExpression") {
      const name = (node.path as { original: string }).original;
      const params = node.params as unknown[];
      if (node.type === "MustacheStatement" && node.escaped === false)
        found.push(`${where(node)}: triple-stash {{{${name}}}}`);
      if (!(name in HELPERS)) found.push(`${where(node)}: '${name}' is not a typed helper`);
      else if (params.length === 0) found.push(`${where(node)}: helper '${name}' without a value`);
    }
    if (node.type === "BlockStatement") {
      const name = (node.path as { original: string }).original;
      if (!BLOCKS.has(name)) found.push(`${where(node)}: block helper '${name}' is not allowed`);
    }
    for (const [k, v] of Object.entries(node)) if (k !== "loc") visit(v);
  };
  visit(ast);
  return found;
}

describe("templates", () => {
  const files = templates();

  it("exist", () => {
    expect(files.length).toBeGreaterThan(2);
  });

  it.each(files.map((f) => [relative(TEMPLATE_DIR, f), f]))(
    "%s passes every value through a typed helper",
    (_name, path) => {
      expect(problems(parseTemplate(readFileSync(path, "utf8")) as unknown as Node)).toEqual([]);
    },
  );

  it("the lint itself catches a bare value, a triple-stash and an unknown helper", () => {
    const bad = parseTemplate("nft add {{name}} {{{raw}}} {{shout name}}") as unknown as Node;
    expect(problems(bad)).toHaveLength(4);
  });
});
