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
import { BLOCKS } from "./template-blocks.js";
import { type CompiledSpec, type Partials, runtimeTemplate, type Template } from "./template-runtime.js";

/** templates/ at the package root, next to dist/ and src/. */
export const TEMPLATE_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

// Handlebars' compiler only: templates run on template-runtime.ts and call qwire's helpers and blocks directly
// (QwireCompiler, below), never Handlebars' own helpers.
const hb = Handlebars.create();

/** Handlebars' block helpers whose blocks qwire's compiled code runs itself (template-blocks.ts). */
const INLINE_BLOCKS = new Set(["if", "unless", "each"]);

/**
 * A block's code as Handlebars writes it into a helper's options:
 * `container.program(index, data, declared block parameters[, blockParams][, depths])`.
 */
const PROGRAM = /^container\.program\((\d+), data, (\d+)(?:, blockParams)?(?:, depths)?\)$/;

/**
 * qwire's compiler: Handlebars' own, with four changes to the code it writes
 * (none to what a template renders). A 10,000-intent bundle makes about a
 * million helper calls, and each was allocating and calling more than its
 * helper does:
 *
 * - A name (a helper, a field of the view, a partial) is read as
 *   `parent["name"]`, not through a call of Handlebars' `lookupProperty`,
 *   which guards against untrusted templates reading inherited properties.
 *   qwire's templates are its own (test/templates-lint.test.ts) and read only
 *   own fields of views it builds as plain objects and arrays. nameLookup is
 *   the compiler's documented override point.
 * - A helper call's options carry no `loc` (its line and column in the
 *   template, three objects per call), which only error messages of helpers
 *   that read it use: qwire's name the value they refuse themselves.
 * - A call of one of qwire's helpers is a plain call of the function itself,
 *   with the template's values only: not through the wrapper Handlebars makes
 *   for every helper on every render, which copies `arguments` to add to the
 *   options object none of them reads.
 * - {{#if}}, {{#unless}} and {{#each}} run their blocks through
 *   template-blocks.ts: no wrapper, options object or closure per call, one
 *   data frame per {{#each}} (see there).
 * Every template is compiled this way, from dist/templates.js or, under the
 * tests and for a template edited since the build, from its file
 * (compiled()): the tests render with the code qwire ships.
 *
 * Instructions of a whole `qwire build` (valgrind, which varies by ~3%
 * between runs): the first three, 3.65 -> 3.24-3.37 billion at 1,000 intents
 * over 200 qubes; with the view fix of script-view.ts, 20.9 -> 18.3 billion
 * at 10,000 intents over 2,000 qubes.
 * test/precompiled-templates.test.ts renders every golden bundle through
 * dist/ byte for byte.
 */
interface HandlebarsCompiler {
  options: { data?: boolean };
  useDepths?: boolean;
  useBlockParams?: boolean;
  objectLiteral(obj: Record<string, unknown>): unknown;
  invokeKnownHelper(paramSize: number, name: string): void;
  setupHelper(paramSize: number, name: string): { name: unknown; params: unknown[]; callParams: unknown[] };
  setupParams(helper: string, paramSize: number, params: unknown[]): Record<string, unknown>;
  push(code: unknown): void;
  source: { functionCall(fn: unknown, type: string, params: unknown[]): unknown };
}
const Compiler = (hb as unknown as { JavaScriptCompiler: new () => HandlebarsCompiler }).JavaScriptCompiler;
class QwireCompiler extends Compiler {
  /** The options setupParams made for the helper call being compiled. */
  private lastOptions: Record<string, unknown> = {};

  nameLookup(parent: unknown, name: string, type: string): unknown[] {
    if (type === "helper" && Object.hasOwn(HELPERS, name)) return [`${HELPERS_BINDING}[`, JSON.stringify(name), "]"];
    return [parent, "[", JSON.stringify(name), "]"];
  }

  override objectLiteral(obj: Record<string, unknown>): unknown {
    // The location literal Handlebars adds to a helper's options ({"start":...,"end":...}), not a hash parameter named loc.
    if (typeof obj.loc === "string" && obj.loc.startsWith('{"start":')) delete obj.loc;
    return super.objectLiteral(obj);
  }

  override setupParams(helper: string, paramSize: number, params: unknown[]): Record<string, unknown> {
    this.lastOptions = super.setupParams(helper, paramSize, params);
    return this.lastOptions;
  }

  override invokeKnownHelper(paramSize: number, name: string): void {
    if (Object.hasOwn(HELPERS, name)) {
      // params: the template's values, then Handlebars' options object, which qwire's helpers never read.
      const helper = this.setupHelper(paramSize, name);
      this.push(this.source.functionCall(helper.name, "", helper.params.slice(0, -1)));
      return;
    }
    if (!INLINE_BLOCKS.has(name))
      throw new Error(`templates: {{${name}}} is a Handlebars helper qwire does not provide`);
    const helper = this.setupHelper(paramSize, name);
    const options = this.lastOptions;
    const [fn, inverse] = [options.fn ?? "container.noop", options.inverse ?? "container.noop"].map(programIndex);
    if (this.useBlockParams === true || fn === "block parameters" || inverse === "block parameters")
      throw new Error(`templates: {{#${name}}} with block parameters (as |x|)`);
    if (paramSize !== 1 || options.hash !== "{}" || fn === undefined || inverse === undefined)
      throw new Error(`templates: {{#${name}}} takes one value and no hash= in qwire's templates`);
    if (this.options.data === false) throw new Error("templates: qwire's blocks need Handlebars' data frames");
    const [context, value] = [helper.callParams[0], helper.params[0]];
    const [then, otherwise] = name === "unless" ? [inverse, fn] : [fn, inverse];
    // What every block runs in: the context of the call, its data frame, the enclosing contexts (for ../).
    const around = [context, "data", this.useDepths === true ? "depths" : "undefined"];
    const call = (block: keyof typeof BLOCKS, args: unknown[]) =>
      this.source.functionCall(`${BLOCKS_BINDING}.${block}`, "", args);
    this.push(
      name === "each"
        ? call("each", ["container", value, String(fn), String(inverse), ...around])
        : [
            "(",
            call("truthy", [value]),
            " ? ",
            call("run", ["container", String(then), ...around]),
            " : ",
            call("run", ["container", String(otherwise), ...around]),
            ")",
          ],
    );
  }
}

/**
 * The index of a block's program from its code (PROGRAM): -1 for none
 * (`container.noop`), "block parameters" for a block that declares them,
 * undefined for code qwire does not know.
 */
function programIndex(code: unknown): number | "block parameters" | undefined {
  if (code === "container.noop") return -1;
  const m = typeof code === "string" ? PROGRAM.exec(code) : null;
  if (m === null) return undefined;
  return m[2] === "0" ? Number(m[1]) : "block parameters";
}

// The compiler of a template's nested blocks ({{#each}} bodies), as Handlebars' documentation of the override shows.
(QwireCompiler.prototype as unknown as { compiler: unknown }).compiler = QwireCompiler;
(hb as unknown as { JavaScriptCompiler: typeof QwireCompiler }).JavaScriptCompiler = QwireCompiler;

/** Changes when the code the templates compile to changes (part of templateKey). */
const COMPILER = "qwire-compiler-2";

/** The names of dist/templates.js's parameters that hold HELPERS (helpers.ts) and BLOCKS (template-blocks.ts). */
export const HELPERS_BINDING = "QWIRE_HELPERS";
export const BLOCKS_BINDING = "QWIRE_BLOCKS";

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
  readonly spec: CompiledSpec;
}

/**
 * dist/templates.js, written by `npm run build`: parsing and compiling the
 * templates took a third of a second of every build. Absent when qwire runs
 * from src/ (the tests): then every template is compiled from its file.
 * Found next to dist/render/ and dist/bin/ alike (both one folder below
 * dist/). Its templates call the HELPERS and BLOCKS given here: the module
 * imports nothing, so the bundle (dist/bin/) loads no second copy of them. A
 * templates.js of an older build, without that function, counts as absent
 * (the build that follows rewrites it).
 */
const PRECOMPILED: Readonly<Record<string, Precompiled>> = await import(
  new URL("../templates.js", import.meta.url).href
).then(
  (m: { templates?: unknown }) =>
    typeof m.templates === "function"
      ? (m.templates as (helpers: typeof HELPERS, blocks: typeof BLOCKS) => Record<string, Precompiled>)(
          HELPERS,
          BLOCKS,
        )
      : {},
  (e: NodeJS.ErrnoException) => {
    if (e.code === "ERR_MODULE_NOT_FOUND") return {};
    throw e;
  },
);

/**
 * Partials shared between backends (the script skeleton: header, logging,
 * address lookup, fail-closed tail): templates/_partials/<name>.sh.hbs is
 * `{{> name}}`. Each is compiled once, when this module loads (a partial
 * registered as text would be compiled again on every render, which cost
 * seconds with thousands of qubes); no prototype, so that a name a template
 * gets wrong is a missing partial, not an inherited field.
 */
const PARTIALS: Partials = Object.create(null) as Partials;

/**
 * templates/<name>: its precompiled form when that was compiled from the
 * same text (a template edited since the build is compiled from the file).
 */
function compiled(name: string): Template {
  const source = readFileSync(TEMPLATE_DIR + name, "utf8");
  const pre = PRECOMPILED[name];
  return runtimeTemplate(
    name,
    pre !== undefined && pre.key === templateKey(source) ? pre.spec : specOf(source),
    PARTIALS,
  );
}

/**
 * A template's code from its text, compiled to what dist/templates.js would
 * hold for it and made a function as Handlebars' own compile() makes the
 * code it writes one (with Function): the code of a template of qwire's,
 * never of any input.
 */
function specOf(source: string): CompiledSpec {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const spec = new Function(HELPERS_BINDING, BLOCKS_BINDING, `return ${precompileTemplate(source)};`) as (
    helpers: typeof HELPERS,
    blocks: typeof BLOCKS,
  ) => CompiledSpec;
  return spec(HELPERS, BLOCKS);
}

/**
 * A template from its text, rendered as renderTemplate renders one. Its
 * partials are templates/_partials', or those given (name -> text).
 */
export function compileTemplate(source: string, partials?: Readonly<Record<string, string>>): (view: object) => string {
  let registry = PARTIALS;
  if (partials !== undefined) {
    registry = Object.create(null) as Partials;
    for (const [name, text] of Object.entries(partials))
      registry[name] = runtimeTemplate(name, specOf(text), registry).partial;
  }
  return runtimeTemplate("a template", specOf(source), registry).render;
}

const PARTIAL_DIR = `${TEMPLATE_DIR}_partials/`;
for (const file of readdirSync(PARTIAL_DIR)
  .filter((f) => f.endsWith(".hbs"))
  .sort()) {
  PARTIALS[file.replace(/\.sh\.hbs$|\.hbs$/, "")] = compiled(`_partials/${file}`).partial;
}

const cache = new Map<string, Template>();

/** Renders templates/<name> with `view`; templates are read once per process. */
export function renderTemplate(name: string, view: object): string {
  let template = cache.get(name);
  if (!template) {
    template = compiled(name);
    cache.set(name, template);
  }
  return flattened(template.render(view));
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

/**
 * A template's source as Handlebars' precompiler writes it (a JavaScript
 * object literal), by qwire's compiler, for a module that holds HELPERS as
 * HELPERS_BINDING.
 */
export function precompileTemplate(source: string): string {
  // precompile writes into the options it is given (compile copies them first), hence a copy.
  const options = { ...COMPILE_OPTIONS } as PrecompileOptions;
  return hb.precompile(source, options) as unknown as string;
}

export function parseTemplate(source: string): hbs.AST.Program {
  return hb.parse(source);
}
