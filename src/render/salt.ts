/**
 * The Salt half of the bundle, built as data and dumped as YAML: the dom0
 * state (qvm.prefs), one state per qube (its files under /rw/config and the
 * run that loads them), the tops, and the pillars whose Jinja asks dom0 for
 * addresses at apply time. Only the Salt subset of DESIGN.md §3 appears here.
 */
import type { GuestKind, HostPlan, OutboundPolicy, Plan, QubePlan, Teardown } from "../plan/index.js";
import type { QubeName, Release } from "../validate/index.js";
import { profileOf } from "../release/index.js";
import { BANNER, type Artifact } from "./artifact.js";
import { renderTemplate } from "./handlebars-env.js";
import type { Backend } from "./backend.js";
import { command, sh } from "./helpers.js";
import { ADDRESSES, BLOCK_MARKERS, fileName, GUEST_LOCATIONS, GUEST_SCRIPT_PREFIX, guestFiles, layoutOf, QWIRE_DIR, type Layout, type MarkedBlock } from "./layout.js";
import { qvmFirewallR32Commands } from "./qvm-firewall-r32.js";
import { reconnectCommand } from "./reconnect.js";
import { dumpYaml } from "./yaml.js";

type State = Record<string, Record<string, unknown[]>>;

// In /run (tmpfs): it outlives the removal of /rw/config/qwire it runs before,
// so a second apply of a teardown finds it in place and changes nothing; a
// reboot forgets it.
const TEARDOWN = "/run/qwire/teardown";

export function renderSalt(plan: Plan, backend: Backend): Artifact[] {
  const layout = layoutOf(plan.release);
  const files: Artifact[] = [];
  const yamlFile = (path: string, data: unknown, comment: string[] = []) => files.push({ path, content: dumpYaml(data, comment), mode: 0o644 });

  yamlFile("salt/qwire/dom0.sls", dom0State(plan), [
    ...dom0Comment(plan.release),
    ...(plan.defaultNetvm === undefined
      ? []
      : [
          `netvm: default (${plan.prefs.filter((p) => p.followsDefault).map((p) => p.qube).join(", ")}): reset to dom0's default netvm,`,
          `once qwire-default-netvm has checked that it is ${plan.defaultNetvm} (qubes-prefs default_netvm).`,
        ]),
    "Apply: sudo qubesctl state.apply qwire.dom0 saltenv=user",
  ]);
  if (plan.reconnect.length > 0) yamlFile("salt/qwire/reconnect.sls", reconnectState(plan), [
    "dom0, on demand only (not in the top): re-attach qubes to their netvms after a netvm restart, upstream first.",
    "Apply: sudo qubesctl state.apply qwire.reconnect saltenv=user",
    "Only running qubes are touched; a halted qube attaches when it starts.",
  ]);
  yamlFile("salt/qwire/init.top", stateTop(plan), ["Enabled by: sudo qubesctl top.enable qwire saltenv=user"]);
  yamlFile("pillar/qwire/init.top", pillarTop(plan), ["Enabled by: sudo qubesctl top.enable qwire saltenv=user pillar=true"]);

  for (const q of plan.qubes) {
    // A guest's files are written by its host's state (below).
    if (q.host !== undefined) continue;
    if (q.hasPacketRules) {
      const script = layout.scriptPath(q.placement);
      files.push({ path: `salt/qwire/files/${q.stem}/${fileName(script)}`, content: backend.renderScript(q, plan.release, script, ADDRESSES), mode: 0o755 });
      files.push({ path: `pillar/qwire/qubes/${q.stem}.sls`, content: pillar(q, plan.pins, plan.release), mode: 0o644 });
    }
    yamlFile(`salt/qwire/qubes/${q.stem}.sls`, qubeState(q, backend, layout), [
      q.hasPacketRules
        ? `Qube ${q.qube}: installs its qwire script and the addresses it needs, then runs it.`
        : `Qube ${q.qube}: no packet rules (its old ones, if any, are removed); qrexec link sockets only.`,
    ]);
    if (q.connects.length > 0) {
      files.push({ path: `salt/qwire/files/${q.stem}/${fileName(layout.connectPath)}`, content: renderConnectScript(q, plan.release, layout), mode: 0o755 });
    }
  }
  for (const h of plan.hosts) {
    const guests = h.guests.map((g) => plan.qubes.find((q) => q.qube === g.qube)!);
    for (const g of guests) {
      const where = guestFiles(g.host!.kind, g.qube);
      files.push({ path: `salt/qwire/files/${h.stem}/${fileName(where.script)}`, content: backend.renderScript(g, plan.release, where.script, where.addresses), mode: 0o755 });
    }
    if (guests.length > 0) files.push({ path: `pillar/qwire/qubes/${h.stem}.sls`, content: hostPillar(h, guests, plan.pins, plan.release), mode: 0o644 });
    yamlFile(`salt/qwire/qubes/${h.stem}.sls`, { ...(h.teardown ? teardownState({ qube: h.host, stem: h.stem }, backend, layout) : {}), ...hostState(h) }, [
      guests.length > 0
        ? `${h.host} holds the qwire scripts of ${guests.map((g) => g.qube).join(", ")}, each guarded by its name; they load when that qube starts.`
        : `${h.host} holds the qwire scripts of no qube any more: remove the ones an earlier bundle put there.`,
      ...(h.teardown ? ["It carried qwire rules of its own in the previous build: they are removed first."] : []),
    ]);
  }
  if (plan.teardowns.length > 0) {
    for (const t of plan.teardowns) {
      yamlFile(`salt/qwire/qubes/${t.stem}.sls`, teardownState(t, backend, layout), [
        `Qube ${t.qube}: no longer carries any qwire intent; remove what qwire installed there.`,
      ]);
    }
  }
  return files;
}

function dom0Comment(release: Release): string[] {
  const { salt } = profileOf(release);
  const prefs = salt.prefs === "qvm-prefs -s" ? `netvm via cmd.run of qvm-prefs -s (R${release})` : "qvm.prefs";
  const firewall =
    salt.firewall === "qvm-firewall reset"
      ? "cmd.run of qvm-firewall: reset, then the whole list"
      : salt.firewall === "qvm-firewall r32"
        ? `cmd.run of qvm-firewall (R${release}): policy, ICMP and DNS, every exception re-added; past the 3 kB limit, in the qube`
        : "qvm.firewall set: the whole list";
  const qrexec =
    salt.policy === "none"
      ? `none on R${release}: only a 30-qwire.policy left by another release's bundle is removed`
      : salt.policy === "qubes-rpc/policy"
        ? `/etc/qubes-rpc/policy/qubes.ConnectTCP+PORT, a marked block in each (R${release} format)`
        : "/etc/qubes/policy.d/30-qwire.policy, removed when there is none";
  return [
    `dom0 part: the netvm layout declared in qwire.yaml (${prefs}), the outbound policies (${firewall})`,
    `and the qrexec policy of qrexec links (${qrexec}).`,
  ];
}

const DEFAULT_NETVM_CHECK = "qwire-default-netvm";

function dom0State(plan: Plan): State {
  const state: State = {};
  const { salt } = profileOf(plan.release);
  const legacyPrefs = salt.prefs === "qvm-prefs -s";
  const id = (q: QubeName) => `qwire-prefs-${q}`;
  const requisite = (q: QubeName) => (legacyPrefs ? { cmd: id(q) } : { qvm: id(q) });
  const hasPrefs = new Set(plan.prefs.filter((p) => !legacyPrefs || p.netvm !== undefined).map((p) => p.qube));
  if (plan.defaultNetvm !== undefined) {
    // The qubes that follow the default were planned behind this netvm: when dom0's default is
    // another qube, their netvm is left as it is and the apply fails with both names.
    const expected = sh(plan.defaultNetvm);
    state[DEFAULT_NETVM_CHECK] = {
      "cmd.run": [
        { name: `echo "dom0's default_netvm is '$(qubes-prefs default_netvm)'; qwire.yaml says" ${expected} >&2; exit 1` },
        { unless: `test "$(qubes-prefs default_netvm)" = ${expected}` },
      ],
    };
  }
  for (const p of plan.prefs) {
    // A netvm must provide network before a qube is attached to it.
    const needs: unknown[] = p.netvm !== undefined && hasPrefs.has(p.netvm) ? [requisite(p.netvm)] : [];
    if (p.followsDefault) needs.push({ cmd: DEFAULT_NETVM_CHECK });
    const after = needs.length > 0 ? [{ require: needs }] : [];
    if (legacyPrefs) {
      // R3.2: `qvm-prefs -s` sets; a NetVM/ProxyVM is a VM type there (qvm-create --proxy), not a
      // property, and the validator refused pinned addresses (QW4008).
      if (p.netvm === undefined) continue;
      state[id(p.qube)] = {
        "cmd.run": [
          { name: command(["qvm-prefs", "-s", p.qube, "netvm", p.netvm]) },
          { unless: `test "$(qvm-prefs -g ${sh(p.qube)} netvm)" = ${sh(p.netvm)}` },
          ...after,
        ],
      };
      continue;
    }
    const args: unknown[] = [{ name: p.qube }];
    if (p.providesNetwork) args.push({ "provides-network": true });
    // '*default*' resets the property (qvm.prefs: delattr) and is a [SKIP] when it is already at the default.
    if (p.netvm !== undefined) args.push({ netvm: p.followsDefault ? "*default*" : p.netvm });
    if (p.ip !== undefined) args.push({ ip: p.ip });
    args.push(...after);
    state[id(p.qube)] = { "qvm.prefs": args };
  }
  // IPv6 is opt-in per qube in Qubes (qvm-features QUBE ipv6 1).
  for (const q of plan.ipv6Qubes) state[`qwire-ipv6-${q}`] = { "qvm.features": [{ name: q }, { enable: ["ipv6"] }] };
  Object.assign(state, salt.policy === "qubes-rpc/policy" ? qrexecPolicyStateR40(plan) : qrexecPolicyState(plan));
  for (const f of plan.firewalls) {
    const needs = hasPrefs.has(f.qube) ? [requisite(f.qube)] : [];
    if (f.overflow !== undefined) {
      // Past qubesd's limit the netvm enforces the list for IPv4 only, and the
      // list dom0 sets ends in accept: IPv6 stays off for this qube (an
      // explicit '' wins over a netvm's ipv6 feature), before the list is set.
      state[`qwire-ipv6-off-${f.qube}`] = { "qvm.features": [{ name: f.qube }, { disable: ["ipv6"] }] };
      needs.push({ qvm: `qwire-ipv6-off-${f.qube}` });
    }
    const after = needs.length > 0 ? [{ require: needs }] : [];
    state[`qwire-firewall-${f.qube}`] =
      f.r32 !== undefined
        ? { "cmd.run": [...qvmFirewallR32Commands(f.qube, f.r32.set), ...after] }
        : salt.firewall === "qvm-firewall reset"
          ? { "cmd.run": [...qvmFirewallCommands(f), ...after] }
          : { "qvm.firewall": [{ name: f.qube }, { set: [...f.rules] }, ...after] };
  }
  return state;
}

/**
 * R4.0 has no qvm.firewall state: qvm-firewall itself, run only when the
 * list differs (`--raw list` prints the canonical form the plan holds).
 * `reset` leaves the default `action=accept`, and `add` appends after it,
 * so that rule is deleted first and the whole list added in order
 * (reference qubes-networking.md §4).
 */
function qvmFirewallCommands(f: OutboundPolicy): unknown[] {
  const vm = sh(f.qube);
  const add = f.rules.map((r) => command(["qvm-firewall", f.qube, "add", ...r.split(" ")]));
  const expected = f.rules.map(sh).join(" ");
  return [
    { name: [`qvm-firewall ${vm} reset`, `qvm-firewall ${vm} del --rule-no 0`, ...add].join(" && ") },
    { unless: `test "$(qvm-firewall --raw ${vm} list)" = "$(printf '%s\\n' ${expected})"` },
  ];
}

function reconnectState(plan: Plan): State {
  const state: State = {};
  let previous: string | undefined;
  for (const r of plan.reconnect) {
    const id = `qwire-reconnect-${r.qube}`;
    state[id] = {
      "cmd.run": [
        { name: reconnectCommand(plan.release, r) },
        { onlyif: `qvm-check --quiet --running ${sh(r.qube)} && qvm-check --quiet --running ${sh(r.netvm)}` },
        // Upstream first: a netvm must be attached before its own clients.
        ...(previous === undefined ? [] : [{ require: [{ cmd: previous }] }]),
      ],
    };
    previous = id;
  }
  return state;
}

function stateTop(plan: Plan) {
  // dom0 always has a state: the qrexec policy is written, or removed when empty.
  const top: Record<string, string[]> = { dom0: ["qwire.dom0"] };
  for (const q of plan.targets) top[q] = ["qwire.vm"];
  return { user: top };
}

function pillarTop(plan: Plan) {
  const top: Record<string, string[]> = {};
  for (const q of plan.qubes) if (q.hasPacketRules && q.host === undefined) top[q.qube] = [`qwire.qubes.${q.stem}`];
  for (const h of plan.hosts) if (h.guests.length > 0) top[h.host] = [`qwire.qubes.${h.stem}`];
  return { user: Object.fromEntries(Object.entries(top).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

/**
 * A host: each guest's script and addresses, where the guest finds them at
 * its next start; nothing is run here (the guard would skip it anyway).
 * Files of guests it no longer holds are removed by one cmd.run that lists
 * qwire's guest files other than the current ones.
 */
function hostState(h: HostPlan): State {
  const p = (suffix: string) => `qwire-${h.stem}-${suffix}`;
  const owner = [{ user: "root" }, { group: "root" }];
  const state: State = {};
  for (const { qube, kind } of h.guests) {
    const g = (suffix: string) => p(`guest-${saltKey(qube)}-${suffix}`);
    const where = guestFiles(kind, qube);
    state[g("dir")] = {
      "file.directory": [{ name: where.dir }, ...owner, { mode: "0755" }, { makedirs: true }, ...(h.teardown ? [{ require: [{ file: p("remove-dir") }] }] : [])],
    };
    state[g("addresses")] = {
      "file.managed": [{ name: where.addresses }, { contents_pillar: `qwire:guests:${qube}:addresses` }, ...owner, { mode: "0644" }, { require: [{ file: g("dir") }] }],
    };
    state[g("script")] = {
      "file.managed": [{ name: where.script }, { source: `salt://qwire/files/${h.stem}/${fileName(where.script)}` }, ...owner, { mode: "0755" }, { makedirs: true }],
    };
  }
  const stale = staleGuestFiles(h.guests);
  state[p("stale-guests")] = { "cmd.run": [{ name: `${stale} | while read -r f; do rm -rf -- "$f"; done` }, { onlyif: `test -n "$(${stale})"` }] };
  return state;
}

/** A shell pipeline that prints qwire's guest files in a host other than those of `guests` (names hold no glob or blank characters). */
function staleGuestFiles(guests: HostPlan["guests"]): string {
  const keep = (kind: GuestKind, prefix: string) => guests.filter((g) => g.kind === kind).map((g) => ` ! -name ${sh(prefix + g.qube)}`).join("");
  const finds = (Object.keys(GUEST_LOCATIONS) as GuestKind[]).flatMap((kind) => {
    const { hookDir, dataDir } = GUEST_LOCATIONS[kind];
    return [
      `find ${hookDir} -mindepth 1 -maxdepth 1 -name '${GUEST_SCRIPT_PREFIX}*'${keep(kind, GUEST_SCRIPT_PREFIX)} -print`,
      `find ${dataDir} -mindepth 1 -maxdepth 1${keep(kind, "")} -print`,
    ];
  });
  return `{ ${finds.join("; ")}; } 2>/dev/null`;
}

/** A qube name as part of a Salt state ID. */
function saltKey(name: QubeName): string {
  return name.replace(/\./g, "_");
}

function qubeState(q: QubePlan, backend: Backend, layout: Layout): State {
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
function noPacketRuleStates(backend: Backend, layout: Layout, p: (suffix: string) => string): State {
  const hooks = layout.scriptPaths;
  const ids = removeIds(hooks);
  const state: State = {
    [p("teardown-script")]: { "file.managed": teardownScriptState(backend) },
    [p("teardown-rules")]: {
      "cmd.run": [...statefulRun(TEARDOWN, ["rules"]), { onlyif: hooks.map((h) => `test -e ${h}`).join(" || ") }, { require: [{ file: p("teardown-script") }] }],
    },
  };
  hooks.forEach((h, i) => (state[p(ids[i]!)] = { "file.absent": [{ name: h }, { require: [{ cmd: p("teardown-rules") }] }] }));
  state[p("remove-addresses")] = { "file.absent": [{ name: ADDRESSES }] };
  return state;
}

function teardownScriptState(backend: Backend): unknown[] {
  return [
    { name: TEARDOWN },
    { source: `salt://qwire/${backend.teardown.bundleName}` },
    { user: "root" },
    { group: "root" },
    { mode: "0755" },
    { makedirs: true },
  ];
}

function packetRuleStates(q: QubePlan, layout: Layout, p: (suffix: string) => string): State {
  const script = layout.scriptPath(q.placement);
  const others = layout.scriptPaths.filter((h) => h !== script);
  const owner = [{ user: "root" }, { group: "root" }];
  const state: State = {
    [p("dir")]: { "file.directory": [{ name: QWIRE_DIR }, ...owner, { mode: "0755" }] },
    [p("addresses")]: {
      "file.managed": [{ name: ADDRESSES }, { contents_pillar: "qwire:addresses" }, ...owner, { mode: "0644" }, { require: [{ file: p("dir") }] }],
    },
    [p("script")]: {
      "file.managed": [{ name: script }, { source: `salt://qwire/files/${q.stem}/${fileName(script)}` }, ...owner, { mode: "0755" }, { makedirs: true }],
    },
  };
  // A net qube that became a leaf (or the reverse) must not keep the old hook.
  const otherIds = others.map((_, i) => (i === 0 ? "other-hook" : `other-hook-${i}`));
  others.forEach((h, i) => (state[p(otherIds[i]!)] = { "file.absent": [{ name: h }] }));
  // Run on every apply, not only on changes: this reloads rules that were
  // lost (flushed, firewall restarted) or that a failed run (missing address)
  // left out. The script reports to Salt whether it loaded anything.
  state[p("load")] = {
    "cmd.run": [...statefulRun(script), { require: [{ file: p("addresses") }, { file: p("script") }, ...otherIds.map((id) => ({ file: p(id) }))] }],
  };
  return state;
}

/**
 * A qwire script run by Salt's stateful protocol (salt/states/cmd.py): with
 * `--salt` it loads only what is not live yet and ends its stdout with
 * `changed=yes|no comment='...'`, so an apply that changes nothing reports
 * nothing; under test=True Salt runs `--salt-test`, which only reports.
 */
function statefulRun(path: string, args: readonly string[] = []): unknown[] {
  const run = (flag: string) => [path, ...args, flag].join(" ");
  return [{ name: run("--salt") }, { stateful: [{ test_name: run("--salt-test") }] }];
}

/**
 * R4.1 and older: the user's rc.local (R3.2 ProxyVMs: also
 * qubes-firewall-user-script) gets a marked block that calls qwire's
 * scripts; everything outside the markers stays the user's. The file is
 * created as the executable stub Qubes itself creates when it is missing.
 * An empty block is how qwire takes its lines back out.
 */
function blockStates(blocks: readonly MarkedBlock[], p: (suffix: string) => string): State {
  const state: State = {};
  for (const b of blocks) {
    const id = b.file === "/rw/config/rc.local" ? "rc-local" : "user-script";
    state[p(id)] = {
      "file.managed": [{ name: b.file }, { contents: "#!/bin/sh\n" }, { replace: false }, { user: "root" }, { group: "root" }, { mode: "0755" }],
    };
    state[p(`${id}-block`)] = {
      "file.blockreplace": [
        { name: b.file },
        { marker_start: BLOCK_MARKERS.start },
        { marker_end: BLOCK_MARKERS.end },
        { content: b.lines.map((l) => `${l}\n`).join("") },
        { append_if_not_found: true },
        // Salt keeps a .bak of the user's file on every change otherwise.
        { backup: false },
        { require: [{ file: p(id) }] },
      ],
    };
  }
  return state;
}

/**
 * qrexec link sockets: installed and started where the qube starts links;
 * elsewhere the script is removed (dom0's policy no longer allows the calls,
 * and /run forgets the sockets at shutdown).
 */
function connectStates(q: QubePlan, layout: Layout, p: (suffix: string) => string): State {
  const path = layout.connectPath;
  if (q.connects.length === 0) return { [p("connect-script")]: { "file.absent": [{ name: path }] } };
  return {
    [p("connect-script")]: {
      "file.managed": [{ name: path }, { source: `salt://qwire/files/${q.stem}/${fileName(path)}` }, { user: "root" }, { group: "root" }, { mode: "0755" }, { makedirs: true }],
    },
    [p("connect")]: { "cmd.run": [...statefulRun(path), { require: [{ file: p("connect-script") }] }] },
  };
}

function renderConnectScript(q: QubePlan, release: Plan["release"], layout: Layout): string {
  return renderTemplate("qrexec/connect-script.sh.hbs", {
    qube: q.qube,
    release,
    installedAs: layout.connectPath,
    runs: layout.markedBlocks ? "a marked block in /rw/config/rc.local calls it at boot," : "the qube runs it at boot and",
    policyFile: profileOf(release).salt.policy === "qubes-rpc/policy" ? "/etc/qubes-rpc/policy/qubes.ConnectTCP+PORT" : QREXEC_POLICY,
    connects: q.connects.map((c) => ({
      label: `qrexec link ${c.intent}`,
      to: c.to,
      port: c.port,
      localPort: c.localPort,
      socketUnit: `qwire-connect-${c.localPort}.socket`,
      serviceUnit: `qwire-connect-${c.localPort}@.service`,
    })),
  });
}

const QREXEC_POLICY = "/etc/qubes/policy.d/30-qwire.policy";

/**
 * dom0's qrexec policy for qrexec links (R4.1+ format, reference §5): sorts
 * before 90-default.policy, which denies qubes.ConnectTCP. With no qrexec
 * link the file is removed, which closes links deleted from qwire.yaml.
 */
function qrexecPolicyState(plan: Plan): State {
  if (plan.qrexecPolicy.length === 0) return { "qwire-qrexec-policy": { "file.absent": [{ name: QREXEC_POLICY }] } };
  const lines = [
    `# ${BANNER}`,
    "# qrexec links (qubes.ConnectTCP): the connecting qube calls @default, this file picks the target.",
    ...plan.qrexecPolicy.map((l) => `qubes.ConnectTCP +${l.port} ${l.from} @default allow target=${l.to}`),
  ];
  return {
    "qwire-qrexec-policy": {
      "file.managed": [{ name: QREXEC_POLICY }, { contents: `${lines.join("\n")}\n` }, { user: "root" }, { group: "qubes" }, { mode: "0664" }],
    },
  };
}

const R40_POLICY_DIR = "/etc/qubes-rpc/policy";

/**
 * R4.0's qrexec policy (reference §5): one file per port,
 * /etc/qubes-rpc/policy/qubes.ConnectTCP+PORT, lines `source destination
 * action[,options]`, first match wins. The user may have such a file, so
 * qwire's lines go in a marked block at its top; blocks in files of ports
 * no longer used are deleted (and a file left empty with them), which closes
 * links deleted from qwire.yaml.
 */
function qrexecPolicyStateR40(plan: Plan): State {
  const state: State = {};
  const ports = [...new Set(plan.qrexecPolicy.map((l) => l.port))];
  for (const port of ports) {
    const file = `${R40_POLICY_DIR}/qubes.ConnectTCP+${port}`;
    const id = `qwire-qrexec-policy-${port}`;
    state[id] = { "file.managed": [{ name: file }, { contents: "" }, { replace: false }, { user: "root" }, { group: "qubes" }, { mode: "0664" }] };
    const lines = plan.qrexecPolicy.filter((l) => l.port === port).map((l) => `${l.from} @default allow,target=${l.to}\n`);
    state[`${id}-block`] = {
      "file.blockreplace": [
        { name: file },
        { marker_start: `# BEGIN qwire: ${BANNER}` },
        { marker_end: "# END qwire" },
        { content: lines.join("") },
        { prepend_if_not_found: true },
        { backup: false },
        { require: [{ file: id }] },
      ],
    };
  }
  // Files of other ports that still hold a qwire block: the ports of links deleted from qwire.yaml.
  const stale = `grep -l -F -x -e '# END qwire' ${R40_POLICY_DIR}/qubes.ConnectTCP+* 2>/dev/null | grep -v -x -F${["", ...ports.map((p) => `${R40_POLICY_DIR}/qubes.ConnectTCP+${p}`)].map((f) => ` -e ${sh(f)}`).join("")}`;
  state["qwire-qrexec-policy-stale"] = {
    "cmd.run": [
      { name: `${stale} | while read -r f; do sed -i '/^# BEGIN qwire: /,/^# END qwire$/d' "$f"; if [ ! -s "$f" ]; then rm -f -- "$f"; fi; done` },
      { onlyif: stale },
    ],
  };
  return state;
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
  const state = { ...teardownState({ qube: stem as QubeName, stem }, backend, layout), ...hostState({ host: stem as QubeName, stem, guests: [], teardown: false }) };
  return {
    path: "salt/qwire/remove.sls",
    content: dumpYaml(state, [
      "Any qube, on demand only (not in the top): remove everything qwire installed there.",
      "Applied by: sudo ./install.sh --uninstall (qubesctl --skip-dom0 --targets=<qubes> state.apply qwire.remove saltenv=user)",
    ]),
    mode: 0o644,
  };
}

function teardownState(t: Teardown, backend: Backend, layout: Layout): State {
  const p = (suffix: string) => `qwire-${t.stem}-${suffix}`;
  const teardown = TEARDOWN;
  const hooks = layout.scriptPaths;
  const ids = removeIds(hooks);
  const state: State = {};
  // Boot hooks first, so a reboot in between cannot bring the rules back.
  hooks.forEach((h, i) => (state[p(ids[i]!)] = { "file.absent": [{ name: h }] }));
  state[p("remove-connect")] = { "file.absent": [{ name: layout.connectPath }] };
  Object.assign(state, blockStates(layout.emptyBlocks(), p));
  state[p("teardown-script")] = { "file.managed": teardownScriptState(backend) };
  state[p("teardown")] = {
    "cmd.run": [
      ...statefulRun(teardown),
      { require: [{ file: p("teardown-script") }, ...ids.map((id) => ({ file: p(id) })), { file: p("remove-connect") }] },
    ],
  };
  state[p("remove-dir")] = { "file.absent": [{ name: QWIRE_DIR }, { require: [{ cmd: p("teardown") }] }] };
  return state;
}

/**
 * A qube's pillar, rendered by Salt in dom0 (`pillar.items --id=<qube>`), so
 * its Jinja may ask qvm-prefs. Each line of `addresses` is "<key> <address>",
 * or "<key> - <reason>" when the lookup failed (see addressLookup); the
 * script never puts a line of the second kind into a rule. Pinned addresses
 * are written as is.
 */
function pillar(q: QubePlan, pins: ReadonlyMap<QubeName, string>, release: Release): string {
  const lines = addressLines(q, pins, release);
  return dumpYaml({ qwire: { addresses: lines.length === 0 ? "" : `${lines.join("\n")}\n` } }, [
    `Pillar for qube ${q.qube}, rendered in dom0 when qubesctl applies qwire.vm to it.`,
    lines.length === 0 ? "It needs no qube addresses." : `Addresses it needs, looked up now (not at build time): ${addressNames(q).join(", ")}.`,
  ]);
}

/** The pillar of a host: each guest's addresses, looked up in dom0 as for any qube. */
function hostPillar(h: HostPlan, guests: readonly QubePlan[], pins: ReadonlyMap<QubeName, string>, release: Release): string {
  const entries = guests.map((g) => {
    const lines = addressLines(g, pins, release);
    return [g.qube, { addresses: lines.length === 0 ? "" : `${lines.join("\n")}\n` }] as const;
  });
  return dumpYaml({ qwire: { guests: Object.fromEntries(entries) } }, [
    `Pillar for ${h.host}, which holds the scripts of ${guests.map((g) => g.qube).join(", ")}; rendered in dom0 when qubesctl applies qwire.vm to it.`,
    ...guests.map((g) =>
      addressNames(g).length === 0 ? `${g.qube} needs no qube addresses.` : `Addresses ${g.qube} needs, looked up now (not at build time): ${addressNames(g).join(", ")}.`,
    ),
  ]);
}

function addressNames(q: QubePlan): string[] {
  return [...q.addresses, ...(q.ipv6 ? q.v6.addresses.map((a) => `${a} (IPv6)`) : [])];
}

function addressLines(q: QubePlan, pins: ReadonlyMap<QubeName, string>, release: Release): string[] {
  const lines = [
    ...q.addresses.map((name) => {
      const pinned = pins.get(name);
      return pinned !== undefined ? `${name} ${pinned}` : `${name} ${addressLookup(release, name, "ip")}`;
    }),
    // IPv6 addresses are never pinned; "<qube>/6" keeps them apart (no qube name has a '/').
    ...(q.ipv6 ? q.v6.addresses.map((name) => `${name}/6 ${addressLookup(release, name, "ip6")}`) : []),
  ];
  return lines;
}

/** Characters a failure reason keeps (the rest become '_'): nothing that could end the YAML line, quote, or reach a shell. */
const REASON_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._:,()/@+-";

/**
 * The Jinja that asks dom0 for one address at pillar render time and prints
 * the address, or "- <reason>": qvm-prefs' own error (its last stderr line),
 * "qube does not exist", or "no netvm" when it answers with no address.
 * cmd.run_all runs qvm-prefs without a shell (python_shell is off when called
 * from Jinja) and ignore_retcode keeps the expected failure out of Salt's
 * error log. Every character printed is taken from a fixed set, one line,
 * at most 160 characters: no qvm-prefs output can break the pillar's YAML or
 * put anything but address characters where the script reads an address.
 */
function addressLookup(release: Release, name: QubeName, property: "ip" | "ip6"): string {
  // R3.2's qvm-prefs needs -g to get one property (reference §6); R4 takes the bare form.
  const cmd = `${profileOf(release).salt.getPref} ${name} ${property}`;
  const keep = (expr: string, chars: string) => `{% for c in (${expr})[:160] %}{{ c if c in '${chars}' else '_' }}{% endfor %}`;
  return [
    `{% set r = salt['cmd.run_all']('${cmd}', ignore_retcode=True) %}`,
    `{% if r['retcode'] == 0 and r['stdout'].strip() %}${keep("r['stdout'].strip()", "0123456789abcdefABCDEF.:")}`,
    `{% elif r['retcode'] == 0 %}- ${property === "ip" ? "no netvm (qvm-prefs gives no ip)" : "no IPv6 address (no netvm, or the ipv6 feature is off)"}`,
    `{% elif 'no such domain' in r['stderr'] %}- qube does not exist`,
    `{% else %}- ${keep(`(r['stderr'].strip().split('\\n') | last) or 'qvm-prefs exited with ' ~ r['retcode']`, REASON_CHARS)}{% endif %}`,
  ].join("");
}
