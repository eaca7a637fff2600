/**
 * `qwire schema`: prints the JSON Schema of qwire.yaml (src/validate/json-schema.ts),
 * for editors: save it beside qwire.yaml and start the file with
 * `# yaml-language-server: $schema=./qwire.schema.json`; `--part` the schema
 * of the files it includes and of host overlays.
 */
import { intentJsonSchemaText } from "../validate/json-schema.js";
import { EXIT } from "./exit-codes.js";

export function runSchema(opts: { part?: boolean }): number {
  process.stdout.write(intentJsonSchemaText(opts.part === true));
  return EXIT.ok;
}
