/**
 * `qwire schema`: the JSON Schema of qwire.yaml, generated from the language
 * itself (zod 4's toJSONSchema, input side: what a user may write). Editors
 * use it through a `# yaml-language-server: $schema=...` line for completion
 * and checks as you type; qwire's own validation still decides (values with
 * a grammar, the release's limits and cross-references are qwire's).
 */
import { z } from "zod";
import { DEFAULT_RELEASE, profileOf } from "../release/index.js";
import { documentSchema } from "./sections/document.js";

/** Where the schema is published inside the package and the repository. */
export const SCHEMA_FILE = "schema/qwire.schema.json";

export function intentJsonSchema(): Record<string, unknown> {
  // The input side does not depend on the release: any profile gives the same schema.
  const generated = z.toJSONSchema(documentSchema({ profile: profileOf(DEFAULT_RELEASE), warnings: false }), { io: "input", unrepresentable: "any" });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: "qwire.yaml",
    description: "Qubes OS networking intents compiled by qwire into a Salt bundle (version 1).",
    ...rest,
  };
}

/** The schema as `qwire schema` prints it and schema/qwire.schema.json holds it. */
export function intentJsonSchemaText(): string {
  return `${JSON.stringify(intentJsonSchema(), null, 2)}\n`;
}
