/**
 * dist/templates.js, the templates `npm run build` precompiles
 * (src/render/precompile-templates.ts), is current, and the built qwire
 * renders with it exactly the bytes of every golden bundle (the tests that
 * run from src/ compile the templates from their files instead).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { TEMPLATE_DIR, templateKey } from "../src/render/handlebars-env.js";
import { HELPERS } from "../src/render/helpers.js";
import { BLOCKS } from "../src/render/template-blocks.js";
import { listFiles, scenarios } from "./helpers/golden.js";

const DIST = new URL("../dist/", import.meta.url).pathname;
const BUILT = join(DIST, "templates.js");

describe("precompiled templates (npm run build)", () => {
  it("has every template under templates/, each compiled from its current text", async () => {
    expect(existsSync(BUILT), `${BUILT} is missing: run npm run build`).toBe(true);
    const { templates } = (await import(BUILT)) as {
      templates: (helpers: typeof HELPERS, blocks: typeof BLOCKS) => Record<string, { key: string }>;
    };
    const TEMPLATES = templates(HELPERS, BLOCKS);
    const names = readdirSync(TEMPLATE_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(TEMPLATE_DIR, d.name)).map((f) => `${d.name}/${f}`))
      .filter((f) => f.endsWith(".hbs"))
      .sort();
    expect(Object.keys(TEMPLATES)).toEqual(names);
    const stale = names.filter((n) => TEMPLATES[n]!.key !== templateKey(readFileSync(join(TEMPLATE_DIR, n), "utf8")));
    expect(stale, "templates changed since the build: run npm run build").toEqual([]);
  });

  it("renders every golden bundle byte for byte through dist/", async () => {
    // One process of the built qwire compiles every scenario; its files come back as JSON.
    const program = `
      import { compile } from ${JSON.stringify(join(DIST, "pipeline.js"))};
      const out = {};
      for (const s of JSON.parse(process.argv[1])) {
        const r = compile({ name: "qwire.yaml", text: s.yaml }, { previousQubes: s.previousQubes });
        out[s.name] = Object.fromEntries((r.artifacts ?? []).map((a) => [a.path, a.content]));
      }
      process.stdout.write(JSON.stringify(out));
    `;
    const all = scenarios();
    const r = await execa("node", ["--input-type=module", "-e", program, JSON.stringify(all)], {
      maxBuffer: 256 * 1024 * 1024,
    });
    const built = JSON.parse(r.stdout) as Record<string, Record<string, string>>;
    for (const s of all) {
      const expectedDir = join(s.dir, "expected");
      const files = built[s.name]!;
      expect(Object.keys(files).sort(), s.name).toEqual(listFiles(expectedDir));
      for (const [path, content] of Object.entries(files))
        expect(content, `${s.name}/${path}`).toBe(readFileSync(join(expectedDir, path), "utf8"));
    }
  });
});
