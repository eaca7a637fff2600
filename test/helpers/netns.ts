/**
 * A "qube" for tests: a fresh network namespace holding the Qubes base
 * nftables tables, in which a generated qwire script runs for real, as root,
 * with /rw bind-mounted from a temp folder (the scripts read the hard-coded
 * /rw/config/qwire/addresses). Needs root, ip, unshare and /usr/sbin/nft.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { downstreamElements, qubesFirewallTable, qubesTable } from "../../src/simulate/model/qubes-tables.js";
import { NFT, SYSTEM_PATH, removeDir, tempDir, writeExecutable, type QubeScript } from "./tools.js";

/**
 * Names unique per test file and process (`qwt-<pid>-<n>`), so test files
 * running in parallel never share a namespace. Remembers what it created so
 * that afterEach can delete everything, also after a failed assertion.
 */
export class NetnsPool {
  private next = 0;
  private readonly live = new Set<string>();

  async create(): Promise<string> {
    const name = `qwt-${process.pid}-${this.next++}`;
    await execa("ip", ["netns", "add", name]);
    this.live.add(name);
    return name;
  }

  async deleteAll(): Promise<void> {
    for (const name of this.live) {
      await execa("ip", ["netns", "delete", name], { reject: false });
      this.live.delete(name);
    }
  }
}

/** Runs /usr/sbin/nft inside the namespace; throws with nft's message on failure. */
export async function nftIn(ns: string, args: readonly string[], input?: string): Promise<string> {
  const r = await execa("ip", ["netns", "exec", ns, NFT, ...args], input === undefined ? {} : { input });
  return r.stdout;
}

export async function listRuleset(ns: string): Promise<string> {
  return nftIn(ns, ["list", "ruleset"]);
}

export async function listTable(ns: string, table: string): Promise<string> {
  return nftIn(ns, ["list", "table", "ip", table]);
}

/** A downstream qube as a net qube sees it: its vif and address. */
export interface Attached {
  readonly vif: string;
  readonly address: string;
}

/**
 * Loads what Qubes R4.2 has in a qube before qwire runs: `table ip qubes`
 * (with the downstream qubes' addresses a net qube's vif-route-qubes adds)
 * and, in net qubes, `table ip qubes-firewall`.
 */
export async function loadQubesBase(
  ns: string,
  opts: { netQube: boolean; downstream?: readonly Attached[] },
): Promise<void> {
  const downstream = opts.downstream ?? [];
  let rules = qubesTable() + downstream.map((d) => downstreamElements(d.vif, d.address)).join("");
  if (opts.netQube)
    rules += qubesFirewallTable(
      "4.2",
      downstream.map((d) => ({ address: d.address })),
    );
  await nftIn(ns, ["-f", "-"], rules);
}

export interface ScriptRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** How many `nft -f` transactions the nft wrapper checked with `nft -c` first. */
  readonly nftChecks: number;
  /** Lines the script sent to `logger`. */
  readonly logged: string;
  /** Whether anything ran the `reboot` stub (command injection through an address). */
  readonly rebootCalled: boolean;
}

/**
 * Test doubles put first on PATH:
 * - nft: every transaction loaded with -f/--file is first dry-run with
 *   `nft -c` and the same arguments, so a transaction nft would reject in
 *   check mode fails the run even if the real load happened to pass (a
 *   script's own dry run, -c, is passed through: it loads nothing);
 * - logger: records what the script logs (its message, or each line of stdin) instead of writing to the host's syslog;
 * - reboot: records that it ran (it must never run);
 * - qubesdb-read: answers /name with the qube name the run was given (none: fails, as outside Qubes).
 */
const STUBS: Readonly<Record<string, string>> = {
  nft: `#!/bin/sh
for arg in "$@"; do
	case $arg in
	-c | --check) exec ${NFT} "$@" ;;
	esac
done
for arg in "$@"; do
	case $arg in
	-f | --file)
		${NFT} -c "$@" || exit $?
		echo "$*" >>"$QWT_STATE/nft-checks"
		break
		;;
	esac
done
exec ${NFT} "$@"
`,
  // As util-linux logger: the message is the words after the options, or else each line of stdin.
  logger: `#!/bin/sh
while [ $# -gt 0 ]; do
	case $1 in
	-t | -p) shift 2 ;;
	--) shift; break ;;
	-*) shift ;;
	*) break ;;
	esac
done
if [ $# -gt 0 ]; then
	printf '%s\\n' "$*" >>"$QWT_STATE/logger"
else
	cat >>"$QWT_STATE/logger"
fi
`,
  reboot: `#!/bin/sh
echo called >>"$QWT_STATE/reboot"
exit 1
`,
  "qubesdb-read": `#!/bin/sh
if [ "$1" = /name ] && [ -n "\${QWT_NAME-}" ]; then
	printf '%s\n' "$QWT_NAME"
	exit 0
fi
exit 1
`,
};

/** How runInQube sets the qube up besides the script. */
export interface QubeOptions {
  /** Where the addresses go (under /rw); default /rw/config/qwire/addresses. */
  readonly addressesPath?: string;
  /** What `qubesdb-read /name` answers; unset: it fails. */
  readonly name?: string;
  /** Arguments of the script (e.g. --salt). */
  readonly args?: readonly string[];
  /** A host folder mounted on the qube's /run, kept between runs (a qube's /run lives until it stops); default: a fresh one. */
  readonly run?: string;
  /** A host folder mounted on the qube's /rw, kept between runs (a qube's private volume outlives a reboot); default: a fresh one. */
  readonly rw?: string;
}

async function readOr(path: string, fallback: string): Promise<string> {
  return readFile(path, "utf8").catch(() => fallback);
}

/** A generated script, installed where qubesctl puts it in a qube. */
export function installed(script: QubeScript): { path: string; content: string } {
  return { path: `/rw/config/${script.placement}/${script.fileName}`, content: script.content };
}

/** The teardown script (teardown-nft in a bundle), installed where the teardown state puts it. */
export function installedTeardown(content: string): { path: string; content: string } {
  return { path: "/rw/config/qwire/teardown", content };
}

/**
 * Installs `file` at its path under /rw (in a temp folder), with `addresses`
 * as /rw/config/qwire/addresses (no such file when undefined), then executes
 * it in the namespace, in a private mount namespace where the temp folder is
 * bind-mounted on /rw. Never throws on the exit code: the caller asserts on it.
 */
export async function runInQube(
  ns: string,
  file: { path: string; content: string },
  addresses: string | undefined,
  options: QubeOptions = {},
): Promise<ScriptRun> {
  if (!file.path.startsWith("/rw/")) throw new Error(`not under /rw: ${file.path}`);
  const addressesPath = options.addressesPath ?? "/rw/config/qwire/addresses";
  if (!addressesPath.startsWith("/rw/")) throw new Error(`not under /rw: ${addressesPath}`);
  const rw = options.rw ?? (await tempDir("rw"));
  const state = await tempDir("state");
  const run = options.run ?? (await tempDir("run"));
  try {
    await mkdir(join(rw, "config", "qwire"), { recursive: true });
    if (addresses !== undefined) {
      await mkdir(dirname(join(rw, addressesPath.slice("/rw/".length))), { recursive: true });
      await writeFile(join(rw, addressesPath.slice("/rw/".length)), addresses);
    }
    await writeExecutable(join(rw, file.path.slice("/rw/".length)), file.content);
    for (const [name, body] of Object.entries(STUBS)) await writeExecutable(join(state, "bin", name), body);
    // The bind mount needs a mount point; /rw exists in a qube, not here.
    await mkdir("/rw", { recursive: true });

    const r = await execa(
      "ip",
      [
        "netns",
        "exec",
        ns,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        'mount --bind "$1" /rw && mount --bind "$2" /run && shift 2 && exec "$@"',
        "qwt",
        rw,
        run,
        file.path,
        ...(options.args ?? []),
      ],
      {
        reject: false,
        extendEnv: false,
        env: {
          PATH: `${join(state, "bin")}:${SYSTEM_PATH}`,
          QWT_STATE: state,
          ...(options.name === undefined ? {} : { QWT_NAME: options.name }),
        },
      },
    );
    const checks = await readOr(join(state, "nft-checks"), "");
    return {
      exitCode: r.exitCode ?? -1,
      stdout: r.stdout,
      stderr: r.stderr,
      nftChecks: checks.split("\n").filter(Boolean).length,
      logged: await readOr(join(state, "logger"), ""),
      rebootCalled: (await readOr(join(state, "reboot"), "")) !== "",
    };
  } finally {
    if (options.rw === undefined) await removeDir(rw);
    await removeDir(state);
    if (options.run === undefined) await removeDir(run);
  }
}

/**
 * The blocks of one `nft list table` listing, by "chain NAME" / "set NAME",
 * each the lines between its braces ("" when empty). nft indents a block's
 * content with two tabs and closes it with one tab and "}", so braces of
 * anonymous sets inside rules do not confuse it.
 */
export function tableBlocks(listing: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of listing.matchAll(/^\t(chain|set|map) (\S+) \{\n((?:\t\t.*\n)*)\t\}$/gm)) {
    blocks.set(`${m[1]} ${m[2]}`, m[3]!.replace(/\n$/, ""));
  }
  return blocks;
}

/** Whether a block of `table ip qubes` belongs to qwire. */
const isQwireBlock = (key: string) => /^(chain|set|map) qwire-/.test(key);

/**
 * How `table ip qubes` changed from `before` to `after` outside qwire's own
 * chains and sets, one readable line per difference. Empty when the only
 * change is exactly one `jump qwire-forward` in custom-forward and one
 * `jump qwire-input` in custom-input (`withJumps`), or nothing at all.
 * Needs a `before` in which custom-forward/custom-input are empty, as Qubes ships them.
 */
export function baseTableChanges(before: string, after: string, withJumps: boolean): string[] {
  const was = tableBlocks(before);
  const now = tableBlocks(after);
  const jumps: Record<string, string> = withJumps
    ? { "chain custom-forward": "\t\tjump qwire-forward", "chain custom-input": "\t\tjump qwire-input" }
    : {};
  const changes: string[] = [];
  for (const [key, body] of was) {
    if (isQwireBlock(key)) continue;
    const expected = jumps[key] ?? body;
    const actual = now.get(key);
    if (actual !== expected) changes.push(`${key}: expected\n${expected}\ngot\n${actual ?? "(missing)"}`);
  }
  for (const key of now.keys()) {
    if (!was.has(key) && !isQwireBlock(key)) changes.push(`${key}: new, and not qwire's`);
  }
  return changes;
}

/** qwire's chains and sets present in a `table ip qubes` listing. */
export function qwireBlocks(listing: string): string[] {
  return [...tableBlocks(listing).keys()].filter(isQwireBlock);
}

/** A ruleset listing without `table ip qubes`: the tables qwire must never touch. */
export function otherTables(ruleset: string): string {
  return ruleset.replace(/^table ip qubes \{\n[\s\S]*?^\}\n?/m, "");
}

/** Only qwire's chains and sets of a `table ip qubes` listing, as "chain NAME {...}" text. */
export function qwirePart(listing: string): string {
  return [...tableBlocks(listing)]
    .filter(([key]) => isQwireBlock(key))
    .map(([key, body]) => `${key} {\n${body}\n}`)
    .join("\n");
}
