/**
 * Golden bundles: test/golden/<scenario>/qwire.yaml and the whole expected
 * bundle under expected/. Files are written only with QWIRE_UPDATE_GOLDEN=1,
 * after which the diff is reviewed like code; CI never sets it, so a missing
 * or changed file fails there.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const GOLDEN_DIR = fileURLToPath(new URL("../golden/", import.meta.url));
export const UPDATE = process.env.QWIRE_UPDATE_GOLDEN === "1";

export interface Scenario {
  readonly name: string;
  readonly dir: string;
  readonly yaml: string;
  readonly previousQubes: readonly string[];
}

export function scenarios(): Scenario[] {
  return readdirSync(GOLDEN_DIR)
    .filter((name) => existsSync(join(GOLDEN_DIR, name, "qwire.yaml")))
    .sort()
    .map((name) => {
      const dir = join(GOLDEN_DIR, name);
      const previous = join(dir, "previous-qubes.json");
      return {
        name,
        dir,
        yaml: readFileSync(join(dir, "qwire.yaml"), "utf8"),
        previousQubes: existsSync(previous) ? (JSON.parse(readFileSync(previous, "utf8")) as string[]) : [],
      };
    });
}

export function listFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(root, path).split("\\").join("/"));
    }
  };
  walk(root);
  return out.sort();
}

export function writeExpected(root: string, files: readonly { path: string; content: string }[]): void {
  rmSync(root, { recursive: true, force: true });
  for (const f of files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
  }
}
