/**
 * The run-time half of qwire's compiled templates: the container their code
 * (handlebars-env.ts's compiler) reads, made once per template, and the calls
 * of partials ({{> name}}).
 *
 * Why not Handlebars' template(): it sets a template up again on every
 * render. Each call merges the registered helpers into a new object and wraps
 * each in a new closure, builds a prototype-access policy and a decorator
 * table, and runs the template through a decorator wrapper; each partial
 * goes through three more functions, each with a copy of its options. A
 * 10,000-intent bundle renders ~2,000 scripts, each with five or more
 * partials, and none of that setup differs between them: qwire's templates
 * call its helpers and blocks directly and use no decorators, inline
 * partials, block parameters or indented partials (each refused here).
 *
 * What a template renders is what Handlebars 4.7 renders (runtime.js's
 * template() and invokePartial()): the data frame of a render is { root:
 * view }, a partial runs in its caller's context and data frame, with its
 * hash= values over the context, and `../` starts from the template's own
 * context. test/unit/template-blocks.test.ts compares them with stock
 * Handlebars.
 */
/** A compiled program (a template's main or one of its blocks), as Handlebars' compiler writes it. */
type Program = (
  container: Container,
  context: unknown,
  helpers: unknown,
  partials: Partials,
  data: unknown,
  blockParams: undefined,
  depths: readonly unknown[] | undefined,
) => string;

/** A template as Handlebars' precompiler writes it: `main`, its blocks by index, and what its code uses. */
export interface CompiledSpec {
  readonly main: Program;
  readonly [block: number]: Program;
  readonly useData?: boolean;
  readonly useDepths?: boolean;
  readonly useDecorators?: boolean;
  readonly useBlockParams?: boolean;
}

/** A partial as its callers' code runs it: in their context (with hash= over it) and data frame. */
type Partial = (context: unknown, data: unknown) => string;

/** The partials a template's code finds by name (`partials["name"]`). */
export type Partials = Record<string, Partial>;

/** What the code of a partial call passes (`container.invokePartial(partial, depth0, {...})`). */
interface PartialCall {
  readonly name: string;
  readonly data: unknown;
  readonly hash?: Record<string, unknown>;
  readonly indent?: string;
}

/**
 * What a template's code and template-blocks.ts read of its container. The
 * last four are for a value a template prints without a helper (`{{name}}`,
 * `{{this}}`, `{{@../index}}`), which qwire's own templates never do
 * (test/templates-lint.test.ts): as in Handlebars' runtime.js.
 */
export interface Container {
  fn(index: number): Program;
  readonly helpers: unknown;
  readonly partials: Partials;
  readonly decorators: unknown;
  readonly nullContext: object;
  invokePartial(partial: Partial | undefined, context: unknown, call: PartialCall): string;
  strict(parent: unknown, name: string): unknown;
  lookupProperty(parent: unknown, name: string): unknown;
  lambda(value: unknown, context: unknown): unknown;
  data(frame: unknown, depth: number): unknown;
}

/** A template ready to run: a whole render of a view, or a call as a partial. */
export interface Template {
  readonly render: (view: object) => string;
  readonly partial: Partial;
}

/** Helpers are called directly by the compiled code: the `helpers` it passes along are never read. */
const NO_HELPERS: Readonly<Record<string, never>> = Object.freeze({});

/** A field of a view: its own fields only (Handlebars also refuses inherited ones, with a warning). */
function lookupProperty(parent: unknown, name: string): unknown {
  return parent !== null && parent !== undefined && Object.hasOwn(parent, name)
    ? (parent as Record<string, unknown>)[name]
    : undefined;
}

/** strict: true: a field the view does not have is an error, not an empty string. */
function strict(parent: unknown, name: string): unknown {
  if (typeof parent !== "object" || parent === null || !(name in parent))
    throw new Error(`templates: "${name}" not defined in ${String(parent)}`);
  return lookupProperty(parent, name);
}

function lambda(value: unknown, context: unknown): unknown {
  return typeof value === "function" ? (value as (this: unknown) => unknown).call(context) : value;
}

/** The data frame `depth` levels up (`@../index`). */
function data(frame: unknown, depth: number): unknown {
  let value = frame as { _parent?: unknown } | undefined;
  while (value && depth--) value = value._parent as typeof value;
  return value;
}

function invokePartial(partial: Partial | undefined, context: unknown, call: PartialCall): string {
  if (partial === undefined) throw new Error(`templates: the partial ${call.name} could not be found`);
  if (call.indent !== undefined)
    throw new Error(`templates: {{> ${call.name}}} is indented, which qwire's runtime does not do`);
  // Handlebars' Utils.extend({}, context, hash): own enumerable fields, the hash's last.
  const inner = call.hash === undefined ? context : { ...(context as object), ...call.hash };
  return partial(inner, call.data);
}

/**
 * A template of `spec`, finding its partials in `partials` (filled in by
 * the caller, before the first render). `name` is for errors only.
 */
export function runtimeTemplate(name: string, spec: CompiledSpec, partials: Partials): Template {
  if (spec.useDecorators === true || spec.useBlockParams === true || Object.keys(spec).some((k) => k.endsWith("_d")))
    throw new Error(`templates: ${name} uses decorators or block parameters, which qwire's runtime does not run`);
  const container: Container = {
    fn: (index) => spec[index]!,
    helpers: NO_HELPERS,
    partials,
    decorators: NO_HELPERS,
    nullContext: Object.seal({}),
    invokePartial,
    strict,
    lookupProperty,
    lambda,
    data,
  };
  const depths = (context: unknown) => (spec.useDepths === true ? [context] : undefined);
  return {
    render: (view) =>
      spec.main(
        container,
        view,
        NO_HELPERS,
        partials,
        spec.useData === true ? { root: view } : undefined,
        undefined,
        depths(view),
      ),
    partial: (context, data) => spec.main(container, context, NO_HELPERS, partials, data, undefined, depths(context)),
  };
}
