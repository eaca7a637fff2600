/**
 * The Salt half of the bundle, built as data and dumped as YAML: the dom0
 * state (prefs, outbound policies, qrexec policy), the reconnect state and
 * the tops here; one state per qube (salt-qube.ts) and the pillars whose
 * Jinja asks dom0 for addresses at apply time (pillar.ts). Every state is
 * made by salt-states.ts, which admits only the Salt subset of DESIGN.md §3.
 */
import type { OutboundPolicy, Plan, QubePlan } from "../plan/index.js";
import type { QubeName, Release } from "../validate/index.js";
import { profileOf } from "../release/index.js";
import { BANNER, type FileSink } from "./artifact.js";
import { renderTemplate } from "./handlebars-env.js";
import type { Backend } from "./backend.js";
import { ADDRESSES, fileName, guestFiles, layoutOf, type Layout } from "./layout.js";
import { hostPillar, pillar } from "./pillar.js";
import { qvmFirewallR32Commands } from "./qvm-firewall-r32.js";
import { createRequisites, createStates } from "./create-states.js";
import { reconnectWords } from "./reconnect.js";
import { hostState, qubeState, teardownState } from "./salt-qube.js";
import { oneCommand, saltShell } from "./salt-shell.js";
import { state, type Requisite, type SaltStates, type StateArgs, type Top } from "./salt-states.js";
import { dumpYaml } from "./yaml.js";

export { removeState } from "./salt-qube.js";

/**
 * The Salt side of the bundle (dom0's state, tops, and per qube its state,
 * script and pillar), each file handed to `put` as soon as it is rendered.
 */
export function renderSalt(plan: Plan, backend: Backend, put: FileSink): void {
  const layout = layoutOf(plan.release);
  const yamlFile = (path: string, data: SaltStates | Top, comment: string[] = []) =>
    put({ path, content: dumpYaml(data, comment), mode: 0o644 });

  yamlFile("salt/qwire/dom0.sls", dom0State(plan), [
    ...dom0Comment(plan.release),
    ...(plan.defaultNetvm === undefined
      ? []
      : [
          `netvm: default (${plan.prefs
            .filter((p) => p.followsDefault)
            .map((p) => p.qube)
            .join(", ")}): reset to dom0's default netvm,`,
          `once qwire-default-netvm has checked that it is ${plan.defaultNetvm} (qubes-prefs default_netvm).`,
        ]),
    ...(plan.creates.length === 0
      ? []
      : [
          `Creates when missing (qvm.present; an existing qube is never changed or deleted): ${plan.creates.map((c) => c.qube).join(", ")}.`,
        ]),
    "Apply: sudo qubesctl state.apply qwire.dom0 saltenv=user",
  ]);
  if (plan.reconnect.length > 0)
    yamlFile("salt/qwire/reconnect.sls", reconnectState(plan), [
      "dom0, on demand only (not in the top): re-attach qubes to their netvms after a netvm restart, upstream first.",
      "Apply: sudo qubesctl state.apply qwire.reconnect saltenv=user",
      "Only running qubes are touched; a halted qube attaches when it starts.",
    ]);
  yamlFile("salt/qwire/init.top", stateTop(plan), ["Enabled by: sudo qubesctl top.enable qwire saltenv=user"]);
  yamlFile("pillar/qwire/init.top", pillarTop(plan), [
    "Enabled by: sudo qubesctl top.enable qwire saltenv=user pillar=true",
  ]);

  for (const q of plan.qubes) {
    // A guest's files are written by its host's state (below).
    if (q.host !== undefined) continue;
    if (q.hasPacketRules) {
      const script = layout.scriptPath(q.placement);
      put({
        path: `salt/qwire/files/${q.stem}/${fileName(script)}`,
        content: backend.renderScript(q, plan.release, script, ADDRESSES),
        mode: 0o755,
      });
      put({
        path: `pillar/qwire/qubes/${q.stem}.sls`,
        content: pillar(q, plan.pins, plan.release),
        mode: 0o644,
      });
    }
    yamlFile(`salt/qwire/qubes/${q.stem}.sls`, qubeState(q, backend, layout), [
      q.hasPacketRules
        ? `Qube ${q.qube}: installs its qwire script and the addresses it needs, then runs it.`
        : `Qube ${q.qube}: no packet rules (its old ones, if any, are removed); qrexec link sockets only.`,
    ]);
    if (q.connects.length > 0) {
      put({
        path: `salt/qwire/files/${q.stem}/${fileName(layout.connectPath)}`,
        content: renderConnectScript(q, plan.release, layout),
        mode: 0o755,
      });
    }
  }
  for (const h of plan.hosts) {
    const guests = h.guests.map((g) => plan.qubes.find((q) => q.qube === g.qube)!);
    for (const g of guests) {
      const where = guestFiles(g.host!.kind, g.qube);
      put({
        path: `salt/qwire/files/${h.stem}/${fileName(where.script)}`,
        content: backend.renderScript(g, plan.release, where.script, where.addresses),
        mode: 0o755,
      });
    }
    if (guests.length > 0)
      put({
        path: `pillar/qwire/qubes/${h.stem}.sls`,
        content: hostPillar(h, guests, plan.pins, plan.release),
        mode: 0o644,
      });
    yamlFile(
      `salt/qwire/qubes/${h.stem}.sls`,
      { ...(h.teardown ? teardownState({ qube: h.host, stem: h.stem }, backend, layout) : {}), ...hostState(h) },
      [
        guests.length > 0
          ? `${h.host} holds the qwire scripts of ${guests.map((g) => g.qube).join(", ")}, each guarded by its name; they load when that qube starts.`
          : `${h.host} holds the qwire scripts of no qube any more: remove the ones an earlier bundle put there.`,
        ...(h.teardown ? ["It carried qwire rules of its own in the previous build: they are removed first."] : []),
      ],
    );
  }
  if (plan.teardowns.length > 0) {
    for (const t of plan.teardowns) {
      yamlFile(`salt/qwire/qubes/${t.stem}.sls`, teardownState(t, backend, layout), [
        `Qube ${t.qube}: no longer carries any qwire intent; remove what qwire installed there.`,
      ]);
    }
  }
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

function dom0State(plan: Plan): SaltStates {
  const states: SaltStates = {};
  const { salt } = profileOf(plan.release);
  const legacyPrefs = salt.prefs === "qvm-prefs -s";
  const id = (q: QubeName) => `qwire-prefs-${q}`;
  const requisite = (q: QubeName): Requisite => (legacyPrefs ? { cmd: id(q) } : { qvm: id(q) });
  const hasPrefs = new Set(plan.prefs.filter((p) => !legacyPrefs || p.netvm !== undefined).map((p) => p.qube));
  if (plan.defaultNetvm !== undefined) {
    // The qubes that follow the default were planned behind this netvm: when dom0's default is
    // another qube, their netvm is left as it is and the apply fails with both names.
    states[DEFAULT_NETVM_CHECK] = state("cmd.run", {
      name: saltShell("default-netvm-mismatch", { netvm: plan.defaultNetvm }),
      unless: saltShell("default-netvm-is", { netvm: plan.defaultNetvm }),
    });
  }
  // Qubes to create come first; every state about one of them requires its creation.
  Object.assign(states, createStates(plan));
  const created = (...qubes: (QubeName | undefined)[]) => createRequisites(plan, qubes);
  for (const p of plan.prefs) {
    // A netvm must provide network before a qube is attached to it.
    const needs: Requisite[] = [
      ...created(p.qube, p.netvm),
      ...(p.netvm !== undefined && hasPrefs.has(p.netvm) ? [requisite(p.netvm)] : []),
    ];
    if (p.followsDefault) needs.push({ cmd: DEFAULT_NETVM_CHECK });
    const after = needs.length > 0 ? { require: needs } : {};
    if (legacyPrefs) {
      // R3.2: `qvm-prefs -s` sets; a NetVM/ProxyVM is a VM type there (qvm-create --proxy), not a
      // property, and the validator refused pinned addresses (QW4008).
      if (p.netvm === undefined) continue;
      states[id(p.qube)] = state("cmd.run", {
        name: oneCommand(["qvm-prefs", "-s", p.qube, "netvm", p.netvm]),
        unless: saltShell("netvm-is", { qube: p.qube, netvm: p.netvm }),
        ...after,
      });
      continue;
    }
    states[id(p.qube)] = state("qvm.prefs", {
      name: p.qube,
      ...(p.providesNetwork ? { "provides-network": true } : {}),
      // '*default*' resets the property (qvm.prefs: delattr) and is a [SKIP] when it is already at the default.
      ...(p.netvm !== undefined ? { netvm: p.followsDefault ? "*default*" : p.netvm } : {}),
      ...(p.noNetvm ? { netvm: "" } : {}),
      ...(p.ip !== undefined ? { ip: p.ip } : {}),
      ...(p.templateForDispvms ? { "template-for-dispvms": true } : {}),
      ...after,
    });
  }
  // IPv6 is opt-in per qube in Qubes (qvm-features QUBE ipv6 1).
  for (const q of plan.ipv6Qubes) {
    const needs = created(q);
    states[`qwire-ipv6-${q}`] = state("qvm.features", {
      name: q,
      enable: ["ipv6"],
      ...(needs.length > 0 ? { require: needs } : {}),
    });
  }
  Object.assign(states, salt.policy === "qubes-rpc/policy" ? qrexecPolicyStateR40(plan) : qrexecPolicyState(plan));
  for (const f of plan.firewalls) {
    const needs: Requisite[] = [...created(f.qube), ...(hasPrefs.has(f.qube) ? [requisite(f.qube)] : [])];
    if (f.overflow !== undefined) {
      // Past qubesd's limit the netvm enforces the list for IPv4 only, and the
      // list dom0 sets ends in accept: IPv6 stays off for this qube (an
      // explicit '' wins over a netvm's ipv6 feature), before the list is set.
      const exists = created(f.qube);
      states[`qwire-ipv6-off-${f.qube}`] = state("qvm.features", {
        name: f.qube,
        disable: ["ipv6"],
        ...(exists.length > 0 ? { require: exists } : {}),
      });
      needs.push({ qvm: `qwire-ipv6-off-${f.qube}` });
    }
    const after = needs.length > 0 ? { require: needs } : {};
    states[`qwire-firewall-${f.qube}`] =
      f.r32 !== undefined
        ? state("cmd.run", { ...qvmFirewallR32Commands(f.qube, f.r32.set), ...after })
        : salt.firewall === "qvm-firewall reset"
          ? state("cmd.run", { ...qvmFirewallCommands(f), ...after })
          : state("qvm.firewall", { name: f.qube, set: f.rules, ...after });
  }
  return states;
}

/**
 * R4.0 has no qvm.firewall state: qvm-firewall itself, run only when the
 * list differs (templates/salt/r40-firewall-*.sh.hbs).
 */
function qvmFirewallCommands(f: OutboundPolicy): Pick<StateArgs<"cmd.run">, "name" | "unless"> {
  return {
    name: saltShell("r40-firewall-set", { qube: f.qube, rules: f.rules.map((r) => r.split(" ")) }),
    unless: saltShell("r40-firewall-is", { qube: f.qube, rules: f.rules }),
  };
}

function reconnectState(plan: Plan): SaltStates {
  const states: SaltStates = {};
  let previous: string | undefined;
  for (const r of plan.reconnect) {
    const id = `qwire-reconnect-${r.qube}`;
    states[id] = state("cmd.run", {
      name: saltShell("all-of", { commands: reconnectWords(plan.release, r) }),
      onlyif: saltShell("both-running", { qube: r.qube, netvm: r.netvm }),
      // Upstream first: a netvm must be attached before its own clients.
      ...(previous === undefined ? {} : { require: [{ cmd: previous }] }),
    });
    previous = id;
  }
  return states;
}

function stateTop(plan: Plan): Top {
  // dom0 always has a state: the qrexec policy is written, or removed when empty.
  const top: Record<string, string[]> = { dom0: ["qwire.dom0"] };
  for (const q of plan.targets) top[q] = ["qwire.vm"];
  return { user: top };
}

function pillarTop(plan: Plan): Top {
  const top: Record<string, string[]> = {};
  for (const q of plan.qubes) if (q.hasPacketRules && q.host === undefined) top[q.qube] = [`qwire.qubes.${q.stem}`];
  for (const h of plan.hosts) if (h.guests.length > 0) top[h.host] = [`qwire.qubes.${h.stem}`];
  return { user: Object.fromEntries(Object.entries(top).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

function renderConnectScript(q: QubePlan, release: Plan["release"], layout: Layout): string {
  return renderTemplate("qrexec/connect-script.sh.hbs", {
    qube: q.qube,
    release,
    installedAs: layout.connectPath,
    runs: layout.markedBlocks
      ? "a marked block in /rw/config/rc.local calls it at boot,"
      : "the qube runs it at boot and",
    policyFile:
      profileOf(release).salt.policy === "qubes-rpc/policy"
        ? "/etc/qubes-rpc/policy/qubes.ConnectTCP+PORT"
        : QREXEC_POLICY,
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
function qrexecPolicyState(plan: Plan): SaltStates {
  if (plan.qrexecPolicy.length === 0) return { "qwire-qrexec-policy": state("file.absent", { name: QREXEC_POLICY }) };
  const lines = [
    `# ${BANNER}`,
    "# qrexec links (qubes.ConnectTCP): the connecting qube calls @default, this file picks the target.",
    ...plan.qrexecPolicy.map((l) => `qubes.ConnectTCP +${l.port} ${l.from} @default allow target=${l.to}`),
  ];
  return {
    "qwire-qrexec-policy": state("file.managed", {
      name: QREXEC_POLICY,
      contents: `${lines.join("\n")}\n`,
      user: "root",
      group: "qubes",
      mode: "0664",
    }),
  };
}

const R40_POLICY_DIR = "/etc/qubes-rpc/policy";
const R40_MARKERS = { start: `# BEGIN qwire: ${BANNER}`, end: "# END qwire" } as const;

/**
 * R4.0's qrexec policy (reference §5): one file per port,
 * /etc/qubes-rpc/policy/qubes.ConnectTCP+PORT, lines `source destination
 * action[,options]`, first match wins. The user may have such a file, so
 * qwire's lines go in a marked block at its top; blocks in files of ports
 * no longer used are deleted (and a file left empty with them), which closes
 * links deleted from qwire.yaml.
 */
function qrexecPolicyStateR40(plan: Plan): SaltStates {
  const states: SaltStates = {};
  const ports = [...new Set(plan.qrexecPolicy.map((l) => l.port))];
  const fileOf = (port: number) => `${R40_POLICY_DIR}/qubes.ConnectTCP+${port}`;
  for (const port of ports) {
    const file = fileOf(port);
    const id = `qwire-qrexec-policy-${port}`;
    states[id] = state("file.managed", {
      name: file,
      contents: "",
      replace: false,
      user: "root",
      group: "qubes",
      mode: "0664",
    });
    const lines = plan.qrexecPolicy
      .filter((l) => l.port === port)
      .map((l) => `${l.from} @default allow,target=${l.to}\n`);
    states[`${id}-block`] = state("file.blockreplace", {
      name: file,
      marker_start: R40_MARKERS.start,
      marker_end: R40_MARKERS.end,
      content: lines.join(""),
      prepend_if_not_found: true,
      backup: false,
      require: [{ file: id }],
    });
  }
  // Files of other ports that still hold a qwire block: the ports of links deleted from qwire.yaml.
  const stale = { dir: R40_POLICY_DIR, endMarker: R40_MARKERS.end, keep: ["", ...ports.map(fileOf)] };
  states["qwire-qrexec-policy-stale"] = state("cmd.run", {
    name: saltShell("remove-stale-policy-blocks", stale),
    onlyif: saltShell("stale-policy-files", stale),
  });
  return states;
}
