/**
 * The real management stack (shared/twin: real qubesctl, Salt 3006, qvm.*
 * states, qubesadmin, salt-ssh into each qube; see its README) as the
 * real-stack tests use it: where it is, which bundles to run, and one run
 * of several bundles applied one after the other to one twin machine
 * (twin-sequence.py), read back as typed data.
 */
import { existsSync, readdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { SYSTEMCTL } from "../../src/simulate/apply/qrexec-stubs.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "../..");

export interface Stack {
  readonly twinDir: string;
  readonly tarballs: string;
}

/**
 * The stack, or why it is absent: root, the twin ($QWIRE_TWIN_DIR, else
 * ../shared/twin beside the repository, as CI lays it out, else
 * /work/shared/twin beside a worktree) and the vendor tarballs
 * ($QWIRE_VENDOR_TARBALLS, else the vendor folder beside the twin, where
 * shared/vendor/pack.sh writes them and the twin's run.sh looks by default,
 * else /root/qwire-vendor).
 */
export function findStack(): Stack | { readonly absent: string } {
  if (process.getuid?.() !== 0) return { absent: "not root (the twin needs mount and network namespaces)" };
  const twins = [process.env.QWIRE_TWIN_DIR, join(REPO, "../shared/twin"), "/work/shared/twin"].filter(
    (d): d is string => d !== undefined,
  );
  const twinDir = twins.find((d) => existsSync(join(d, "twin.py")) && existsSync(join(d, "../vendor/setup.sh")));
  if (twinDir === undefined) return { absent: `no twin in ${twins.join(" or ")}` };
  const folders =
    process.env.QWIRE_VENDOR_TARBALLS !== undefined
      ? [process.env.QWIRE_VENDOR_TARBALLS]
      : [join(twinDir, "../vendor"), "/root/qwire-vendor"];
  const tarballs = folders.find((d) => existsSync(d) && readdirSync(d).some((f) => /^salt-.*\.tar\.xz$/.test(f)));
  if (tarballs === undefined) {
    return {
      absent: `no vendor tarballs in ${folders.join(" or ")} (set QWIRE_VENDOR_TARBALLS; shared/vendor/README.md says how to make them)`,
    };
  }
  return { twinDir, tarballs };
}

/** The stack `findStack` found, where a test runs only when it is present (a skipped block never calls this). */
export function present(found: Stack | { readonly absent: string }): Stack {
  if ("absent" in found) throw new Error(`the real stack is absent: ${found.absent}`);
  return found;
}

/** The scenarios: every golden and every formula, by name. */
export function allScenarios(): { name: string; file: string }[] {
  const goldens = readdirSync(join(REPO, "test/golden"))
    .filter((d) => existsSync(join(REPO, "test/golden", d, "qwire.yaml")))
    .map((d) => ({ name: d, file: join(REPO, "test/golden", d, "qwire.yaml") }));
  const formulas = readdirSync(join(REPO, "formulas"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => ({ name: `formula-${f.slice(0, -".yaml".length)}`, file: join(REPO, "formulas", f) }));
  return [...goldens, ...formulas].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * What CI runs (.ci/run sets QWIRE_REAL_STACK=ci): one bundle per kind of
 * thing the stack checks (nft forwards on R4.2, qvm.firewall outbound lists,
 * iptables with rc.local blocks on R4.1, two forwards through one firewall).
 * (qrexec links run too, under the systemctl stand-in runSequence installs
 * in the twin's qubes: lan-web-https-r41, qrexec-links, formula-qrexec-ssh.)
 * QWIRE_REAL_STACK=all runs every scenario (npm run test:real-stack),
 * a comma list names them; unset or 0 runs none (a scenario takes minutes
 * of both cores, too much for every local `npm test` on a shared machine).
 */
export const CI_SCENARIOS = [
  "lan-web-https",
  "outbound-policy",
  "teardown-removed-qube-r41",
  "two-forwards-shared-firewall",
];

export function selectedScenarios(): { name: string; file: string }[] {
  const all = allScenarios();
  const choice = process.env.QWIRE_REAL_STACK ?? "0";
  if (choice === "0" || choice === "") return [];
  if (choice === "all") return all;
  const names = choice === "ci" ? CI_SCENARIOS : choice.split(",").map((s) => s.trim());
  return all.filter((s) => names.includes(s.name));
}

export interface StateResult {
  readonly id: string;
  readonly fun: string;
  readonly result: boolean | null;
  readonly changed: boolean;
  readonly comment: string;
  /** A cmd.run's stderr ("" for other states). */
  readonly stderr: string;
}

export interface RwFile {
  readonly mode: string;
  readonly size: number;
  readonly sha256: string;
  readonly text?: string;
}

export interface ModelDomain {
  readonly class: string;
  readonly state: string;
  readonly props: Record<string, unknown>;
  readonly features?: Record<string, string>;
  readonly firewall?: string[];
}

export interface Step {
  readonly label: string;
  readonly kind: "apply" | "apply-all" | "dry-run" | "vm";
  readonly rc: number;
  readonly stdout: string;
  readonly stderr: string;
  /** "dom0" and each qube; null for a qube that gave no state result. */
  readonly states: Record<string, StateResult[] | null>;
  readonly rw?: Record<string, Record<string, RwFile>>;
  readonly nft?: Record<string, string>;
  readonly model?: { domains: Record<string, ModelDomain> };
}

export interface Sequence {
  readonly steps: Step[];
  readonly provision_failed: string[];
  readonly secs: number;
  readonly out: string;
}

/** STEP: `BUNDLE_DIR:apply`, `BUNDLE_DIR:apply-all` (every qube targeted, as `install.sh --all`), `BUNDLE_DIR:dry-run` or `vm:QUBE`, run in order on one twin machine. */
export async function runSequence(
  stack: Stack,
  out: string,
  inventory: string,
  steps: readonly string[],
  /** Qubes that get a network card (`ens6`, a veth), as a real sys-net has; the twin's qubes have only lo. */
  cards: readonly string[] = [],
): Promise<Sequence> {
  // The twin's qubes run no systemd: a qrexec link's socket units get the stand-in qwire simulate uses.
  const systemctl = join(out, "systemctl");
  await writeFile(systemctl, SYSTEMCTL);
  const args = ["--out", out, "--inventory", inventory, "--systemctl", systemctl];
  for (const q of cards) args.push("--card", q);
  await execa("sh", [join(HERE, "twin-sequence.sh"), stack.twinDir, ...args, ...steps], {
    env: { QWIRE_VENDOR_TARBALLS: stack.tarballs },
    stdout: ["pipe", { file: join(out, "twin.log") }],
    stderr: ["pipe", { file: join(out, "twin.log"), append: true }],
    reject: false,
  });
  const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as Omit<Sequence, "out">;
  return { ...summary, out };
}

/** Every state of a step, labelled with where it ran. */
export function statesOf(step: Step): { where: string; state: StateResult }[] {
  return Object.entries(step.states).flatMap(([where, states]) => (states ?? []).map((state) => ({ where, state })));
}

export const describeState = (s: { where: string; state: StateResult }) =>
  `${s.where} ${s.state.id} (${s.state.fun}): ${s.state.comment}`;
