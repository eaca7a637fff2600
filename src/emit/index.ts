/**
 * Stage 6, emit: the only stage that writes. All or nothing: the bundle is
 * written beside the target folder and renamed into place, so a failure
 * leaves the previous bundle as it was. A folder that is not a qwire bundle
 * is never overwritten.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile, chmod } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Artifact } from "../render/index.js";

export class EmitError extends Error {
  override readonly name = "EmitError";
}

export async function emit(dir: string, artifacts: readonly Artifact[]): Promise<void> {
  const target = resolve(dir);
  await assertOwnedByQwire(target);
  const staging = `${target}.qwire-new-${process.pid}`;
  const old = `${target}.qwire-old-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    for (const a of artifacts) {
      const path = join(staging, ...a.path.split("/"));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, a.content, { mode: a.mode });
      await chmod(path, a.mode); // the umask must not change what reviewers see
    }
    let hadOld = true;
    try {
      await rename(target, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      hadOld = false;
    }
    await rename(staging, target);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/** Empty, missing, or holding a plan.json written by qwire. */
async function assertOwnedByQwire(target: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code === "ENOTDIR") throw new EmitError(`${target} exists and is not a folder; choose another -o`);
    throw e;
  }
  if (entries.length === 0) return;
  if ((await readPreviousPlan(target)) === undefined) {
    throw new EmitError(`${target} is not empty and holds no qwire plan.json; qwire will not overwrite it (choose another -o)`);
  }
}

export interface PreviousPlan {
  /** Qubes that carried qwire files in that build. */
  readonly qubes: readonly string[];
  /** Hosts of guest net qubes in that build (absent before qwire knew guests). */
  readonly hosts: readonly string[];
  /** The file as read (its path and text), for diagnostics that point into it. */
  readonly source: { readonly name: string; readonly text: string };
}

/** The plan.json formats whose qubes and hosts this qwire reads, for teardowns. */
export const READABLE_PLAN_FORMATS: readonly number[] = [1, 2];

/** The plan.json of an earlier build in `dir`, or undefined when there is none. */
export async function readPreviousPlan(dir: string): Promise<PreviousPlan | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, "plan.json"), "utf8");
  } catch {
    return undefined;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new EmitError(`${join(dir, "plan.json")} is not valid JSON; remove it or choose another -o`);
  }
  const d = doc as { generator?: unknown; format?: unknown; qubes?: unknown };
  if (d.generator !== "qwire" || !Array.isArray(d.qubes)) return undefined;
  // Format 1 held sentences in `intents`, format 2 decisions; both list qubes and hosts the same way.
  if (!READABLE_PLAN_FORMATS.includes(d.format as number)) {
    throw new EmitError(`${join(dir, "plan.json")} has plan format ${JSON.stringify(d.format)}, which this qwire cannot read (it reads ${READABLE_PLAN_FORMATS.join(" and ")}); build into a fresh folder`);
  }
  const qubes = d.qubes.map((q: { name?: unknown }) => q?.name);
  if (!qubes.every((q): q is string => typeof q === "string")) {
    throw new EmitError(`${join(dir, "plan.json")} lists a qube without a name; remove it or choose another -o`);
  }
  const rawHosts: unknown[] = Array.isArray((d as { hosts?: unknown }).hosts) ? ((d as { hosts: unknown[] }).hosts) : [];
  const hosts = rawHosts.map((h) => (h as { name?: unknown } | null)?.name);
  if (!hosts.every((h): h is string => typeof h === "string")) {
    throw new EmitError(`${join(dir, "plan.json")} lists a host without a name; remove it or choose another -o`);
  }
  return { qubes, hosts, source: { name: join(dir, "plan.json"), text } };
}
