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
 * Every qube loads `table ip qubes` when it starts. Where the model differs
 * from Qubes is listed in docs/simulate.md.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Topology } from "../../topology/index.js";
import type { QubeName } from "../../validate/index.js";
import { SimulateError } from "../errors.js";
import { AddressBook } from "./addresses.js";
import type { Namespaces } from "./namespaces.js";
import { qubesIptablesRules, vifAntispoof } from "./qubes-iptables.js";
import { DELETE_QUBES_FIREWALL, downstreamElements, qubes6Table, qubesFirewallTable, qubesTable, type ModelRelease } from "./qubes-tables.js";

export interface ModelQube {
  readonly name: QubeName;
  readonly netvm: QubeName | undefined;
  readonly providesNetwork: boolean;
  readonly pinned: string | undefined;
  /** The Qubes `ipv6` feature: it has an ip6 address (qvm-prefs ip6); the model carries no IPv6 traffic. */
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
}

/** One outside network: a veth from an entry qube's interface into a LAN namespace. */
export interface Lan {
  readonly index: number;
  readonly qube: QubeName;
  readonly iface: string;
  readonly gateway: string;
  readonly clients: readonly string[];
  ns: string | undefined;
}

export interface LanRequest {
  readonly qube: QubeName;
  readonly iface: string;
  readonly clients: readonly string[];
}

export class QubesModel {
  /** "4.1": iptables base rules (reference §2.1) and the R4.2-shaped qubes-firewall table (§2.2). */
  readonly release: ModelRelease | "4.1";
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
      throw new SimulateError("unsupported", `the simulator models Qubes R4.3, R4.2 (nftables) and R4.1 (iptables base rules); this file is for R${release}`);
    }
    const guest = topology.spec.qubes.find((q) => q.guestOf !== undefined);
    if (guest !== undefined) {
      throw new SimulateError(
        "unsupported",
        `the simulator does not model qubes whose files live in a disposable template or a template ('${guest.name}': ${guest.guestOf!.kind === "disposable" ? "disposable_template" : "placement: template"}); see docs/simulate.md`,
      );
    }
    this.release = release;
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
      });
    }
    lans.forEach((l, index) => this.#lans.push({ ...l, index, gateway: AddressBook.lanGateway(index), ns: undefined }));
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
      else await this.ns.nft(netvm.ns, `delete element ip qubes allowed { "${q.vif}" . ${q.ip} }\ndelete element ip qubes downstream { ${q.ip} }\n`);
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
    const downstream = this.qubes().filter((c) => c.netvm === name && c.vif).map((c) => ({ address: c.ip, ...(c.firewallRules ? { rules: c.firewallRules } : {}) }));
    await this.ns.nft(q.ns, (q.firewallTable ? DELETE_QUBES_FIREWALL : "") + qubesFirewallTable(this.release === "4.1" ? "4.2" : this.release, downstream));
    q.firewallTable = true;
  }

  /** qvm-firewall set (dom0): the netvm's qubes-firewall picks the list up at once. */
  async setFirewallRules(name: QubeName, rules: readonly string[]): Promise<void> {
    const q = this.qube(name);
    q.firewallRules = rules;
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
    await this.ns.runnerIp(["link", "add", "name", "eth0", "netns", child.ns!, "type", "veth", "peer", "name", vif, "netns", netvm.ns!]);
    await this.ns.ipBatch(child.ns!, [
      "link set eth0 group 1 up",
      `address add ${child.ip}/32 dev eth0`,
      `route add ${netvm.ip} dev eth0`,
      `route add default via ${netvm.ip} dev eth0`,
    ]);
    // `replace`, not `add`: after a restart the kernel may not yet have removed
    // the route through the old vif (namespace teardown is asynchronous).
    await this.ns.ipBatch(netvm.ns!, [`link set ${vif} group 2 up`, `address add ${netvm.ip}/32 dev ${vif}`, `route replace ${child.ip} dev ${vif}`]);
    if (this.release === "4.1") await this.ns.iptablesRestore(netvm.ns!, vifAntispoof("add", vif, child.ip));
    else await this.ns.nft(netvm.ns!, downstreamElements(vif, child.ip));
    child.vif = vif;
    if (netvm.providesNetwork && netvm.firewallTable) await this.loadFirewallTable(netvm.name);
  }

  async #startLan(q: ModelQube, lan: Lan): Promise<void> {
    lan.ns = await this.ns.create("o");
    await this.ns.runnerIp(["link", "add", "name", lan.iface, "netns", q.ns!, "type", "veth", "peer", "name", "lan0", "netns", lan.ns]);
    const first = this.#lans.find((l) => l.qube === q.name);
    await this.ns.ipBatch(q.ns!, [
      `link set ${lan.iface} up`,
      `address add ${lan.gateway}/32 dev ${lan.iface}`,
      ...lan.clients.map((c) => `route add ${c}/32 dev ${lan.iface}`),
      // The top netvm's default route leaves through its (first) uplink.
      ...(q.netvm === undefined && first === lan ? [`route add default dev ${lan.iface}`] : []),
    ]);
    await this.ns.ipBatch(lan.ns, ["link set lan0 up", ...lan.clients.map((c) => `address add ${c}/32 dev lan0`), `route add ${lan.gateway}/32 dev lan0`]);
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

/** Declared qubes, each netvm before the qubes behind it; ties by name. */
export function bootOrder(topology: Topology): QubeName[] {
  const names = topology.graph.names().sort();
  const depth = (n: QubeName) => topology.graph.upstream(n).length;
  return names.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}
