/**
 * A fake dom0 for install.sh, in a private mount namespace: /etc/qubes-release
 * (an overlay on /etc), and tmpfs on /srv, /var/lib and /var/log, so nothing
 * reaches this machine. `qubesctl` is only a recorder of its calls (what
 * install.sh does with the real qubesctl, Salt and qubesadmin is tested in
 * test/real-stack/ with the twin).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { SYSTEM_PATH, removeDir, tempDir, writeExecutable } from "./tools.js";

export interface Dom0Run {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** `find /srv /var/lib/qwire` after the run. */
  readonly left: string;
  readonly qubesctlCalls: string;
}

/**
 * Runs `script` (sh, with $BUNDLE set) in a fresh fake dom0 of release
 * `release`; `bin` holds extra commands put first on PATH.
 */
export async function inDom0(
  bundle: string,
  script: string,
  opts: { release?: string; bin?: Record<string, string> } = {},
): Promise<Dom0Run> {
  const state = await tempDir("dom0");
  try {
    const bin = join(state, "bin");
    await writeExecutable(join(bin, "qubesctl"), '#!/bin/sh\nprintf \'%s\\n\' "$*" >>"$QWT_STATE/qubesctl-calls"\n');
    for (const [name, body] of Object.entries(opts.bin ?? {})) await writeExecutable(join(bin, name), body);
    const setup = [
      "set -e",
      'mount -t tmpfs qwt-ovl "$QWT_STATE/ovl"',
      'mkdir "$QWT_STATE/ovl/upper" "$QWT_STATE/ovl/work"',
      'mount -t overlay qwt-etc -o "lowerdir=/etc,upperdir=$QWT_STATE/ovl/upper,workdir=$QWT_STATE/ovl/work" /etc',
      'printf "Qubes release %s.1 (R%s)\\n" "$QWT_RELEASE" "$QWT_RELEASE" >/etc/qubes-release',
      "for d in /srv /var/lib /var/log; do mount -t tmpfs qwt-dom0 $d; done",
      "mkdir /srv/user_salt /srv/user_pillar",
      "set +e",
      'sh -c "$1"; rc=$?',
      'find /srv /var/lib -mindepth 1 | sort >"$QWT_STATE/left"',
      "exit $rc",
    ].join("\n");
    await execa("mkdir", [join(state, "ovl")]);
    const r = await execa("unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", setup, "qwt", script], {
      reject: false,
      cwd: "/",
      extendEnv: false,
      env: { PATH: `${bin}:${SYSTEM_PATH}`, QWT_STATE: state, QWT_RELEASE: opts.release ?? "4.2", BUNDLE: bundle },
    });
    return {
      exitCode: r.exitCode ?? -1,
      stdout: r.stdout,
      stderr: r.stderr,
      left: await readFile(join(state, "left"), "utf8").catch(() => "(no listing: the wrapper failed)"),
      qubesctlCalls: await readFile(join(state, "qubesctl-calls"), "utf8").catch(() => ""),
    };
  } finally {
    await removeDir(state);
  }
}
