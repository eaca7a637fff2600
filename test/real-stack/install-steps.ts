/**
 * install.sh runs in the twin's dom0 (shared/twin/run.sh --exec): one shell
 * script of steps, each one's output between markers, and readers for what
 * install.sh prints (the qubes it targets, the verdict line of a qube).
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Stack } from "./stack.js";

/** One step of the exec script: its output between markers. */
export function step(out: string, name: string): { text: string; rc: number } {
  const m = new RegExp(`=== ${name} ===\\n([\\s\\S]*?)\\n=== ${name} rc=(\\d+)`).exec(out);
  if (!m) throw new Error(`step ${name} not found in the twin's output:\n${out.slice(-6000)}`);
  return { text: m[1]!, rc: Number(m[2]) };
}

/** The qubes of the VM phase ("==> Qubes a b c: installing ..."), or [] when none. */
export function targeted(text: string): string[] {
  const m = /^==> Qubes (.*): (installing|removing)/m.exec(text);
  return m ? m[1]!.split(" ") : [];
}

export function verdict(text: string, qube: string): string {
  const m = new RegExp(`^  ${qube.replace(/\./g, "\\.")} +(\\S+) +(.*)$`, "m").exec(
    text.slice(text.lastIndexOf("==> Verdict")),
  );
  return m ? `${m[1]} ${m[2]}` : "(no verdict line)";
}

/** What a real dom0 has and the twin's lacks (qubes-prefs, qvm-remove, qvm-shutdown...): run first in twinExec scripts. */
export const TWIN_DOM0_GAPS = readFileSync(fileURLToPath(new URL("twin-dom0-gaps.sh", import.meta.url)), "utf8");

/** Runs `script` in the dom0 of `stack`'s twin after provisioning it from `inventory`; the bundles are under `root`. */
export async function twinExec(
  stack: Stack,
  root: string,
  name: string,
  inventory: string,
  script: string,
): Promise<string> {
  await writeFile(join(root, `${name}.yaml`), inventory);
  const r = await execa(
    "sh",
    [
      join(stack.twinDir, "run.sh"),
      join(root, "a"),
      join(root, `${name}.yaml`),
      "--out",
      join(root, `out-${name}`),
      "--exec",
      script,
    ],
    {
      reject: false,
      env: { QWIRE_VENDOR_TARBALLS: stack.tarballs },
      timeout: 30 * 60_000,
      input: "",
    },
  );
  return `${r.stdout}\n${r.stderr}`;
}

export const run = (name: string, command: string) => `echo "=== ${name} ==="; ${command}; echo "=== ${name} rc=$?"`;
