/**
 * qwire's compiled {{#if}}, {{#unless}} and {{#each}} (template-blocks.ts)
 * render what Handlebars' own helpers render, for the values qwire's views
 * hold, and refuse what they do not hold.
 */
import Handlebars from "handlebars";
import { describe, expect, it } from "vitest";
import { compileTemplate } from "../../src/render/handlebars-env.js";
import { HELPERS, TemplateValueError } from "../../src/render/helpers.js";

/** The same template through stock Handlebars, with its own built-in helpers (and qwire's, for {{sh}}). */
function stock(source: string, partials: Readonly<Record<string, string>>): Handlebars.TemplateDelegate {
  const hb = Handlebars.create();
  for (const [name, fn] of Object.entries(HELPERS)) hb.registerHelper(name, fn);
  for (const [name, text] of Object.entries(partials))
    hb.registerPartial(name, hb.compile(text, { noEscape: true, strict: true }));
  return hb.compile(source, { noEscape: true, strict: true });
}

function same(source: string, views: readonly object[], partials: Readonly<Record<string, string>> = {}): void {
  const ours = compileTemplate(source, partials);
  const theirs = stock(source, partials);
  for (const view of views) expect(ours(view), `${source} with ${JSON.stringify(view)}`).toBe(theirs(view));
}

const VALUES = [true, false, 0, 1, -1, "", "x", [], [0], [1, 2], null, undefined, {}, { a: 1 }];

describe("qwire's template blocks", () => {
  it("{{#if}} takes the else branch for falsy values, 0 and empty arrays, as Handlebars does", () => {
    same(
      "{{#if v}}yes{{else}}no{{/if}}|{{#if v}}only{{/if}}",
      VALUES.map((v) => ({ v })),
    );
  });

  it("{{#unless}} is {{#if}} the other way round", () => {
    same(
      "{{#unless v}}yes{{else}}no{{/unless}}|{{#unless v}}only{{/unless}}",
      VALUES.map((v) => ({ v })),
    );
  });

  it("{{#each}} sets @index, @first, @last and @key, and takes {{else}} for an empty or absent list", () => {
    same("{{#each xs}}[{{@key}}={{@index}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}}:{{this}}]{{else}}none{{/each}}", [
      { xs: [] },
      { xs: ["a"] },
      { xs: ["a", "b", "c"] },
      { xs: null },
      { xs: undefined },
      { xs: false },
    ]);
  });

  it("../ reaches the enclosing contexts and @../index the enclosing frame, however deep", () => {
    same(
      "{{#each groups}}{{name}}({{#each items}}{{../name}}/{{this}}/{{../../title}}/{{@../index}}.{{@index}}{{#unless @last}},{{/unless}}{{/each}}){{#if ../title}}+{{/if}}{{/each}}",
      [
        { title: "T", groups: [] },
        {
          title: "T",
          groups: [
            { name: "g1", items: ["a", "b"] },
            { name: "g2", items: [] },
            { name: "g3", items: ["c"] },
          ],
        },
      ],
    );
  });

  it("@root and helpers inside blocks read what they read in Handlebars", () => {
    same("{{#each xs}}{{#if this}}{{sh this}}{{/if}} {{@root.title}};{{/each}}", [
      { title: "T", xs: ["a b", "", "c"] },
    ]);
  });

  it("refuses a function or an object where a view holds data or a list", () => {
    expect(() => compileTemplate("{{#if v}}x{{/if}}")({ v: () => true })).toThrow(TemplateValueError);
    expect(() => compileTemplate("{{#each v}}x{{/each}}")({ v: { a: 1 } })).toThrow(TemplateValueError);
    expect(() => compileTemplate("{{#each v}}x{{/each}}")({ v: "abc" })).toThrow(TemplateValueError);
  });

  it("refuses, when compiling, Handlebars helpers and forms qwire's blocks do not run", () => {
    expect(() => compileTemplate("{{#with v}}x{{/with}}")).toThrow(/{{with}} is a Handlebars helper qwire does not/);
    expect(() => compileTemplate("{{lookup v 'a'}}")).toThrow(/{{lookup}} is a Handlebars helper/);
    expect(() => compileTemplate("{{#if v includeZero=true}}x{{/if}}")).toThrow(/takes one value and no hash=/);
    expect(() => compileTemplate("{{#each v as |x|}}{{x}}{{/each}}")).toThrow(/block parameters/);
  });
});

describe("qwire's template runtime (template-runtime.ts)", () => {
  it("runs a partial in its caller's context and data frame, as Handlebars does", () => {
    same(
      "<{{> line}}>{{#each xs}}[{{> item}}]{{/each}}",
      [
        { title: "T", xs: [] },
        { title: "T", xs: ["a", "b"] },
      ],
      { line: "{{title}}", item: "{{@index}}{{#if @last}}!{{/if}}:{{this}}:{{@root.title}}" },
    );
  });

  it("gives a partial its hash= values over its context, ../ included", () => {
    same(
      "{{> p extra=1}}|{{#each xs}}{{> q title=../title}};{{/each}}|{{title}}",
      [{ title: "T", extra: 0, xs: [{ name: "a" }, { name: "b", title: "own" }] }],
      { p: "{{title}}/{{extra}}", q: "{{name}}@{{title}}" },
    );
  });

  it("runs partials that call partials", () => {
    same("{{#each xs}}{{> outer}}{{/each}}", [{ xs: [{ v: 1 }, { v: 2 }] }], {
      outer: "({{> inner}})",
      inner: "{{v}}{{#unless @first}}+{{/unless}}",
    });
  });

  it("fails on a partial it does not have and on a field the view does not have (strict)", () => {
    expect(() => compileTemplate("{{> nowhere}}", {})({})).toThrow(/the partial nowhere could not be found/);
    expect(() => compileTemplate("{{name}}", {})({})).toThrow(/"name" not defined/);
  });

  it("refuses what it does not run: an indented partial, an inline partial (a decorator)", () => {
    expect(() => compileTemplate("x\n  {{> p}}\n", { p: "y" })({})).toThrow(/{{> p}} is indented/);
    expect(() => compileTemplate('{{#*inline "p"}}y{{/inline}}{{> p}}', {})).toThrow(/uses decorators/);
    // One inside a block, which template-blocks.ts runs: refused as well, before any render.
    expect(() => compileTemplate('{{#each xs}}{{#*inline "p"}}y{{/inline}}{{> p}}{{/each}}', {})).toThrow(
      /uses decorators/,
    );
  });
});
