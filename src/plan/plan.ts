/**
 * Plan: every decision qwire makes, as data, sorted. Render turns it into
 * bytes without deciding anything; golden tests and plan.json show it as is.
 */
import type { IntentDecision } from "./decisions.js";
import type { Reattach } from "./reconnect.js";
import type { OverflowChain } from "./overflow.js";
import type {
  CreatedClass,
  IntentName,
  InterfaceName,
  Ipv4Cidr,
  Ipv6Cidr,
  PortRange,
  Proto,
  QubeLabel,
  QubeName,
  R32Firewall,
  Release,
} from "../validate/index.js";

/** Source networks of one address family. */
export type Cidr = Ipv4Cidr | Ipv6Cidr;

/**
 * How a packet must arrive at a hop: on a named outside interface, on the
 * entry qube's one outside interface its script finds at run time
 * (`uplink: auto`), or on the Qubes uplink (eth0, iifgroup 1).
 */
export type Arrival =
  | { readonly kind: "interface"; readonly name: InterfaceName }
  | { readonly kind: "detected" }
  | { readonly kind: "uplink" };

/** One hop of a forward in a net qube: DNAT to the next qube, and let it through. */
export interface ForwardHop {
  readonly intent: IntentName;
  readonly arrival: Arrival;
  readonly sources: readonly Cidr[];
  readonly proto: Proto;
  /** Destination port(s) of the packet as it arrives here. */
  readonly dport: PortRange;
  readonly next: QubeName;
  /** Set on the last hop when the forward translates a single port. */
  readonly translateTo?: number;
}

/** The target of a forward accepts it in its input chain. */
export interface ForwardInput {
  readonly intent: IntentName;
  readonly arrival: Arrival;
  readonly sources: readonly Cidr[];
  readonly proto: Proto;
  readonly dport: PortRange;
}

export type Traffic =
  { readonly kind: "all" } | { readonly kind: "ports"; readonly proto: Proto; readonly ports: readonly PortRange[] };

/** In the firewall qube of a link: traffic from `from` to `to` may pass. */
export interface LinkPass {
  readonly intents: readonly IntentName[];
  readonly from: QubeName;
  readonly to: QubeName;
  readonly traffic: readonly Traffic[];
}

/** In the target of a link: traffic from `from` may come in. */
export interface LinkInput {
  readonly intents: readonly IntentName[];
  readonly from: QubeName;
  readonly traffic: readonly Traffic[];
}

/**
 * In the connecting qube of a qrexec link: a systemd socket on
 * 127.0.0.1:localPort that runs `qrexec-client-vm @default qubes.ConnectTCP+port`;
 * dom0's policy sends it to `to`.
 */
export interface QrexecConnect {
  readonly intent: IntentName;
  readonly to: QubeName;
  readonly port: number;
  readonly localPort: number;
}

export type { BackendName, Placement } from "../release/index.js";
import type { BackendName, Placement } from "../release/index.js";

/** Where a guest's files live: its disposable template's /rw, or its template's /etc/qubes. */
export type GuestKind = "disposable" | "template";

/** A qube that holds the files of guest net qubes and runs nothing of its own. */
export interface HostPlan {
  readonly host: QubeName;
  readonly stem: string;
  /** Sorted by name; empty when a host of the previous build lost all its guests (their files are removed). */
  readonly guests: readonly { readonly qube: QubeName; readonly kind: GuestKind }[];
  /** The host carried rules of its own in the previous build: its state also tears them down. */
  readonly teardown: boolean;
}

/** A qube's packet rules of one address family (table ip qubes or ip6 qubes). */
export interface FamilyRules {
  readonly forwardHops: readonly ForwardHop[];
  readonly forwardInputs: readonly ForwardInput[];
  readonly linkPasses: readonly LinkPass[];
  readonly linkInputs: readonly LinkInput[];
  /** Qubes whose address of this family the script needs, sorted. */
  readonly addresses: readonly QubeName[];
}

/** IPv4 rules at the top level (every qube has them), IPv6 under `v6`. */
export interface QubePlan extends FamilyRules {
  readonly qube: QubeName;
  /** File-name form of the qube name for Salt (no '.'). */
  readonly stem: string;
  readonly placement: Placement;
  /** The qube has `ipv6: true`: its script also owns qwire's objects in table ip6 qubes. */
  readonly ipv6: boolean;
  readonly v6: FamilyRules;
  /** Whether it carries any packet rule (forwards, network links): only then it gets an nft script. */
  readonly hasPacketRules: boolean;
  /** Sorted by local port; empty when the qube starts no qrexec link. */
  readonly connects: readonly QrexecConnect[];
  /** What this qube does, one decision per intent line (README, script header, plan.json). */
  readonly decisions: readonly IntentDecision[];
  /** Set for a guest: its script and addresses are installed in this host, guarded by the guest's name. */
  readonly host?: { readonly qube: QubeName; readonly kind: GuestKind };
  /**
   * R3.2 only, past qvm-firewall's 3 kB limit: the whole outbound policy,
   * which this qube enforces itself in chain QWIRE-OUT (dom0 sets allow).
   */
  readonly outbound?: R32Firewall;
  /**
   * R4.2/R4.3, set only when not empty: the outbound lists of downstream
   * qubes past qubesd's limit (Qubes #4228), which this netvm enforces in
   * table ip qubes, sorted by qube. Their addresses are in `addresses`.
   */
  readonly overflows?: readonly OverflowChain[];
}

/** A qube that carried qwire files in the previous build and carries none now. */
export interface Teardown {
  readonly qube: QubeName;
  readonly stem: string;
}

/** qvm.prefs that dom0 enforces for a declared qube. */
export interface Dom0Prefs {
  readonly qube: QubeName;
  /** The netvm the qube ends up with; with `followsDefault`, dom0's default_netvm. */
  readonly netvm?: QubeName;
  /** `netvm: default`: dom0 resets the qube's netvm to the default rather than naming it. */
  readonly followsDefault?: true;
  readonly providesNetwork?: true;
  readonly ip?: string;
  /** A disposable template qwire creates (`create: { template_for_dispvms: true }`). */
  readonly templateForDispvms?: true;
  /**
   * A qube with `create:` and no netvm in qwire.yaml: dom0 keeps it without
   * one (qvm-create attaches a new qube to the default netvm). Upstream's
   * qvm.present reports no changes when it creates a qube, so "only right
   * after creating it" cannot be told to Salt (onchanges never fires).
   */
  readonly noNetvm?: true;
}

/**
 * A qube dom0 creates when it is missing (qvm.present), before every other
 * state about it; an existing qube keeps its class, template and label.
 */
export interface Dom0Create {
  readonly qube: QubeName;
  readonly class: CreatedClass;
  readonly template: QubeName;
  readonly label: QubeLabel;
  /** The template is created by this bundle too (created first); otherwise dom0 checks that it exists. */
  readonly templateCreated: boolean;
}

/**
 * A qube's outbound policy for `qvm.firewall set:` (R4.1+): the whole list,
 * in qubesadmin's canonical form, ending in the policy.
 */
export interface OutboundPolicy {
  readonly qube: QubeName;
  /** Each rule in qubesadmin's canonical form (`action=accept proto=tcp ...`), as `qvm-firewall --raw list` prints it. */
  readonly rules: readonly string[];
  /** How many rules at the front qwire added for links (Qubes #3644). */
  readonly addedForLinks: number;
  /**
   * R3.2: what dom0 sets with qvm-firewall (policy, switches, exceptions).
   * `inQube` when the list is past the 3 kB limit: then `set` is policy
   * allow without exceptions and the qube's plan holds the list.
   */
  readonly r32?: { readonly set: R32Firewall; readonly inQube: boolean };
  /**
   * R4.2/R4.3 past qubesd's limit (Qubes #4228): `rules` holds the first 899
   * rules and then `action=accept`, and this netvm enforces the whole list.
   */
  readonly overflow?: { readonly netvm: QubeName; readonly rules: number };
}

/** One line of /etc/qubes/policy.d/30-qwire.policy. */
export interface QrexecPolicyLine {
  readonly intent: IntentName;
  readonly port: number;
  readonly from: QubeName;
  readonly to: QubeName;
}

export interface Plan {
  readonly release: Release;
  readonly backend: BackendName;
  readonly prefs: readonly Dom0Prefs[];
  /** dom0's default_netvm as qwire.yaml states it, when a qube follows it: dom0 checks it before those prefs. */
  readonly defaultNetvm?: QubeName;
  /** Qubes dom0 creates when missing, sorted by qube. */
  readonly creates: readonly Dom0Create[];
  /** Sorted by qube. */
  readonly firewalls: readonly OutboundPolicy[];
  /** Qubes declared with `ipv6: true`, sorted: dom0 enables the Qubes feature `ipv6` on them. */
  readonly ipv6Qubes: readonly QubeName[];
  /** dom0 qrexec policy for qrexec links, sorted by port, then source. */
  readonly qrexecPolicy: readonly QrexecPolicyLine[];
  readonly qubes: readonly QubePlan[];
  /** Hosts of guest net qubes, sorted; VM-phase targets in place of their guests. */
  readonly hosts: readonly HostPlan[];
  readonly teardowns: readonly Teardown[];
  /** Pinned addresses, by qube: the only IPs that may be written into a bundle. */
  readonly pins: ReadonlyMap<QubeName, string>;
  /** Qubes the VM phase of install.sh targets, sorted. */
  readonly targets: readonly QubeName[];
  /** netvm re-attachments after a netvm restart, upstream first (salt/qwire/reconnect.sls). */
  readonly reconnect: readonly Reattach[];
}
