/**
 * One isolated Handlebars environment. noEscape because the default escaping
 * is for HTML and corrupts scripts; safety comes from the typed helpers
 * instead. strict + knownHelpersOnly make a typo fail at compile time.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { HELPERS } from "./helpers.js";

/** templates/ at the package root, next to dist/ and src/. */
export const TEMPLATE_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

const hb = Handlebars.create();
for (const [name, fn] of Object.entries(HELPERS)) hb.registerHelper(name, fn);

/**
 * Handlebars compiles every name in a template (a helper, a field of the
 * view, a partial) to a call of its `lookupProperty(parent, "name")`, which
 * guards templates from reading inherited properties (prototype pollution
 * through untrusted templates). qwire's templates are its own, lint-checked
 * (test/templates-lint.test.ts), and read only the own fields of views it
 * builds as plain objects and arrays: a plain `parent["name"]` gives the same
 * value. That call per name (a million at 10,000 intents) was 2-5% of a
 * build's profile; a property read in the template's own code costs next to
 * nothing. nameLookup is the compiler's public override point; strict mode's
 * check of a missing field (container.strict) is unchanged.
 */
const Compiler = (hb as unknown as { JavaScriptCompiler: new () => object }).JavaScriptCompiler;
class DirectLookups extends Compiler {
  nameLookup(parent: unknown, name: string): unknown[] {
    return [parent, "[", JSON.stringify(name), "]"];
  }
}
// The compiler of a template's nested blocks ({{#each}} bodies), as Handlebars' documentation of the override shows.
(DirectLookups.prototype as unknown as { compiler: unknown }).compiler = DirectLookups;
(hb as unknown as { JavaScriptCompiler: typeof DirectLookups }).JavaScriptCompiler = DirectLookups;

/** Changes when the code the templates compile to changes (part of templateKey). */
const COMPILER = "direct-lookups-1";

export const COMPILE_OPTIONS = {
  noEscape: true,
  strict: true,
  knownHelpersOnly: true,
  knownHelpers: Object.fromEntries(Object.keys(HELPERS).map((h) => [h, true])),
} as const;

/**
 * What a template is compiled from: the Handlebars release, qwire's compiler,
 * the options and the template's text. A precompiled template is used only under its key.
 */
export function templateKey(source: string): string {
  return createHash("sha256")
    .update(`${Handlebars.VERSION}\0${COMPILER}\0${JSON.stringify(COMPILE_OPTIONS)}\0${source}`)
    .digest("hex");
}

/** A template precompiled by `npm run build` (precompile-templates.ts), with the key it was compiled under. */
export interface Precompiled {
  readonly key: string;
  readonly spec: TemplateSpecification;
}

/**
 * dist/templates.js, written by `npm run build`: parsing and compiling the
 * templates took a third of a second of every build. Absent when qwire runs
 * from src/ (the tests): then every template is compiled from its file.
 */
const PRECOMPILED: Readonly<Record<string, Precompiled>> = await import(
  new URL("../templates.js", import.meta.url).href
).then(
  (m: { TEMPLATES: Record<string, Precompiled> }) => m.TEMPLATES,
  (e: NodeJS.ErrnoException) => {
    if (e.code === "ERR_MODULE_NOT_FOUND") return {};
    throw e;
  },
);

/**
 * templates/<name>: its precompiled form when that was compiled from the
 * same text (a template edited since the build is compiled from the file).
 */
function compiled(name: string): Handlebars.TemplateDelegate {
  const source = readFileSync(TEMPLATE_DIR + name, "utf8");
  const pre = PRECOMPILED[name];
  return pre !== undefined && pre.key === templateKey(source)
    ? hb.template(pre.spec)
    : hb.compile(source, COMPILE_OPTIONS);
}

/**
 * Partials shared between backends (the script skeleton: header, logging,
 * address lookup, fail-closed tail): templates/_partials/<name>.sh.hbs is
 * `{{> name}}`. Compiled once (on first use) with the templates' options: a
 * partial registered as text is compiled again on every render, which cost
 * seconds with thousands of qubes.
 */
const PARTIAL_DIR = `${TEMPLATE_DIR}_partials/`;
for (const file of readdirSync(PARTIAL_DIR)
  .filter((f) => f.endsWith(".hbs"))
  .sort()) {
  hb.registerPartial(file.replace(/\.sh\.hbs$|\.hbs$/, ""), compiled(`_partials/${file}`));
}

const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<name> with `view`; templates are read once per process. */
export function renderTemplate(name: string, view: object): string {
  let template = cache.get(name);
  if (!template) {
    template = compiled(name);
    cache.set(name, template);
  }
  return flattened(template(view));
}

/**
 * Handlebars builds its output by concatenation, which V8 keeps as a tree
 * of the pieces until something reads the string whole (here: the sha256 of
 * the bundle, after every file is rendered). Reading it once now (Number()
 * flattens a string) lets the thousands of pieces of each script die young
 * instead of being copied by every collection until then: less garbage
 * collection, and ~20 MB less peak memory at 10,000 intents.
 */
function flattened(text: string): string {
  Number(text);
  return text;
}

/** A template's source as Handlebars' precompiler writes it (a JavaScript object literal), by qwire's compiler. */
export function precompileTemplate(source: string): string {
  // precompile writes into the options it is given (compile copies them first), hence a copy.
  return hb.precompile(source, { ...COMPILE_OPTIONS }) as unknown as string;
}

export function parseTemplate(source: string): hbs.AST.Program {
  return hb.parse(source);
}
