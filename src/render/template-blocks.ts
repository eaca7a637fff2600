/**
 * The run-time half of qwire's {{#if}}, {{#unless}} and {{#each}}: the
 * templates' compiled code (handlebars-env.ts) calls these instead of
 * Handlebars' built-in helpers, with the same result.
 *
 * Why: Handlebars calls a block helper through a wrapper that rewrites its
 * `arguments`, with a new options object and a new closure for each of its
 * blocks on every call, and copies the data frame (@index, @first) for every
 * {{#each}}; the wrappers of all helpers are made again for every template
 * rendered. A 10,000-intent bundle makes about a million such calls: a fifth
 * of the memory a build allocates, and the collections that go with it.
 * Here a block is a plain call of its compiled program.
 *
 * The same meaning as Handlebars 4.7's helpers (helpers/if.js, each.js and
 * runtime.js's wrapProgram), for what qwire's views hold: plain data, no
 * functions, arrays to iterate. Anything else is refused (a qwire bug).
 */
import { TemplateValueError } from "./helpers.js";
import type { Container } from "./template-runtime.js";

/** Views are data: a function in one would be called by Handlebars' helpers, and is a qwire bug here. */
function assertPlain(helper: string, value: unknown): void {
  if (typeof value === "function") throw new TemplateValueError(`${helper}: refusing a function in a view`);
}

export const BLOCKS = {
  /** {{#if}}'s test: falsy values (0 included) and empty arrays take the {{else}}. */
  truthy(value: unknown): boolean {
    assertPlain("if", value);
    return Boolean(value) && !(Array.isArray(value) && value.length === 0);
  },

  /** A block in the same context as the one around it ({{#if}}, {{#unless}}, an empty {{#each}}'s {{else}}). */
  run(container: Container, index: number, context: unknown, data: unknown, depths?: readonly unknown[]): string {
    if (index < 0) return "";
    return container.fn(index)(container, context, container.helpers, container.partials, data, undefined, depths);
  },

  /**
   * {{#each list}}: the block once per element, with @index, @first, @last
   * and @key in a data frame of its own; the {{else}} block (index < 0: none)
   * when the list is empty or absent. `../` reaches the enclosing contexts
   * through `depths`, as in Handlebars.
   */
  each(
    container: Container,
    list: unknown,
    index: number,
    inverse: number,
    context: unknown,
    data: unknown,
    depths?: readonly unknown[],
  ): string {
    assertPlain("each", list);
    if (list !== undefined && list !== null && list !== false && !Array.isArray(list))
      throw new TemplateValueError(
        `each: refusing ${typeof list} ${JSON.stringify(list)}; qwire's views iterate arrays`,
      );
    const items = (list || []) as readonly unknown[];
    if (items.length === 0) return BLOCKS.run(container, inverse, context, data, depths);
    const fn = container.fn(index);
    // Handlebars' createFrame (a copy of the frame's own fields, and _parent), as one object literal: V8 copies
    // it in one step rather than field by field.
    const frame: Record<string, unknown> | undefined = data ? { ...data, _parent: data } : undefined;
    let out = "";
    for (let i = 0; i < items.length; i++) {
      if (!(i in items)) continue; // a hole: skipped, as Handlebars does
      const item = items[i];
      if (frame !== undefined) {
        frame.key = i;
        frame.index = i;
        frame.first = i === 0;
        frame.last = i === items.length - 1;
      }
      // wrapProgram: a block's own context goes in front of the enclosing ones when it differs.
      const inner =
        depths !== undefined && item != depths[0] && !(item === container.nullContext && depths[0] === null)
          ? [item, ...depths]
          : depths;
      out += fn(container, item, container.helpers, container.partials, frame ?? data, undefined, inner);
    }
    return out;
  },
};
