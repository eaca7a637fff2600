/**
 * Stage 6, emit: the only stage that writes. All or nothing: the bundle is
 * written into a sibling folder `<dir>.qwire-new-<pid>` and swapped
 * in with two renames (`<dir>` -> `<dir>.qwire-old-<pid>`, then the new one
 * -> `<dir>`). A folder that is not a qwire bundle is never overwritten.
 *
 * What a build killed at any point leaves (tested by killing a real build at
 * every file operation, test/real-tools/emit-faults.test.ts):
 * - before the first rename: `<dir>` is the previous bundle, untouched;
 * - between the two renames (the one window Linux leaves, as Node has no
 *   renameat2(RENAME_EXCHANGE)): no `<dir>`, the previous bundle whole in
 *   `<dir>.qwire-old-<pid>` and the new one whole in `<dir>.qwire-new-<pid>`;
 * - after the second rename: `<dir>` is the complete new bundle.
 * recoverOutput(), run before every build, puts the previous bundle back in
 * the window case and removes the leftovers of builds that are no longer
 * running, so the next build sees the right plan.json and never refuses.
 * A full disk or a read-only folder fails before the first rename (nothing to
 * undo but the staging folder); a failed second rename is undone.
 * Files are not fsynced (that tripled the time of a build): the claim is
 * about a killed or failing build, not about a power cut.
 * The file operations are synchronous calls, one after another in the main
 * thread: a bundle of 2,000 qubes has ~6,000 files, and the promise API
 * made each mkdir/open/write/chmod/close a thread-pool round trip (most of
 * a 10,000-intent build was spent waiting on them).
 * `qwire build` writes each file as soon as it is rendered
 * (emitAsProduced): the staging folder fills while render runs, and a
 * rendered file is let go once written, so a build holds its plan, not its
 * bundle (peak RSS of a 10,000-intent build: 256 -> 177 MiB).
 */
import {
  closeSync,
  fchmodSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Artifact, FileSink } from "../render/index.js";

export class EmitError extends Error {
  override readonly name = "EmitError";
}

/** A sibling folder left by a build: `<name>.qwire-new-<pid>` or `<name>.qwire-old-<pid>`. */
interface Leftover {
  readonly path: string;
  readonly kind: "new" | "old";
  readonly pid: number;
}

export function emit(dir: string, artifacts: readonly Artifact[]): void {
  emitAsProduced(dir, (write) => {
    for (const a of artifacts) write(a);
  });
}

/**
 * emit() for files as they are produced: `produce` gets the function that
 * writes one file into the staging folder and calls it for each, as soon as
 * it has the file (`qwire build` renders straight into it, so no file is
 * kept once written). All or nothing as emit(): the folder is swapped in
 * only after `produce` has returned; should it throw, the staging folder is
 * removed and `dir` is unchanged (a file-system error is reported as an
 * EmitError, any other error goes on as it is). Returns what `produce`
 * returns.
 */
export function emitAsProduced<T>(dir: string, produce: (write: FileSink) => T): T {
  const target = resolve(dir);
  recoverOutput(target);
  assertOwnedByQwire(target);
  const staging = `${target}.qwire-new-${process.pid}`;
  const old = `${target}.qwire-old-${process.pid}`;
  let result: T;
  try {
    result = produce(stagingWriter(staging));
  } catch (e) {
    removeQuietly(staging);
    throw ioError(e, `cannot write the new bundle beside ${target}`, `${target} is unchanged`);
  }
  let hadOld = true;
  try {
    renameSync(target, old);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") {
      removeQuietly(staging);
      throw ioError(e, `cannot move ${target} aside to replace it`, `${target} is unchanged`);
    }
    hadOld = false;
  }
  try {
    renameSync(staging, target);
  } catch (e) {
    // Put the previous bundle back; should that fail too, recoverOutput() does it next time.
    if (hadOld) {
      try {
        renameSync(old, target);
      } catch {
        // left for recoverOutput()
      }
    }
    removeQuietly(staging);
    throw ioError(e, `cannot move the new bundle to ${target}`, `${target} is unchanged`);
  }
  // The new bundle is in place; a failure to delete the old one is only clutter,
  // which the next build removes.
  if (hadOld) removeQuietly(old);
  return result;
}

/** Removes a folder of ours, ignoring failure (what is left is removed by the next build). */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // clutter only
  }
}

/**
 * Undoes what an interrupted build left beside `dir` (see the header) and
 * returns one sentence per repair, for the CLI to show. Leftovers of a build
 * whose process still runs are left alone.
 */
export function recoverOutput(dir: string): string[] {
  const target = resolve(dir);
  const leftovers = leftoversOf(target).filter((l) => !isRunning(l.pid));
  if (leftovers.length === 0) return [];
  const notes: string[] = [];
  try {
    if (!exists(target)) {
      // Killed between the two renames: the previous bundle is whole in .qwire-old-<pid>.
      const old = leftovers.find((l) => l.kind === "old");
      if (old) {
        renameSync(old.path, target);
        notes.push(
          `${target} was missing after an interrupted build; restored the previous bundle from ${basename(old.path)}`,
        );
      }
    }
    for (const l of leftovers) {
      if (!exists(l.path)) continue;
      rmSync(l.path, { recursive: true, force: true });
      notes.push(`removed ${basename(l.path)}, left by an interrupted build`);
    }
  } catch (e) {
    throw ioError(
      e,
      `cannot clean up after an interrupted build beside ${target}`,
      "remove the *.qwire-new-* and *.qwire-old-* folders by hand",
    );
  }
  return notes;
}

/** Makes the staging folder and returns the function that writes one file into it. */
function stagingWriter(staging: string): FileSink {
  makeFolder(staging); // also the parents of -o, as before
  // Folders made so far: most files share theirs, and each mkdir is a system call.
  const made = new Set<string>([staging]);
  return (a) => {
    const path = join(staging, ...a.path.split("/"));
    const folder = dirname(path);
    if (!made.has(folder)) {
      makeFolder(folder);
      made.add(folder);
    }
    const fd = openSync(path, "wx", a.mode);
    try {
      writeFileSync(fd, a.content); // loops over short writes (a nearly full disk), unlike writeSync
      fchmodSync(fd, a.mode); // the umask must not change what reviewers see
    } finally {
      closeSync(fd);
    }
  };
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir reports ENOENT for a
 * full disk or a read-only file system, which would make the message lie.
 */
function makeFolder(path: string): void {
  try {
    mkdirSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "ENOENT" || dirname(path) === path) throw e;
    makeFolder(dirname(path));
    try {
      mkdirSync(path);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== "EEXIST") throw again;
    }
  }
}

function leftoversOf(target: string): Leftover[] {
  const prefix = `${basename(target)}.qwire-`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return []; // the parent is missing or unreadable: emit reports that when it writes
  }
  const found: Leftover[] = [];
  for (const name of names.sort()) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(new|old)-([1-9][0-9]{0,9})$/.exec(name.slice(prefix.length));
    if (m) found.push({ path: join(dirname(target), name), kind: m[1] as "new" | "old", pid: Number(m[2]) });
  }
  return found;
}

/** Whether a process with this id exists (another build writing beside the same folder). */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return false; // our own earlier emit in this process has finished
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function exists(path: string): boolean {
  try {
    readdirSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    return true;
  }
}

/** File-system errors as EmitError, which the CLI shows as one line (no stack trace). */
function ioError(e: unknown, what: string, state: string): unknown {
  if (e instanceof EmitError) return e;
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== "string") return e;
  const reason = ERRNO_WORDS[err.code] ?? err.message;
  return new EmitError(`${what}: ${err.code} (${reason}); ${state}`);
}

const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EBUSY: "the folder is a mount point or in use; choose a folder inside it with -o",
  EXDEV: "the folder is on another file system than its parent",
};

/** Empty, missing, or holding a plan.json written by qwire. */
function assertOwnedByQwire(target: string): void {
  let entries: string[];
  try {
    entries = readdirSync(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code === "ENOTDIR") throw new EmitError(`${target} exists and is not a folder; choose another -o`);
    throw ioError(e, `cannot read ${target}`, `${target} is unchanged`);
  }
  if (entries.length === 0) return;
  if (previousPlanIn(target, readText(join(target, "plan.json"))) === undefined) {
    throw new EmitError(
      `${target} is not empty and holds no qwire plan.json; qwire will not overwrite it (choose another -o)`,
    );
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
  return previousPlanIn(dir, await readFile(join(dir, "plan.json"), "utf8").catch(() => undefined));
}

/** A file's text, or undefined when it cannot be read. */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** What `text` (dir's plan.json, undefined when it could not be read) says of the earlier build. */
function previousPlanIn(dir: string, text: string | undefined): PreviousPlan | undefined {
  if (text === undefined) return undefined;
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
    throw new EmitError(
      `${join(dir, "plan.json")} has plan format ${JSON.stringify(d.format)}, which this qwire cannot read (it reads ${READABLE_PLAN_FORMATS.join(" and ")}); build into a fresh folder`,
    );
  }
  const qubes = d.qubes.map((q: { name?: unknown }) => q?.name);
  if (!qubes.every((q): q is string => typeof q === "string")) {
    throw new EmitError(`${join(dir, "plan.json")} lists a qube without a name; remove it or choose another -o`);
  }
  const rawHosts: unknown[] = Array.isArray((d as { hosts?: unknown }).hosts) ? (d as { hosts: unknown[] }).hosts : [];
  const hosts = rawHosts.map((h) => (h as { name?: unknown } | null)?.name);
  if (!hosts.every((h): h is string => typeof h === "string")) {
    throw new EmitError(`${join(dir, "plan.json")} lists a host without a name; remove it or choose another -o`);
  }
  return { qubes, hosts, source: { name: join(dir, "plan.json"), text } };
}
