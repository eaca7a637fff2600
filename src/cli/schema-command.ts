/**
 * `qwire schema`: prints the JSON Schema of qwire.yaml (src/validate/json-schema.ts),
 * for editors: save it beside qwire.yaml and start the file with
 * `# yaml-language-server: $schema=./qwire.schema.json`.
 */
import { intentJsonSchemaText } from "../validate/json-schema.js";
import { EXIT } from "./exit-codes.js";

export function runSchema(): number {
  process.stdout.write(intentJsonSchemaText());
  return EXIT.ok;
}
