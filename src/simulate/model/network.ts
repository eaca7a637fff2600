/**
 * The model of a Qubes machine's network: one network namespace per qube,
 * wired as Qubes wires them (reference/qubes-networking.md §1.1, §1.5):
 *
 * - a qube with a netvm has `eth0` (link group 1) with its 10.137.0.N/32, a
 *   host route to its gateway (the netvm's own address) and a default route;
 * - its netvm has the other end as `vif<domid>.0` (group 2), holding the
 *   netvm's address, with a host route to the qube, and the qube's address in
 *   the `allowed`/`downstream` sets (what vif-route-qubes does);
 * - net qubes forward (ip_forward=1) and carry `table ip qubes-firewall`;
 * - every entry interface (an uplink such as ens6, or a forward's
 *   `interface:`) is a veth into an "outside" namespace that holds the LAN
 *   clients' addresses.
 *
 * A qube with `ipv6: true` behind a netvm with it also gets its Qubes IPv6
 * address (fd09:24ef:4179::a89:N, ipv6.ts) on eth0, the netvm's IPv6
 * address as gateway, and the `ip6 qubes` set elements; outside networks
 * with IPv6 clients get 2001:2:0:K::1 on the entry interface.
 *
 * Every qube loads `table ip qubes` and `table ip6 qubes` when it starts.
 * Where the model differs from Qubes is listed in docs/simulate.md.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Topology } from "../../topology/index.js";
import { AUTO_UPLINK, type QubeName } from "../../validate/index.js";
import { SimulateError } from "../errors.js";
import { AddressBook } from "./addresses.js";
import type { Namespaces } from "./namespaces.js";
import { lanGateway6, qubeAddress6 } from "./ipv6.js";
import { qubesIptablesRules, vifAntispoof } from "./qubes-iptables.js";
import {
  DELETE_QUBES_FIREWALL,
  downstreamElements,
  downstreamRemoval,
  qubes6Table,
  qubesFirewallTable,
  qubesTable,
  type ModelRelease,
} from "./qubes-tables.js";

export interface ModelQube {
  readonly name: QubeName;
  readonly netvm: QubeName | undefined;
  readonly providesNetwork: boolean;
  readonly pinned: string | undefined;
  /** The Qubes `ipv6` feature: it has an ip6 address (qvm-prefs ip6), see address6(). */
  readonly ipv6: boolean;
  ip: string;
  domid: number;
  /** Host directory bind-mounted on /rw inside the qube. */
  rwDir: string;
  /** Host directories on /run and /tmp: emptied at every start, as a qube's volatile root is. */
  runDir: string;
  tmpDir: string;
  ns: string | undefined;
  /** Name of its vif in the netvm while attached. */
  vif: string | undefined;
  generation: number;
  firewallTable: boolean;
  /** Its qvm-firewall list (nft statements for the netvm's qbs chain); undefined = the Qubes default, accept. */
  firewallRules: readonly string[] | undefined;
  /** The same list for its IPv6 address (`ip6 qubes-firewall`). */
  firewallRules6: readonly string[] | undefined;
}

/** A qube's IPv6 address (qvm-prefs ip6), when it has the ipv6 feature. */
export function address6(q: ModelQube): string | undefined {
  return q.ipv6 ? qubeAddress6(q.ip) : undefined;
}

/** One outside network: a veth from an entry qube's interface into a LAN namespace. */
export interface Lan {
  readonly index: number;
  readonly qube: QubeName;
  readonly iface: string;
  readonly gateway: string;
  /** The entry qube's IPv6 address there (2001:2:0:K::1). */
  readonly gateway6: string;
  /** IPv4 and IPv6 client addresses. */
  readonly clients: readonly string[];
  readonly uplink?: boolean;
  ns: string | undefined;
}

export interface LanRequest {
  readonly qube: QubeName;
  readonly iface: string;
  readonly clients: readonly string[];
  /** An uplink (declared, or the model's inet0): a top netvm's default route leaves through its first one. */
  readonly uplink?: boolean;
}

export class QubesModel {
  /** "4.1": iptables base rules (reference §2.1) and the R4.2-shaped qubes-firewall table (§2.2). */
  readonly release: ModelRelease | "4.1";
  /** dom0's default_netvm, as qwire.yaml states it. */
  readonly defaultNetvm: QubeName | undefined;
  readonly #qubes = new Map<QubeName, ModelQube>();
  readonly #lans: Lan[] = [];
  readonly #book: AddressBook;

  constructor(
    topology: Topology,
    lans: readonly LanRequest[],
    private readonly ns: Namespaces,
    private readonly dir: string,
  ) {
    const release = topology.spec.release;
    if (release !== "4.2" && release !== "4.3" && release !== "4.1") {
      throw new SimulateError(
        "unsupported",
        `the simulator models Qubes R4.3, R4.2 (nftables) and R4.1 (iptables base rules); this file is for R${release}`,
      );
    }
    const guest = topology.spec.qubes.find((q) => q.guestOf !== undefined);
    if (guest !== undefined) {
      throw new SimulateError(
        "unsupported",
        `the simulator does not model qubes whose files live in a disposable template or a template ('${guest.name}': ${guest.guestOf!.kind === "disposable" ? "disposable_template" : "placement: template"}); see docs/simulate.md`,
      );
    }
    this.release = release;
    this.defaultNetvm = topology.spec.defaultNetvm?.name;
    this.#book = new AddressBook(topology.spec.qubes.flatMap((q) => (q.ip !== undefined ? [q.ip] : [])));
    // Top-down, so that addresses follow boot order as they would in a fresh install.
    for (const name of bootOrder(topology)) {
      const q = topology.graph.get(name)!;
      this.#qubes.set(name, {
        name,
        netvm: q.netvm,
        providesNetwork: q.providesNetwork,
        pinned: q.ip,
        ipv6: q.ipv6 === true,
        ip: q.ip ?? this.#book.qubeAddress(),
        domid: 0,
        rwDir: "",
        runDir: "",
        tmpDir: "",
        ns: undefined,
        vif: undefined,
        generation: 0,
        firewallTable: false,
        firewallRules: undefined,
        firewallRules6: undefined,
      });
    }
    lans.forEach((l, index) =>
      this.#lans.push({
        ...l,
        index,
        gateway: AddressBook.lanGateway(index),
        gateway6: lanGateway6(index),
        ns: undefined,
      }),
    );
  }

  qube(name: QubeName): ModelQube {
    const q = this.#qubes.get(name);
    if (!q) throw new SimulateError("model", `qube '${name}' is not in the model`);
    return q;
  }

  has(name: string): boolean {
    return this.#qubes.has(name as QubeName);
  }

  /** Qubes in boot order: every netvm before the qubes behind it. */
  qubes(): ModelQube[] {
    return [...this.#qubes.values()];
  }

  lans(): readonly Lan[] {
    return this.#lans;
  }

  lan(qube: QubeName, iface: string): Lan | undefined {
    return this.#lans.find((l) => l.qube === qube && l.iface === iface);
  }

  /** Starts every qube, netvms first, with an empty /rw. */
  async startAll(): Promise<void> {
    for (const q of this.qubes()) await this.start(q.name);
  }

  /** Starts a qube: namespace, base tables, uplink, outside interfaces, downstream vifs. Hooks are lifecycle's job. */
  async start(name: QubeName): Promise<void> {
    const q = this.qube(name);
    if (q.ns) return;
    if (!q.rwDir) await this.#freshRw(q);
    q.domid = this.#book.domid();
    const volatile = join(this.dir, "volatile", `${q.name}.${q.domid}`);
    q.runDir = join(volatile, "run");
    q.tmpDir = join(volatile, "tmp");
    await mkdir(q.runDir, { recursive: true });
    await mkdir(q.tmpDir, { recursive: true, mode: 0o1777 });
    q.ns = await this.ns.create("q");
    if (this.release === "4.1") await this.ns.iptablesRestore(q.ns, qubesIptablesRules("4.1"));
    // qubes-iptables loads both families in every qube, whether IPv6 is on or not.
    else await this.ns.nft(q.ns, qubesTable() + qubes6Table());
    const netvm = q.netvm && this.#qubes.get(q.netvm);
    if (netvm?.ns) await this.#attach(q, netvm);
    for (const lan of this.#lans.filter((l) => l.qube === name)) await this.#startLan(q, lan);
    if (q.providesNetwork) {
      await this.ns.sysctl(q.ns, "net.ipv4.ip_forward", "1");
      await this.ns.sysctl(q.ns, "net.ipv6.conf.all.forwarding", "1");
      await this.loadFirewallTable(name);
    }
    for (const child of this.qubes()) {
      if (child.netvm === name && child.ns && !child.vif) await this.#attach(child, q);
    }
  }

  /** Shuts a qube down: its vif goes offline in its netvm, its namespace (and outside networks) go away. */
  async stop(name: QubeName): Promise<void> {
    const q = this.qube(name);
    if (!q.ns) return;
    const netvm = q.netvm && this.#qubes.get(q.netvm);
    if (netvm?.ns && q.vif) {
      // vif-route-qubes "offline"
      if (this.release === "4.1") await this.ns.iptablesRestore(netvm.ns, vifAntispoof("delete", q.vif, q.ip));
      else {
        const six = ipv6Pair(q, netvm);
        await this.ns.nft(
          netvm.ns,
          downstreamRemoval(q.vif, q.ip) + (six ? downstreamRemoval(q.vif, six.child, "ip6") : ""),
        );
      }
      q.vif = undefined;
      if (netvm.providesNetwork) await this.loadFirewallTable(netvm.name);
    }
    for (const child of this.qubes()) if (child.netvm === name) child.vif = undefined;
    for (const lan of this.#lans.filter((l) => l.qube === name && l.ns)) {
      await this.ns.delete(lan.ns!);
      lan.ns = undefined;
    }
    await this.ns.delete(q.ns);
    q.ns = undefined;
    q.firewallTable = false;
  }

  /** qvm-remove + qvm-create: a new qid (new address unless pinned) and an empty /rw. */
  async recreate(name: QubeName): Promise<void> {
    const q = this.qube(name);
    await this.stop(name);
    if (q.pinned === undefined) q.ip = this.#book.qubeAddress();
    q.firewallRules = undefined;
    q.firewallRules6 = undefined;
    await this.#freshRw(q);
    await this.start(name);
  }

  /**
   * (Re)builds `table ip qubes-firewall` for the qubes attached now, as the
   * qubes-firewall daemon does at start and on every /connected-ips change.
   * Hooks are not run here (lifecycle runs them when the service starts).
   */
  async loadFirewallTable(name: QubeName): Promise<void> {
    const q = this.qube(name);
    if (!q.ns) return;
    const attached = this.qubes().filter((c) => c.netvm === name && c.vif);
    const downstream = attached.map((c) => ({ address: c.ip, ...(c.firewallRules ? { rules: c.firewallRules } : {}) }));
    const downstream6 = attached.flatMap((c) => {
      const six = ipv6Pair(c, q);
      return six ? [{ address: six.child, ...(c.firewallRules6 ? { rules: c.firewallRules6 } : {}) }] : [];
    });
    // R4.1's qubes-firewall builds the same nft table as R4.2 (reference §2.2).
    const release = this.release === "4.1" ? "4.2" : this.release;
    await this.ns.nft(
      q.ns,
      (q.firewallTable ? DELETE_QUBES_FIREWALL : "") +
        qubesFirewallTable(release, downstream) +
        qubesFirewallTable(release, downstream6, "ip6"),
    );
    q.firewallTable = true;
  }

  /** qvm-firewall set (dom0): the netvm's qubes-firewall picks the list up at once. */
  async setFirewallRules(name: QubeName, rules: readonly string[], rules6: readonly string[]): Promise<void> {
    const q = this.qube(name);
    q.firewallRules = rules;
    q.firewallRules6 = rules6;
    if (q.netvm && this.qube(q.netvm).firewallTable) await this.loadFirewallTable(q.netvm);
  }

  /** qubes-firewall stop: `cleanup()` deletes its table. */
  async deleteFirewallTable(name: QubeName): Promise<void> {
    const q = this.qube(name);
    if (!q.ns || !q.firewallTable) return;
    await this.ns.nft(q.ns, DELETE_QUBES_FIREWALL);
    q.firewallTable = false;
  }

  async #attach(child: ModelQube, netvm: ModelQube): Promise<void> {
    const vif = `vif${child.domid}.0`;
    // After a restart of either end, the old veth pair can outlive its
    // namespace for a moment (namespace teardown is asynchronous): remove it.
    await this.ns.removeLink(child.ns!, "eth0");
    await this.ns.removeLink(netvm.ns!, vif);
    await this.ns.runnerIp([
      "link",
      "add",
      "name",
      "eth0",
      "netns",
      child.ns!,
      "type",
      "veth",
      "peer",
      "name",
      vif,
      "netns",
      netvm.ns!,
    ]);
    await this.ns.ipBatch(child.ns!, [
      "link set eth0 group 1 up",
      `address add ${child.ip}/32 dev eth0`,
      `route add ${netvm.ip} dev eth0`,
      `route add default via ${netvm.ip} dev eth0`,
    ]);
    // replace: the vif of the qube's previous run may linger for a moment (namespace teardown is asynchronous).
    await this.ns.ipBatch(netvm.ns!, [
      `link set ${vif} group 2 up`,
      `address add ${netvm.ip}/32 dev ${vif}`,
      `route replace ${child.ip} dev ${vif}`,
    ]);
    if (this.release === "4.1") await this.ns.iptablesRestore(netvm.ns!, vifAntispoof("add", vif, child.ip));
    else await this.ns.nft(netvm.ns!, downstreamElements(vif, child.ip));
    const six = ipv6Pair(child, netvm);
    if (six) {
      // nodad: the addresses are unique by construction, and DAD would delay the first packets.
      await this.ns.ipBatch(child.ns!, [
        `address add ${six.child}/128 dev eth0 nodad`,
        `route add ${six.netvm} dev eth0`,
        `route add default via ${six.netvm} dev eth0`,
      ]);
      await this.ns.ipBatch(netvm.ns!, [
        `address add ${six.netvm}/128 dev ${vif} nodad`,
        `route replace ${six.child} dev ${vif}`,
      ]);
      await this.ns.nft(netvm.ns!, downstreamElements(vif, six.child, "ip6"));
    }
    child.vif = vif;
    if (netvm.providesNetwork && netvm.firewallTable) await this.loadFirewallTable(netvm.name);
  }

  async #startLan(q: ModelQube, lan: Lan): Promise<void> {
    lan.ns = await this.ns.create("o");
    const dev = deviceOf(lan);
    await this.ns.runnerIp([
      "link",
      "add",
      "name",
      dev,
      "netns",
      q.ns!,
      "type",
      "veth",
      "peer",
      "name",
      "lan0",
      "netns",
      lan.ns,
    ]);
    const mine = this.#lans.filter((l) => l.qube === q.name);
    const first = mine.find((l) => l.uplink) ?? mine[0];
    const v4 = lan.clients.filter((c) => !c.includes(":"));
    const v6 = lan.clients.filter((c) => c.includes(":"));
    await this.ns.ipBatch(q.ns!, [
      `link set ${dev} up`,
      `address add ${lan.gateway}/32 dev ${dev}`,
      ...v4.map((c) => `route add ${c}/32 dev ${dev}`),
      ...(v6.length > 0
        ? [`address add ${lan.gateway6}/128 dev ${dev} nodad`, ...v6.map((c) => `route add ${c}/128 dev ${dev}`)]
        : []),
      // The top netvm's default route leaves through its (first) uplink.
      ...(q.netvm === undefined && first === lan ? [`route add default dev ${dev}`] : []),
    ]);
    await this.ns.ipBatch(lan.ns, [
      "link set lan0 up",
      ...v4.map((c) => `address add ${c}/32 dev lan0`),
      `route add ${lan.gateway}/32 dev lan0`,
      ...v6.map((c) => `address add ${c}/128 dev lan0 nodad`),
      ...(v6.length > 0 ? [`route add ${lan.gateway6}/128 dev lan0`] : []),
    ]);
  }

  async #freshRw(q: ModelQube): Promise<void> {
    q.generation++;
    q.rwDir = join(this.dir, "rw", `${q.name}.${q.generation}`);
    const config = join(q.rwDir, "config");
    await mkdir(config, { recursive: true });
    // What init/setup-rw.sh puts into a fresh /rw/config.
    await writeFile(join(config, "rc.local"), RC_LOCAL_STUB, { mode: 0o755 });
    await writeFile(join(config, "qubes-firewall-user-script"), FIREWALL_USER_SCRIPT_STUB, { mode: 0o755 });
  }
}

/**
 * The network device of an outside network. `uplink: auto` names none (the
 * qube's script finds it at run time), so the model gives the entry qube a
 * card named as on a laptop, which no qwire.yaml of the tests names.
 */
export const AUTO_UPLINK_DEVICE = "enp0s31f6";

function deviceOf(lan: Lan): string {
  return lan.iface === AUTO_UPLINK ? AUTO_UPLINK_DEVICE : lan.iface;
}

const RC_LOCAL_STUB = `#!/bin/sh

# This script will be executed at every VM startup, you can place your own
# custom commands here. This includes overriding some configuration in /etc,
# starting services etc.
`;

const FIREWALL_USER_SCRIPT_STUB = `#!/bin/sh

# This script is called at AppVM boot if this AppVM has the qubes-firewall
# service enabled. It is executed after the empty chains for the Qubes firewall
# are created, but before rules for attached qubes are processed and inserted.
`;

/** The IPv6 addresses of a qube and its netvm, when both have the ipv6 feature (else the qube has no IPv6 route). */
function ipv6Pair(child: ModelQube, netvm: ModelQube): { child: string; netvm: string } | undefined {
  const c = address6(child);
  const n = address6(netvm);
  return c && n ? { child: c, netvm: n } : undefined;
}

/** Declared qubes, each netvm before the qubes behind it; ties by name. */
export function bootOrder(topology: Topology): QubeName[] {
  const names = topology.graph.names().sort();
  const depth = (n: QubeName) => topology.graph.upstream(n).length;
  return names.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}
