/**
 * The Salt half of the bundle, built as data and dumped as YAML: the dom0
 * state (qvm.prefs), one state per qube (its files under /rw/config and the
 * run that loads them), the tops, and the pillars whose Jinja asks dom0 for
 * addresses at apply time. Only the Salt subset of DESIGN.md §3 appears here.
 */
import type { Plan, QubePlan, Teardown } from "../plan/index.js";
import type { QubeName } from "../validate/index.js";
import type { Artifact } from "./artifact.js";
import type { Backend } from "./backend.js";
import { sh } from "./helpers.js";
import { reconnectCommand } from "./reconnect.js";
import { dumpYaml } from "./yaml.js";

type State = Record<string, Record<string, unknown[]>>;

const QWIRE_DIR = "/rw/config/qwire";
const ADDRESSES = `${QWIRE_DIR}/addresses`;

export function renderSalt(plan: Plan, backend: Backend): Artifact[] {
  const files: Artifact[] = [];
  const yamlFile = (path: string, data: unknown, comment: string[] = []) => files.push({ path, content: dumpYaml(data, comment), mode: 0o644 });

  yamlFile("salt/qwire/dom0.sls", dom0State(plan), [
    "dom0 part: the netvm layout declared in qwire.yaml (qvm.prefs) and the outbound policies (qvm.firewall set: the whole list).",
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
    const scriptPath = `salt/qwire/files/${q.stem}/${backend.scriptName(q.placement)}`;
    files.push({ path: scriptPath, content: backend.renderScript(q, plan.release), mode: 0o755 });
    yamlFile(`salt/qwire/qubes/${q.stem}.sls`, qubeState(q, backend), [
      `Qube ${q.qube}: installs its qwire script and the addresses it needs, then runs it.`,
    ]);
    files.push({ path: `pillar/qwire/qubes/${q.stem}.sls`, content: pillar(q, plan.pins), mode: 0o644 });
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

export function hasDom0State(plan: Plan): boolean {
  return plan.prefs.length > 0 || plan.firewalls.length > 0;
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
  const top: Record<string, string[]> = hasDom0State(plan) ? { dom0: ["qwire.dom0"] } : {};
  for (const q of plan.targets) top[q] = ["qwire.vm"];
  return { user: top };
}

function pillarTop(plan: Plan) {
  const top: Record<string, string[]> = {};
  for (const q of plan.qubes) top[q.qube] = [`qwire.qubes.${q.stem}`];
  return { user: top };
}

function qubeState(q: QubePlan, backend: Backend): State {
  const p = (suffix: string) => `qwire-${q.stem}-${suffix}`;
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

function teardownState(t: Teardown, backend: Backend): State {
  const p = (suffix: string) => `qwire-${t.stem}-${suffix}`;
  const teardown = `${QWIRE_DIR}/teardown`;
  return {
    // Boot hooks first, so a reboot in between cannot bring the rules back.
    [p("remove-hooks")]: { "file.absent": [{ name: backend.installPath("qubes-firewall.d") }] },
    [p("remove-rc")]: { "file.absent": [{ name: backend.installPath("rc.local.d") }] },
    [p("teardown-script")]: {
      "file.managed": [{ name: teardown }, { source: `salt://qwire/${backend.teardown.bundleName}` }, { user: "root" }, { group: "root" }, { mode: "0755" }, { makedirs: true }],
    },
    [p("teardown")]: { "cmd.run": [{ name: teardown }, { require: [{ file: p("teardown-script") }, { file: p("remove-hooks") }, { file: p("remove-rc") }] }] },
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
  const lines = q.addresses.map((name) => {
    const pinned = pins.get(name);
    return pinned !== undefined
      ? `${name} ${pinned}`
      : `${name} {{ salt['cmd.shell']('qvm-prefs -- ${name} ip 2>/dev/null || true') | replace('\\n', ' ') }}`;
  });
  return dumpYaml({ qwire: { addresses: lines.length === 0 ? "" : `${lines.join("\n")}\n` } }, [
    `Pillar for qube ${q.qube}, rendered in dom0 when qubesctl applies qwire.vm to it.`,
    q.addresses.length === 0 ? "It needs no qube addresses." : `Addresses it needs, looked up now (not at build time): ${q.addresses.join(", ")}.`,
  ]);
}
