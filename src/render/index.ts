/**
 * Stage 5, render: Plan -> the bundle's files (DESIGN.md §3), sorted by path.
 * Formats only; every decision was made in plan/.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plan } from "../plan/index.js";
import { digestOf, type Artifact, type FileEntry, type FileSink } from "./artifact.js";
import type { Backend } from "./backend.js";
import { iptablesBackend } from "./backends/iptables.js";
import { nftBackend } from "./backends/nft.js";
import { renderTemplate } from "./handlebars-env.js";
import { installPaths, layoutOf, type Layout } from "./layout.js";
import { reconnectWords } from "./reconnect.js";
import { installList, QUBE_STATES, sha256sums } from "./install-list.js";
import { removeState, renderSalt } from "./salt.js";
import { sentences } from "./words.js";
import { profileOf } from "../release/index.js";

export type { Artifact, FileEntry, FileSink } from "./artifact.js";

/** salt/ at the package root: hand-written pieces copied into every bundle. */
const SALT_DIR = fileURLToPath(new URL("../../salt/", import.meta.url));

/** plan.json's format: 2 since `intents` holds the plan's decisions (format 1 held sentences); emit reads both. */
export const PLAN_FORMAT = 2;

export function backendFor(plan: Plan): Backend {
  switch (plan.backend) {
    case "nft":
      return nftBackend;
    case "iptables":
      return iptablesBackend;
  }
}

/** What renderTo keeps of the bundle it handed over. */
export interface RenderedBundle {
  /** Each file's path, mode and sha256, in the bundle's order (by path, then SHA256SUMS and plan.json). */
  readonly files: readonly FileEntry[];
  /** The sha256 of plan.json, which covers every other file through SHA256SUMS. */
  readonly digest: string;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The bundle's files, each handed to `write` as soon as it is rendered,
 * keeping back only what the bundle-wide files (install.list, SHA256SUMS,
 * plan.json, rendered last) need of it: its path, mode and sha256 (and the
 * text of the qubes' states, which install.list reads). `qwire build`
 * writes each file and lets it go, so a large bundle (57 MB for 10,000
 * intents) never sits in memory whole.
 */
export function renderTo(plan: Plan, write: FileSink): RenderedBundle {
  const backend = backendFor(plan);
  const files: FileEntry[] = [];
  const states = new Map<string, string>();
  const put = (a: Artifact) => {
    files.push({ path: a.path, mode: a.mode, sha256: digestOf(a) });
    if (a.path.startsWith(QUBE_STATES)) states.set(a.path, a.content);
    write(a);
  };
  renderSalt(plan, backend, put);
  put({ path: "salt/qwire/vm.sls", content: readFileSync(SALT_DIR + "vm.sls", "utf8"), mode: 0o644 });
  // Every bundle carries the teardown: `install.sh --uninstall` applies qwire.remove with it.
  put({ path: `salt/qwire/${backend.teardown.bundleName}`, content: backend.teardown.render(), mode: 0o755 });
  put(removeState(plan, backend));
  const layout = layoutOf(plan.release);
  const view = docsView(plan, layout);
  put({ path: "install.sh", content: renderTemplate("bundle/install.sh.hbs", view), mode: 0o755 });
  put({ path: "README.md", content: renderTemplate("bundle/README.md.hbs", view), mode: 0o644 });
  put(installList(plan, files, states));
  files.sort(byPath);
  // SHA256SUMS covers every file but plan.json; plan.json lists SHA256SUMS: its sha256 is the bundle digest.
  put(sha256sums(files));
  const planFile: Artifact = { path: "plan.json", content: planJson(plan, layout, files), mode: 0o644 };
  put(planFile);
  return { files, digest: digestOf(planFile) };
}

/** The whole bundle in memory (`qwire plan`, simulate, the tests), in the order of renderTo's entries. */
export function render(plan: Plan): Artifact[] {
  const all = new Map<string, Artifact>();
  const { files } = renderTo(plan, (a) => {
    if (all.has(a.path)) throw new Error(`render: ${a.path} rendered twice`);
    all.set(a.path, a);
  });
  return files.map((f) => all.get(f.path)!);
}

function docsView(plan: Plan, layout: Layout) {
  const profile = profileOf(plan.release);
  return {
    release: plan.release,
    isNft: plan.backend === "nft",
    // The template's words for the R4.0 and R3.2 dialects (README.md.hbs).
    isR40: profile.salt.firewall === "qvm-firewall reset",
    isR32: profile.outbound.model === "exceptions",
    addressCommand: `${profile.salt.getPref} <qube> ip`,
    prefsTool: profile.salt.prefs,
    connectPath: layout.connectPath,
    hasPrefs: plan.prefs.length > 0,
    hasCreates: plan.creates.length > 0,
    hasTemplateChecks: plan.creates.some((c) => !c.templateCreated),
    creates: plan.creates.map((c) => ({
      ...c,
      templateForDispvms: plan.prefs.some((p) => p.qube === c.qube && p.templateForDispvms === true),
    })),
    hasFirewalls: plan.firewalls.length > 0,
    hasQrexec: plan.qrexecPolicy.length > 0,
    hasIpv6: plan.ipv6Qubes.length > 0,
    ipv6Qubes: plan.ipv6Qubes,
    qrexecPolicy: plan.qrexecPolicy.map((l) =>
      profile.salt.policy === "qubes-rpc/policy"
        ? `qubes.ConnectTCP+${l.port}: ${l.from} @default allow,target=${l.to}`
        : `qubes.ConnectTCP +${l.port} ${l.from} @default allow target=${l.to}`,
    ),
    firewalls: plan.firewalls.map((f) => ({
      qube: f.qube,
      rules: f.rules,
      inQube: f.r32?.inQube === true,
      inNetvm: f.overflow !== undefined,
      netvm: f.overflow?.netvm ?? "",
      count: String(f.overflow?.rules ?? 0),
      added: f.addedForLinks > 0,
      addedCount: String(f.addedForLinks),
    })),
    hasTargets: plan.targets.length > 0,
    hasPins: plan.pins.size > 0,
    targets: plan.targets,
    targetList: plan.targets.join(","),
    vmApplyCommand: `qubesctl --skip-dom0 --targets=${plan.targets.join(",")} state.apply qwire.vm saltenv=user`,
    hasDefaultNetvm: plan.defaultNetvm !== undefined,
    defaultNetvm: plan.defaultNetvm ?? "",
    prefs: plan.prefs.map((p) => ({
      qube: p.qube,
      providesNetwork: p.providesNetwork === true,
      templateForDispvms: p.templateForDispvms === true,
      noNetvm: p.noNetvm === true,
      hasNetvm: p.netvm !== undefined,
      followsDefault: p.followsDefault === true,
      netvm: p.netvm ?? "",
      hasIp: p.ip !== undefined,
      ip: p.ip ?? "",
    })),
    qubes: plan.qubes.map((q) => ({
      qube: q.qube,
      isGuest: q.host !== undefined,
      host: q.host?.qube ?? "",
      hostIsDisposable: q.host?.kind === "disposable",
      addressesPath: installPaths(q, layout).addresses,
      installedAs: installPaths(q, layout).script,
      isNetQube: q.placement === "qubes-firewall.d" || q.placement === "qubes-firewall-user-script",
      hasAddresses: q.addresses.length > 0,
      hasConnects: q.connects.length > 0,
      hasPacketRules: q.hasPacketRules,
      addresses: q.addresses,
      summary: sentences(q),
      blocks: layout.blocks(q).map((b) => ({ file: b.file, used: b.lines.length > 0 })),
    })),
    teardowns: plan.teardowns,
    hasGuests: plan.qubes.some((q) => q.host !== undefined),
    hasDisposableGuests: plan.qubes.some((q) => q.host?.kind === "disposable"),
    guestNames: plan.qubes.filter((q) => q.host !== undefined).map((q) => q.qube),
    guests: plan.qubes
      .filter((q) => q.host !== undefined)
      .map((q) => ({ qube: q.qube, host: q.host!.qube, disposable: q.host!.kind === "disposable" })),
    formerHosts: plan.hosts.filter((h) => h.guests.length === 0).map((h) => h.host),
    hasReconnect: plan.reconnect.length > 0,
    reconnect: plan.reconnect.flatMap((r) => reconnectWords(plan.release, r)),
  };
}

/**
 * Machine-readable plan. `qubes` (with the files each carries) is what the
 * next build reads to know which qubes need a teardown.
 */
function planJson(plan: Plan, layout: Layout, files: readonly FileEntry[]): string {
  const doc = {
    generator: "qwire",
    format: PLAN_FORMAT,
    release: plan.release,
    backend: plan.backend,
    targets: plan.targets,
    dom0: {
      prefs: plan.prefs,
      ...(plan.creates.length > 0 ? { creates: plan.creates } : {}),
      firewalls: plan.firewalls,
      qrexecPolicy: plan.qrexecPolicy,
    },
    qubes: plan.qubes.map((q) => ({
      name: q.qube,
      connects: q.connects,
      placement: q.placement,
      // A guest's script is in its host, at this path.
      ...(q.host === undefined ? {} : { host: q.host.qube, hostKind: q.host.kind }),
      script: q.hasPacketRules ? installPaths(q, layout).script : null,
      addresses: q.addresses,
      intents: q.decisions,
    })),
    // Read by the next build: a host that loses all its guests gets their files removed.
    ...(plan.hosts.some((h) => h.guests.length > 0)
      ? {
          hosts: plan.hosts
            .filter((h) => h.guests.length > 0)
            .map((h) => ({ name: h.host, guests: h.guests.map((g) => g.qube) })),
        }
      : {}),
    teardowns: plan.teardowns.map((t) => t.qube),
    files: files.map((f) => ({
      path: f.path,
      mode: f.mode.toString(8).padStart(4, "0"),
      sha256: f.sha256,
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
