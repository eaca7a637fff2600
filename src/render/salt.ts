/**
 * The Salt half of the bundle, built as data and dumped as YAML: the dom0
 * state (qvm.prefs), one state per qube (its files under /rw/config and the
 * run that loads them), the tops, and the pillars whose Jinja asks dom0 for
 * addresses at apply time. Only the Salt subset of DESIGN.md §3 appears here.
 */
import type { Plan, QubePlan, Teardown } from "../plan/index.js";
import type { QubeName } from "../validate/index.js";
import { BANNER, type Artifact } from "./artifact.js";
import { renderTemplate } from "./handlebars-env.js";
import type { Backend } from "./backend.js";
import { sh } from "./helpers.js";
import { reconnectCommand } from "./reconnect.js";
import { dumpYaml } from "./yaml.js";

type State = Record<string, Record<string, unknown[]>>;

const QWIRE_DIR = "/rw/config/qwire";
const ADDRESSES = `${QWIRE_DIR}/addresses`;
const TEARDOWN = `${QWIRE_DIR}/teardown`;

export function renderSalt(plan: Plan, backend: Backend): Artifact[] {
  const files: Artifact[] = [];
  const yamlFile = (path: string, data: unknown, comment: string[] = []) => files.push({ path, content: dumpYaml(data, comment), mode: 0o644 });

  yamlFile("salt/qwire/dom0.sls", dom0State(plan), [
    "dom0 part: the netvm layout declared in qwire.yaml (qvm.prefs), the outbound policies (qvm.firewall set: the whole list)",
    "and the qrexec policy of qrexec links (/etc/qubes/policy.d/30-qwire.policy, removed when there is none).",
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
    if (q.hasPacketRules) {
      files.push({ path: `salt/qwire/files/${q.stem}/${backend.scriptName(q.placement)}`, content: backend.renderScript(q, plan.release), mode: 0o755 });
      files.push({ path: `pillar/qwire/qubes/${q.stem}.sls`, content: pillar(q, plan.pins), mode: 0o644 });
    }
    yamlFile(`salt/qwire/qubes/${q.stem}.sls`, qubeState(q, backend), [
      q.hasPacketRules
        ? `Qube ${q.qube}: installs its qwire script and the addresses it needs, then runs it.`
        : `Qube ${q.qube}: no packet rules (its old ones, if any, are removed); qrexec link sockets only.`,
    ]);
    if (q.connects.length > 0) {
      files.push({ path: `salt/qwire/files/${q.stem}/${CONNECT_SCRIPT}`, content: renderConnectScript(q, plan.release), mode: 0o755 });
    }
  }
  if (plan.teardowns.length > 0) {
    for (const t of plan.teardowns) {
      yamlFile(`salt/qwire/qubes/${t.stem}.sls`, teardownState(t, backend), [
        `Qube ${t.qube}: no longer carries any qwire intent; remove what qwire installed there.`,
      ]);
    }
  }
  return files;
}

function dom0State(plan: Plan): State {
  const state: State = {};
  const id = (q: QubeName) => `qwire-prefs-${q}`;
  const hasPrefs = new Set(plan.prefs.map((p) => p.qube));
  for (const p of plan.prefs) {
    const args: unknown[] = [{ name: p.qube }];
    if (p.providesNetwork) args.push({ "provides-network": true });
    if (p.netvm !== undefined) args.push({ netvm: p.netvm });
    if (p.ip !== undefined) args.push({ ip: p.ip });
    // A netvm must provide network before a qube is attached to it.
    if (p.netvm !== undefined && hasPrefs.has(p.netvm)) args.push({ require: [{ qvm: id(p.netvm) }] });
    state[id(p.qube)] = { "qvm.prefs": args };
  }
  // IPv6 is opt-in per qube in Qubes (qvm-features QUBE ipv6 1).
  for (const q of plan.ipv6Qubes) state[`qwire-ipv6-${q}`] = { "qvm.features": [{ name: q }, { enable: ["ipv6"] }] };
  Object.assign(state, qrexecPolicyState(plan));
  for (const f of plan.firewalls) {
    state[`qwire-firewall-${f.qube}`] = {
      "qvm.firewall": [{ name: f.qube }, { set: [...f.rules] }, ...(hasPrefs.has(f.qube) ? [{ require: [{ qvm: id(f.qube) }] }] : [])],
    };
  }
  return state;
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
  for (const q of plan.qubes) if (q.hasPacketRules) top[q.qube] = [`qwire.qubes.${q.stem}`];
  return { user: top };
}

function qubeState(q: QubePlan, backend: Backend): State {
  const p = (suffix: string) => `qwire-${q.stem}-${suffix}`;
  return { ...(q.hasPacketRules ? packetRuleStates(q, backend, p) : noPacketRuleStates(backend, p)), ...connectStates(q, p) };
}

/**
 * A qube that carries qrexec links only: if an earlier bundle gave it packet
 * rules, delete qwire's chains and sets and its hook, so no port stays open.
 */
function noPacketRuleStates(backend: Backend, p: (suffix: string) => string): State {
  const hooks = [backend.installPath("qubes-firewall.d"), backend.installPath("rc.local.d")];
  return {
    [p("teardown-script")]: { "file.managed": teardownScriptState(backend) },
    [p("teardown-rules")]: {
      "cmd.run": [{ name: `${TEARDOWN} rules` }, { onlyif: hooks.map((h) => `test -e ${h}`).join(" || ") }, { require: [{ file: p("teardown-script") }] }],
    },
    [p("remove-hooks")]: { "file.absent": [{ name: hooks[0] }, { require: [{ cmd: p("teardown-rules") }] }] },
    [p("remove-rc")]: { "file.absent": [{ name: hooks[1] }, { require: [{ cmd: p("teardown-rules") }] }] },
    [p("remove-addresses")]: { "file.absent": [{ name: ADDRESSES }] },
  };
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

function packetRuleStates(q: QubePlan, backend: Backend, p: (suffix: string) => string): State {
  const script = backend.installPath(q.placement);
  const other = backend.installPath(q.placement === "rc.local.d" ? "qubes-firewall.d" : "rc.local.d");
  const owner = [{ user: "root" }, { group: "root" }];
  return {
    [p("dir")]: { "file.directory": [{ name: QWIRE_DIR }, ...owner, { mode: "0755" }] },
    [p("addresses")]: {
      "file.managed": [{ name: ADDRESSES }, { contents_pillar: "qwire:addresses" }, ...owner, { mode: "0644" }, { require: [{ file: p("dir") }] }],
    },
    [p("script")]: {
      "file.managed": [{ name: script }, { source: `salt://qwire/files/${q.stem}/${backend.scriptName(q.placement)}` }, ...owner, { mode: "0755" }, { makedirs: true }],
    },
    // A net qube that became a leaf (or the reverse) must not keep the old hook.
    [p("other-hook")]: { "file.absent": [{ name: other }] },
    // Run on every apply, not only on changes: the script is idempotent, and
    // this reloads rules a failed run (missing address) left out.
    [p("load")]: { "cmd.run": [{ name: script }, { require: [{ file: p("addresses") }, { file: p("script") }, { file: p("other-hook") }] }] },
  };
}

const CONNECT_SCRIPT = "51-qwire-connect.rc";
const CONNECT_PATH = `/rw/config/rc.local.d/${CONNECT_SCRIPT}`;

/**
 * qrexec link sockets: installed and started where the qube starts links;
 * elsewhere the script is removed (dom0's policy no longer allows the calls,
 * and /run forgets the sockets at shutdown).
 */
function connectStates(q: QubePlan, p: (suffix: string) => string): State {
  if (q.connects.length === 0) return { [p("connect-script")]: { "file.absent": [{ name: CONNECT_PATH }] } };
  return {
    [p("connect-script")]: {
      "file.managed": [{ name: CONNECT_PATH }, { source: `salt://qwire/files/${q.stem}/${CONNECT_SCRIPT}` }, { user: "root" }, { group: "root" }, { mode: "0755" }, { makedirs: true }],
    },
    [p("connect")]: { "cmd.run": [{ name: CONNECT_PATH }, { require: [{ file: p("connect-script") }] }] },
  };
}

function renderConnectScript(q: QubePlan, release: Plan["release"]): string {
  return renderTemplate("qrexec/connect-script.sh.hbs", {
    qube: q.qube,
    release,
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

function teardownState(t: Teardown, backend: Backend): State {
  const p = (suffix: string) => `qwire-${t.stem}-${suffix}`;
  const teardown = TEARDOWN;
  return {
    // Boot hooks first, so a reboot in between cannot bring the rules back.
    [p("remove-hooks")]: { "file.absent": [{ name: backend.installPath("qubes-firewall.d") }] },
    [p("remove-rc")]: { "file.absent": [{ name: backend.installPath("rc.local.d") }] },
    [p("remove-connect")]: { "file.absent": [{ name: CONNECT_PATH }] },
    [p("teardown-script")]: { "file.managed": teardownScriptState(backend) },
    [p("teardown")]: { "cmd.run": [{ name: teardown }, { require: [{ file: p("teardown-script") }, { file: p("remove-hooks") }, { file: p("remove-rc") }, { file: p("remove-connect") }] }] },
    [p("remove-dir")]: { "file.absent": [{ name: QWIRE_DIR }, { require: [{ cmd: p("teardown") }] }] },
  };
}

/**
 * A qube's pillar, rendered by Salt in dom0 (`pillar.items --id=<qube>`), so
 * its Jinja may ask qvm-prefs. Each line of `addresses` is "<qube> <ip>";
 * a qube that is missing or has no IP yields an empty address, which the
 * script treats as missing (fail closed). Pinned addresses are written as is.
 */
function pillar(q: QubePlan, pins: ReadonlyMap<QubeName, string>): string {
  const lookup = (key: string, name: QubeName, property: "ip" | "ip6") =>
    `${key} {{ salt['cmd.shell']('qvm-prefs -- ${name} ${property} 2>/dev/null || true') | replace('\\n', ' ') }}`;
  const lines = [
    ...q.addresses.map((name) => {
      const pinned = pins.get(name);
      return pinned !== undefined ? `${name} ${pinned}` : lookup(name, name, "ip");
    }),
    // IPv6 addresses are never pinned; "<qube>/6" keeps them apart (no qube name has a '/').
    ...(q.ipv6 ? q.v6.addresses.map((name) => lookup(`${name}/6`, name, "ip6")) : []),
  ];
  return dumpYaml({ qwire: { addresses: lines.length === 0 ? "" : `${lines.join("\n")}\n` } }, [
    `Pillar for qube ${q.qube}, rendered in dom0 when qubesctl applies qwire.vm to it.`,
    lines.length === 0 ? "It needs no qube addresses." : `Addresses it needs, looked up now (not at build time): ${[...q.addresses, ...(q.ipv6 ? q.v6.addresses.map((a) => `${a} (IPv6)`) : [])].join(", ")}.`,
  ]);
}
