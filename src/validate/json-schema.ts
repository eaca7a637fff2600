/**
 * `qwire schema`: the JSON Schema of qwire.yaml, generated from the language
 * itself (zod 4's toJSONSchema, input side: what a user may write). Editors
 * use it through a `# yaml-language-server: $schema=...` line for completion
 * and checks as you type; qwire's own validation still decides (values with
 * a grammar, the release's limits and cross-references are qwire's).
 */
import * as z from "zod";
import { DEFAULT_RELEASE, profileOf } from "../release/index.js";
import { documentSchema } from "./sections/document.js";

/** Where the schema is published inside the package and the repository. */
export const SCHEMA_FILE = "schema/qwire.schema.json";
/** The schema of the files qwire.yaml includes and of host overlays (`qwire schema --part`). */
export const PART_SCHEMA_FILE = "schema/qwire-part.schema.json";

/**
 * `include:` (parse/fleet.ts merges the files before validation, so the
 * language itself never sees the key).
 */
const INCLUDE = {
  type: "array",
  items: { type: "string", minLength: 1 },
  description:
    "files merged into this one, relative to it: maps by key, forwards and links by name (not in a host overlay)",
};

/**
 * qwire.yaml (`part: false`), or a file it includes or a host overlay
 * hosts/NAME.yaml (`part: true`): the same keys, but a part needs none of
 * them, and a qwire.yaml with `include:` may get `version` and `qubes` from
 * the files it includes.
 */
export function intentJsonSchema(part = false): Record<string, unknown> {
  // The input side does not depend on the release: any profile gives the same schema.
  const generated = z.toJSONSchema(documentSchema({ profile: profileOf(DEFAULT_RELEASE), warnings: false }), {
    io: "input",
    unrepresentable: "any",
  });
  const { $schema, properties, required, ...rest } = generated;
  return {
    $schema,
    title: part ? "a file qwire.yaml includes, or a host overlay (hosts/NAME.yaml)" : "qwire.yaml",
    description: part
      ? "Part of a qwire.yaml: merged into it by `include:`, or read over it by `qwire build --host NAME`. Any key of qwire.yaml, none required."
      : "Qubes OS networking intents compiled by qwire into a Salt bundle (version 1).",
    ...rest,
    properties: { ...properties, include: INCLUDE },
    // (`properties` repeated with `true` so that strict validators see each required key declared.)
    ...(part
      ? {}
      : {
          anyOf: [
            { required, properties: Object.fromEntries((required ?? []).map((k) => [k, true])) },
            { required: ["include"], properties: { include: true } },
          ],
        }),
  };
}

/** The schema as `qwire schema` (`--part`) prints it and schema/qwire(-part).schema.json holds it. */
export function intentJsonSchemaText(part = false): string {
  return `${JSON.stringify(intentJsonSchema(part), null, 2)}\n`;
}
