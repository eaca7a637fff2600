/**
 * Where qwire's files sit inside a qube, per release (reference
 * qubes-networking.md §3). Shared by every backend: the hook a script runs
 * from depends on the release's hooks, not on nft or iptables.
 *
 * R4.2+: hook directories only (qubes-firewall.d, rc.local.d); the user's
 * rc.local and qubes-firewall-user-script are never edited.
 * R4.1 and older: no rc.local.d, so a marked block in the user's rc.local
 * (R3.2 ProxyVMs: qubes-firewall-user-script) calls qwire's own scripts in
 * /rw/config/qwire/; the block is one line per script, the logic is in the
 * script. Everything outside the markers stays the user's.
 */
import type { GuestKind, Placement, QubePlan } from "../plan/index.js";
import { profileOf } from "../release/index.js";
import type { QubeName, Release } from "../validate/index.js";

export const QWIRE_DIR = "/rw/config/qwire";

const HOOK_PATHS: Record<Placement, string> = {
  "qubes-firewall.d": "/rw/config/qubes-firewall.d/50-qwire",
  "rc.local.d": "/rw/config/rc.local.d/50-qwire.rc",
  "rc.local": `${QWIRE_DIR}/rules.sh`,
  "qubes-firewall-user-script": `${QWIRE_DIR}/rules.sh`,
  "template-qubes-firewall.d": "/etc/qubes/qubes-firewall.d/50-qwire",
};

/** The addresses file of an ordinary qube. */
export const ADDRESSES = `${QWIRE_DIR}/addresses`;

/**
 * Where a guest's files sit in its host, per kind: the hook folder its
 * script goes to (as 50-qwire-<guest>, so guests of one host never collide,
 * and never the host's own 50-qwire) and the folder that holds one
 * sub-folder per guest with its addresses. A disposable template's /rw is
 * copied into each of its disposables; a template's /etc/qubes is what its
 * qubes see after it shuts down.
 */
export const GUEST_LOCATIONS: Readonly<Record<GuestKind, { readonly hookDir: string; readonly dataDir: string }>> = {
  disposable: { hookDir: "/rw/config/qubes-firewall.d", dataDir: `${QWIRE_DIR}/guests` },
  template: { hookDir: "/etc/qubes/qubes-firewall.d", dataDir: "/etc/qubes/qwire" },
};

export const GUEST_SCRIPT_PREFIX = "50-qwire-";

export function guestFiles(
  kind: GuestKind,
  guest: QubeName,
): { readonly script: string; readonly dir: string; readonly addresses: string } {
  const where = GUEST_LOCATIONS[kind];
  const dir = `${where.dataDir}/${guest}`;
  return { script: `${where.hookDir}/${GUEST_SCRIPT_PREFIX}${guest}`, dir, addresses: `${dir}/addresses` };
}

/**
 * Where a qube's files are installed: its rules script and its addresses
 * file, in its host for a guest. The one answer for the bundle's files, its
 * README, plan.json and the CLI's summary.
 */
export function installPaths(
  q: Pick<QubePlan, "qube" | "host" | "placement">,
  layout: Layout,
): { readonly script: string; readonly addresses: string } {
  if (q.host !== undefined) return guestFiles(q.host.kind, q.qube);
  return { script: layout.scriptPath(q.placement), addresses: ADDRESSES };
}

/** Whether a placement's script runs from a hook folder (every file there runs) rather than from a marked block. */
export function runsFromHookFolder(placement: Placement): boolean {
  return placement === "qubes-firewall.d" || placement === "rc.local.d" || placement === "template-qubes-firewall.d";
}

/** The user files a marked block can sit in. */
export type BlockFile = "/rw/config/rc.local" | "/rw/config/qubes-firewall-user-script";

export interface MarkedBlock {
  readonly file: BlockFile;
  /** Shell lines between the markers; empty = the block is taken out of the file, markers included. */
  readonly lines: readonly string[];
}

export const BLOCK_MARKERS = {
  start: "# BEGIN qwire: managed by qubesctl (qwire.vm), do not edit between these markers",
  end: "# END qwire",
} as const;

export interface Layout {
  readonly release: Release;
  /** Whether this release has hook directories only (R4.2+) or needs marked blocks (R4.1 and older). */
  readonly markedBlocks: boolean;
  /** Where a rules script with this placement is installed. */
  scriptPath(placement: Placement): string;
  /** Every place a rules script of this release can be: removed when a qube no longer has one there. */
  readonly scriptPaths: readonly string[];
  /** The qrexec link script of a qube. */
  readonly connectPath: string;
  /** The marked blocks a qube gets (none on R4.2+). */
  blocks(q: Pick<QubePlan, "placement" | "hasPacketRules" | "connects">): MarkedBlock[];
  /** The blocks a qube that carries nothing any more has taken out: every file a block can sit in. */
  emptyBlocks(): MarkedBlock[];
}

export function fileName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function layoutOf(release: Release): Layout {
  const { net, leaf } = profileOf(release).placements;
  const markedBlocks = leaf === "rc.local";
  const connectPath = markedBlocks ? `${QWIRE_DIR}/connect.sh` : "/rw/config/rc.local.d/51-qwire-connect.rc";
  const scriptPaths = [...new Set([HOOK_PATHS[net], HOOK_PATHS[leaf]])];
  /** `if [ -x F ]; then F || :; fi`: a missing script is no error, and a failing one never stops the user's lines after the block. */
  const call = (path: string) => `if [ -x ${path} ]; then ${path} || :; fi`;
  const blockFiles: BlockFile[] =
    net === "qubes-firewall-user-script"
      ? ["/rw/config/rc.local", "/rw/config/qubes-firewall-user-script"]
      : ["/rw/config/rc.local"];
  return {
    release,
    markedBlocks,
    scriptPath: (placement) => HOOK_PATHS[placement],
    scriptPaths,
    connectPath,
    blocks(q) {
      if (!markedBlocks) return [];
      const rc: string[] = [];
      const userScript: string[] = [];
      if (q.hasPacketRules && q.placement === "rc.local") rc.push(call(HOOK_PATHS[q.placement]));
      if (q.hasPacketRules && q.placement === "qubes-firewall-user-script")
        userScript.push(call(HOOK_PATHS[q.placement]));
      if (q.connects.length > 0) rc.push(call(connectPath));
      // A net qube gets no markers in its rc.local unless it starts qrexec links: a stale
      // line there is harmless, as each line only runs a script that still exists.
      const blocks: MarkedBlock[] =
        rc.length > 0 || q.placement === "rc.local" ? [{ file: "/rw/config/rc.local", lines: rc }] : [];
      // R3.2 ProxyVMs: their user script; a block emptied elsewhere would only touch a file the qube never runs.
      if (q.placement === "qubes-firewall-user-script")
        blocks.push({ file: "/rw/config/qubes-firewall-user-script", lines: userScript });
      return blocks;
    },
    emptyBlocks: () => (markedBlocks ? blockFiles.map((file) => ({ file, lines: [] })) : []),
  };
}
