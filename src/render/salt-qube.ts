/**
 * The states qwire.vm applies inside a qube: its script and addresses under
 * /rw/config, the run that loads them, qrexec link sockets, marked blocks
 * (R4.1 and older), a host's guest files, and the teardown of a qube that
 * no longer carries anything.
 */
import type { GuestKind, HostPlan, QubePlan, Teardown } from "../plan/index.js";
import type { QubeName } from "../validate/index.js";
import type { Backend } from "./backend.js";
import {
  ADDRESSES,
  BLOCK_MARKERS,
  fileName,
  type BlockFile,
  GUEST_LOCATIONS,
  GUEST_SCRIPT_PREFIX,
  guestFiles,
  layoutOf,
  QWIRE_DIR,
  type Layout,
  type MarkedBlock,
} from "./layout.js";
import type { Artifact } from "./artifact.js";
import { oneCommand, saltShell, type StaleGuestsView } from "./salt-shell.js";
import { state, type SaltStates, type StateArgs } from "./salt-states.js";
import type { Plan } from "../plan/index.js";
import { dumpYaml } from "./yaml.js";

// In /run (tmpfs): it outlives the removal of /rw/config/qwire it runs before,
// so a second apply of a teardown finds it in place and changes nothing; a
// reboot forgets it.
const TEARDOWN = "/run/qwire/teardown";

const ROOT_OWNED = { user: "root", group: "root" } as const;

/**
 * A host: each guest's script and addresses, where the guest finds them at
 * its next start; nothing is run here (the guard would skip it anyway).
 * Files of guests it no longer holds are removed by one cmd.run that lists
 * qwire's guest files other than the current ones.
 */
export function hostState(h: HostPlan): SaltStates {
  const p = (suffix: string) => `qwire-${h.stem}-${suffix}`;
  const states: SaltStates = {};
  for (const { qube, kind } of h.guests) {
    const g = (suffix: string) => p(`guest-${saltKey(qube)}-${suffix}`);
    const where = guestFiles(kind, qube);
    states[g("dir")] = state("file.directory", {
      name: where.dir,
      ...ROOT_OWNED,
      mode: "0755",
      makedirs: true,
      ...(h.teardown ? { require: [{ file: p("remove-dir") }] } : {}),
    });
    states[g("addresses")] = state("file.managed", {
      name: where.addresses,
      contents_pillar: `qwire:guests:${qube}:addresses`,
      ...ROOT_OWNED,
      mode: "0644",
      require: [{ file: g("dir") }],
    });
    states[g("script")] = state("file.managed", {
      name: where.script,
      source: `salt://qwire/files/${h.stem}/${fileName(where.script)}`,
      ...ROOT_OWNED,
      mode: "0755",
      makedirs: true,
    });
  }
  const stale = staleGuests(h.guests);
  states[p("stale-guests")] = state("cmd.run", {
    name: saltShell("remove-stale-guests", stale),
    onlyif: saltShell("any-stale-guests", stale),
  });
  return states;
}

/** Where qwire's guest files can be in a host, and those of `guests` (to keep). */
function staleGuests(guests: HostPlan["guests"]): StaleGuestsView {
  const named = (kind: GuestKind, prefix: string) => guests.filter((g) => g.kind === kind).map((g) => prefix + g.qube);
  return {
    kinds: (Object.keys(GUEST_LOCATIONS) as GuestKind[]).map((kind) => ({
      hookDir: GUEST_LOCATIONS[kind].hookDir,
      scriptGlob: `${GUEST_SCRIPT_PREFIX}*`,
      keepScripts: named(kind, GUEST_SCRIPT_PREFIX),
      dataDir: GUEST_LOCATIONS[kind].dataDir,
      keepData: named(kind, ""),
    })),
  };
}

/** A qube name as part of a Salt state ID. */
function saltKey(name: QubeName): string {
  return name.replace(/\./g, "_");
}

export function qubeState(q: QubePlan, backend: Backend, layout: Layout): SaltStates {
  const p = (suffix: string) => `qwire-${q.stem}-${suffix}`;
  return {
    ...(q.hasPacketRules ? packetRuleStates(q, layout, p) : noPacketRuleStates(backend, layout, p)),
    ...connectStates(q, layout, p),
    ...blockStates(layout.blocks(q), p),
  };
}

/** State IDs of the removal of each script path: the R4.2 names stay as they were. */
function removeIds(paths: readonly string[]): string[] {
  return paths.map((_, i) => (i === 0 ? "remove-hooks" : i === 1 ? "remove-rc" : `remove-script-${i}`));
}

/**
 * A qube that carries qrexec links only: if an earlier bundle gave it packet
 * rules, delete qwire's chains and sets and its hook, so no port stays open.
 */
function noPacketRuleStates(backend: Backend, layout: Layout, p: (suffix: string) => string): SaltStates {
  const hooks = layout.scriptPaths;
  const ids = removeIds(hooks);
  const states: SaltStates = {
    [p("teardown-script")]: teardownScriptState(backend),
    [p("teardown-rules")]: state("cmd.run", {
      ...statefulRun(TEARDOWN, ["rules"]),
      onlyif: saltShell("any-exists", { paths: hooks }),
      require: [{ file: p("teardown-script") }],
    }),
  };
  hooks.forEach(
    (h, i) => (states[p(ids[i]!)] = state("file.absent", { name: h, require: [{ cmd: p("teardown-rules") }] })),
  );
  states[p("remove-addresses")] = state("file.absent", { name: ADDRESSES });
  return states;
}

function teardownScriptState(backend: Backend) {
  return state("file.managed", {
    name: TEARDOWN,
    source: `salt://qwire/${backend.teardown.bundleName}`,
    ...ROOT_OWNED,
    mode: "0755",
    makedirs: true,
  });
}

function packetRuleStates(q: QubePlan, layout: Layout, p: (suffix: string) => string): SaltStates {
  const script = layout.scriptPath(q.placement);
  const others = layout.scriptPaths.filter((h) => h !== script);
  const states: SaltStates = {
    [p("dir")]: state("file.directory", { name: QWIRE_DIR, ...ROOT_OWNED, mode: "0755" }),
    [p("addresses")]: state("file.managed", {
      name: ADDRESSES,
      contents_pillar: "qwire:addresses",
      ...ROOT_OWNED,
      mode: "0644",
      require: [{ file: p("dir") }],
    }),
    [p("script")]: state("file.managed", {
      name: script,
      source: `salt://qwire/files/${q.stem}/${fileName(script)}`,
      ...ROOT_OWNED,
      mode: "0755",
      makedirs: true,
    }),
  };
  // A net qube that became a leaf (or the reverse) must not keep the old hook.
  const otherIds = others.map((_, i) => (i === 0 ? "other-hook" : `other-hook-${i}`));
  others.forEach((h, i) => (states[p(otherIds[i]!)] = state("file.absent", { name: h })));
  // Run on every apply, not only on changes: this reloads rules that were
  // lost (flushed, firewall restarted) or that a failed run (missing address)
  // left out. The script reports to Salt whether it loaded anything.
  states[p("load")] = state("cmd.run", {
    ...statefulRun(script),
    require: [{ file: p("addresses") }, { file: p("script") }, ...otherIds.map((id) => ({ file: p(id) }))],
  });
  return states;
}

/**
 * A qwire script run by Salt's stateful protocol (salt/states/cmd.py): with
 * `--salt` it loads only what is not live yet and ends its stdout with
 * `changed=yes|no comment='...'`, so an apply that changes nothing reports
 * nothing; under test=True Salt runs `--salt-test`, which only reports.
 * `onlyif` the script is there: a dry run before the first install has no
 * script to ask (file.managed only says it would write it), and a real
 * apply checks it after file.managed wrote it, so it always runs there.
 */
function statefulRun(
  path: string,
  args: readonly string[] = [],
): Pick<StateArgs<"cmd.run">, "name" | "stateful" | "onlyif"> {
  const run = (flag: string) => oneCommand([path, ...args, flag]);
  return {
    name: run("--salt"),
    stateful: [{ test_name: run("--salt-test") }],
    onlyif: oneCommand(["test", "-x", path]),
  };
}

/**
 * R4.1 and older: the user's rc.local (R3.2 ProxyVMs: also
 * qubes-firewall-user-script) gets a marked block that calls qwire's
 * scripts; everything outside the markers stays the user's. The file is
 * created as the executable stub Qubes itself creates when it is missing.
 * A block with no lines is taken out, markers included (blockRemoval).
 */
function blockStates(blocks: readonly MarkedBlock[], p: (suffix: string) => string): SaltStates {
  const states: SaltStates = {};
  for (const b of blocks) {
    const id = b.file === "/rw/config/rc.local" ? "rc-local" : "user-script";
    if (b.lines.length === 0) {
      states[p(`${id}-block`)] = blockRemoval(b.file);
      continue;
    }
    states[p(id)] = state("file.managed", {
      name: b.file,
      contents: "#!/bin/sh\n",
      replace: false,
      ...ROOT_OWNED,
      mode: "0755",
    });
    states[p(`${id}-block`)] = state("file.blockreplace", {
      name: b.file,
      marker_start: BLOCK_MARKERS.start,
      marker_end: BLOCK_MARKERS.end,
      content: b.lines.map((l) => `${l}\n`).join(""),
      append_if_not_found: true,
      backup: false,
      require: [{ file: p(id) }],
    });
  }
  return states;
}

/** A fixed string as a sed basic regular expression matching exactly it. */
const bre = (text: string) => text.replace(/[\\.*[\]^$/]/g, "\\$&");

/**
 * Takes qwire's block out of a user file, both markers included, so the file
 * is again as the user had it (Salt's file.blockreplace cannot remove its
 * markers; an empty block would stay in the file for good). Only when both
 * markers are lines of the file: never a range that runs to its end, never
 * a file created, and a second apply changes nothing. A file qwire created
 * is left as the stub Qubes itself creates.
 */
function blockRemoval(file: BlockFile) {
  const { start, end } = BLOCK_MARKERS;
  const has = (marker: string) => ["grep", "-q", "-x", "-F", "-e", marker, "--", file];
  return state("cmd.run", {
    name: oneCommand(["sed", "-i", `/^${bre(start)}$/,/^${bre(end)}$/d`, "--", file]),
    onlyif: saltShell("all-of", { commands: [has(start), has(end)] }),
  });
}

/**
 * qrexec link sockets: installed and started where the qube starts links;
 * elsewhere the script is removed (dom0's policy no longer allows the calls,
 * and /run forgets the sockets at shutdown).
 */
function connectStates(q: QubePlan, layout: Layout, p: (suffix: string) => string): SaltStates {
  const path = layout.connectPath;
  if (q.connects.length === 0) return { [p("connect-script")]: state("file.absent", { name: path }) };
  return {
    [p("connect-script")]: state("file.managed", {
      name: path,
      source: `salt://qwire/files/${q.stem}/${fileName(path)}`,
      ...ROOT_OWNED,
      mode: "0755",
      makedirs: true,
    }),
    [p("connect")]: state("cmd.run", { ...statefulRun(path), require: [{ file: p("connect-script") }] }),
  };
}

/**
 * `qwire.remove`, applied by `install.sh --uninstall` to every qube qwire ever
 * placed files in: the teardown of any qube (hooks, sockets, marked blocks,
 * chains, /rw/config/qwire) and the guest files a host may hold. Harmless on
 * a qube that has none of them.
 */
export function removeState(plan: Plan, backend: Backend): Artifact {
  const layout = layoutOf(plan.release);
  const stem = "uninstall";
  const states = {
    ...teardownState({ qube: stem as QubeName, stem }, backend, layout),
    ...hostState({ host: stem as QubeName, stem, guests: [], teardown: false }),
  };
  return {
    path: "salt/qwire/remove.sls",
    content: dumpYaml(states, [
      "Any qube, on demand only (not in the top): remove everything qwire installed there.",
      "Applied by: sudo ./install.sh --uninstall (qubesctl --skip-dom0 --targets=<qubes> state.apply qwire.remove saltenv=user)",
    ]),
    mode: 0o644,
  };
}

export function teardownState(t: Teardown, backend: Backend, layout: Layout): SaltStates {
  const p = (suffix: string) => `qwire-${t.stem}-${suffix}`;
  const hooks = layout.scriptPaths;
  const ids = removeIds(hooks);
  const states: SaltStates = {};
  // Boot hooks first, so a reboot in between cannot bring the rules back.
  hooks.forEach((h, i) => (states[p(ids[i]!)] = state("file.absent", { name: h })));
  states[p("remove-connect")] = state("file.absent", { name: layout.connectPath });
  Object.assign(states, blockStates(layout.emptyBlocks(), p));
  states[p("teardown-script")] = teardownScriptState(backend);
  states[p("teardown")] = state("cmd.run", {
    ...statefulRun(TEARDOWN),
    require: [{ file: p("teardown-script") }, ...ids.map((id) => ({ file: p(id) })), { file: p("remove-connect") }],
  });
  states[p("remove-dir")] = state("file.absent", { name: QWIRE_DIR, require: [{ cmd: p("teardown") }] });
  return states;
}
