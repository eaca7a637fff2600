/** Reads the intents file for a command; a file that cannot be read is QW1003, exit 1. */
import { readFile } from "node:fs/promises";
import type { SourceFile } from "../parse/index.js";
import { EXIT } from "./exit-codes.js";

export async function readSource(file: string): Promise<SourceFile | number> {
  try {
    return { name: file, text: await readFile(file, "utf8") };
  } catch (e) {
    process.stderr.write(`qwire: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (QW1003)\n`);
    return EXIT.diagnostics;
  }
}
