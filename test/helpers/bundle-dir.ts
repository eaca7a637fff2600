/**
 * A bundle folder as data (relative path -> bytes and mode), from disk or
 * from a compile, so the emit tests can say "this folder is exactly that
 * build" in one comparison; and a build done the way `qwire build` does it
 * (recover, read the previous plan.json, compile, emit), in-process.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { emit, readPreviousPlan, recoverOutput } from "../../src/emit/index.js";
import type { Artifact } from "../../src/render/artifact.js";
import { compileOk } from "./compile.js";

export type BundleSnapshot = Readonly<Record<string, string>>;

/** "<mode> <content>" per path, sorted: files only (folders follow from the paths). */
export async function snapshotDir(dir: string): Promise<BundleSnapshot> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const entry of (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else
        out[path] =
          `${((await stat(join(dir, path))).mode & 0o777).toString(8)} ${await readFile(join(dir, path), "utf8")}`;
    }
  };
  await walk("");
  return out;
}

export function snapshotOf(artifacts: readonly Artifact[]): BundleSnapshot {
  const out: Record<string, string> = {};
  for (const a of [...artifacts].sort((x, y) => x.path.localeCompare(y.path)))
    out[a.path] = `${a.mode.toString(8)} ${a.content}`;
  return out;
}

/** What `qwire build yaml -o dir` does, without the process: returns the repairs recoverOutput made. */
export async function buildInto(yaml: string, dir: string): Promise<string[]> {
  const notes = recoverOutput(dir);
  const previous = await readPreviousPlan(dir);
  const built = compileOk(yaml, { previousQubes: previous?.qubes ?? [], previousHosts: previous?.hosts ?? [] });
  emit(dir, built.artifacts);
  return notes;
}

/** The bundle of `yaml` built over the bundle of `before` (or into an empty folder). */
export function expectedBundle(
  yaml: string,
  before?: readonly Artifact[],
): { artifacts: readonly Artifact[]; snapshot: BundleSnapshot } {
  const plan =
    before &&
    (JSON.parse(before.find((a) => a.path === "plan.json")!.content) as {
      qubes: { name: string }[];
      hosts?: { name: string }[];
    });
  const built = compileOk(yaml, {
    previousQubes: plan ? plan.qubes.map((q) => q.name) : [],
    previousHosts: plan ? (plan.hosts ?? []).map((h) => h.name) : [],
  });
  return { artifacts: built.artifacts, snapshot: snapshotOf(built.artifacts) };
}
