/**
 * `qwire schema`: prints the JSON Schema of qwire.yaml (src/validate/json-schema.ts),
 * for editors: save it beside qwire.yaml and start the file with
 * `# yaml-language-server: $schema=./qwire.schema.json`.
 */
import type { Command } from "commander";
import { EXIT } from "./exit-codes.js";

export function addSchemaCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command("schema")
    .description("print the JSON Schema of qwire.yaml, for editors (completion and checks as you type)")
    .addHelpText(
      "after",
      "\nExample:\n  qwire schema > qwire.schema.json\n" +
        "  then start qwire.yaml with: # yaml-language-server: $schema=./qwire.schema.json\n" +
        "The schema checks the shape; `qwire check` still decides (values, the release's limits, references).",
    )
    .action(async () => {
      // Loaded here: zod's JSON Schema generator is needed by this command only.
      const { intentJsonSchemaText } = await import("../validate/json-schema.js");
      process.stdout.write(intentJsonSchemaText());
      setCode(EXIT.ok);
    });
}
