/**
 * Shared pieces for the tests that run real tools (nft, shellcheck, yamllint,
 * Python's Jinja2) on a compiled bundle: temp folders, writing a bundle to
 * disk, finding its scripts, and small stub commands put first on PATH.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Artifact } from "../../src/render/artifact.js";

/** Absolute paths, so the pyenv python3 or any other PATH entry is never picked up. */
export const NFT = "/usr/sbin/nft";
export const PYTHON = "/usr/bin/python3";
export const SHELLCHECK = "/usr/bin/shellcheck";
export const YAMLLINT = "/usr/bin/yamllint";

/** The PATH the stubs are prepended to: system tools only. */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** An IPv4 address a Qubes qube or DispVM gets by default (10.137.x.y, 10.138.x.y). */
export const QUBES_IP = /\b10\.13[78]\.\d{1,3}\.\d{1,3}\b/g;

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `qwt-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function writeExecutable(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chmod(path, 0o755);
}

/** Writes a bundle as `qwire build` would (same relative paths and modes). */
export async function writeBundle(artifacts: readonly Artifact[], dir: string): Promise<void> {
  for (const a of artifacts) {
    const path = join(dir, a.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, a.content);
    await chmod(path, a.mode);
  }
}

/** A script the bundle installs in a qube (salt/qwire/files/<stem>/50-qwire[.rc]). */
export interface QubeScript {
  readonly stem: string;
  readonly fileName: string;
  /** The folder under /rw/config it is installed in. */
  readonly placement: "qubes-firewall.d" | "rc.local.d";
  readonly content: string;
}

export function scriptsOf(artifacts: readonly Artifact[]): QubeScript[] {
  const scripts: QubeScript[] = [];
  for (const a of artifacts) {
    const m = /^salt\/qwire\/files\/([^/]+)\/(50-qwire(\.rc)?)$/.exec(a.path);
    if (!m) continue;
    const [, stem, fileName, rc] = m;
    scripts.push({
      stem: stem!,
      fileName: fileName!,
      placement: rc ? "rc.local.d" : "qubes-firewall.d",
      content: a.content,
    });
  }
  return scripts;
}

export function scriptOf(artifacts: readonly Artifact[], stem: string): QubeScript {
  const s = scriptsOf(artifacts).find((x) => x.stem === stem);
  if (!s) throw new Error(`no script for ${stem} in the bundle: ${artifacts.map((a) => a.path).join(", ")}`);
  return s;
}

/** "<qube> <ip>\n" lines, the format of /rw/config/qwire/addresses. */
export function addressesFile(entries: Readonly<Record<string, string>>): string {
  return Object.entries(entries)
    .map(([qube, ip]) => `${qube} ${ip}\n`)
    .join("");
}
