/**
 * IntentSpec: what validate() hands to the rest of the pipeline. Every value
 * here has been checked: names match the Qubes pattern, addresses and ports
 * are parsed, so nothing unsafe can reach a template. Each intent keeps the
 * YAML path it came from, so later stages can point at the user's line.
 */
import type { YamlPath } from "../parse/index.js";
import type { FirewallRule } from "./firewall-rule.js";

export type { FirewallRule } from "./firewall-rule.js";

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** `^[A-Za-z][A-Za-z0-9_.-]{0,30}$`, as qubesd allows. */
export type QubeName = Brand<string, "QubeName">;
/** A Linux interface name: `[A-Za-z0-9_.-]`, at most 15 characters. */
export type InterfaceName = Brand<string, "InterfaceName">;
/**
 * `uplink: auto`: the entry qube's one interface that is neither `lo` nor a
 * `vif*`, which its script finds at run time (and logs). Never an
 * interface's name: the validator refuses 'auto' as one.
 */
export const AUTO_UPLINK = "auto";
/** An entry qube's outside interface: by name, or found at run time. */
export type OutsideInterface = InterfaceName | typeof AUTO_UPLINK;
/** A user-facing intent name: `[A-Za-z0-9_.-]`, used in comments and logs. */
export type IntentName = Brand<string, "IntentName">;

export type { Release } from "../release/index.js";
import type { Release } from "../release/index.js";

export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/** An IPv4 network in canonical form (host bits cleared). */
export interface Ipv4Cidr {
  readonly family: 4;
  /** e.g. "192.168.1.0/24"; "10.0.0.5/32" for a single host. */
  readonly text: string;
}

/** An IPv6 network in canonical form (RFC 5952, host bits cleared). */
export interface Ipv6Cidr {
  readonly family: 6;
  /** e.g. "2001:db8::/32"; "2001:db8::5/128" for a single host. */
  readonly text: string;
}

export type Proto = "tcp" | "udp";

export interface QubeSpec {
  readonly name: QubeName;
  /** The netvm; for `netvm: default`, the qube named by `default_netvm` (undefined when that is missing). */
  readonly netvm?: QubeName;
  /**
   * `netvm: default`: dom0 keeps the qube at Qubes' default netvm (qvm-prefs
   * shows it as `*default*`), so it follows a later change of dom0's
   * default_netvm instead of being pinned to a name.
   */
  readonly followsDefaultNetvm?: true;
  readonly providesNetwork: boolean;
  /** Its outside interfaces: names, or `[AUTO_UPLINK]` alone. */
  readonly uplinks: readonly OutsideInterface[];
  readonly role: "service" | "plain";
  /** A pinned address: the only kind of qube IP that may appear in a bundle. */
  readonly ip?: string;
  /** IPv6 on (Qubes feature `ipv6`); its netvm chain must have it too. */
  readonly ipv6: boolean;
  /**
   * A net qube whose files live in another qube, its host: for
   * `disposable_template: D`, D's /rw (the disposable gets a copy of it at
   * every start); for `placement: template` + `template: T`, T's
   * /etc/qubes (R4.3 custom-persist qubes skip /rw/config hooks).
   */
  readonly guestOf?: GuestOf;
  /** `create:`: dom0 creates the qube when it is missing (never changes or deletes an existing one). */
  readonly create?: CreateSpec;
  readonly path: YamlPath;
}

/** The classes qwire creates (qvm.present, i.e. qvm-create --class): each one is made from a template. */
export type CreatedClass = "AppVM" | "StandaloneVM" | "DispVM";

/** The labels Qubes has (qvm-create --label). */
export const QUBE_LABELS = ["red", "orange", "yellow", "green", "gray", "blue", "purple", "black"] as const;
export type QubeLabel = (typeof QUBE_LABELS)[number];

export interface CreateSpec {
  readonly class: CreatedClass;
  /** AppVM, StandaloneVM: a TemplateVM; DispVM: a disposable template (template_for_dispvms). */
  readonly template: QubeName;
  readonly label: QubeLabel;
  /** The created qube is a disposable template (qvm-prefs template_for_dispvms True). */
  readonly templateForDispvms: boolean;
  /** The `create:` key. */
  readonly path: YamlPath;
}

export interface GuestOf {
  readonly kind: "disposable" | "template";
  readonly host: QubeName;
  /** The YAML key that names the host (disposable_template or template). */
  readonly path: YamlPath;
}

export interface ForwardSpec {
  readonly name: IntentName;
  readonly to: QubeName;
  readonly port: PortRange;
  readonly externalPort: PortRange;
  readonly proto: Proto;
  /** IPv4 sources; the forward's IPv4 rules. */
  readonly from: readonly Ipv4Cidr[];
  /** IPv6 sources; the forward's IPv6 rules (table ip6 qubes). */
  readonly from6: readonly Ipv6Cidr[];
  readonly entry?: QubeName;
  readonly interface?: InterfaceName;
  readonly path: YamlPath;
}

interface LinkBase {
  readonly name: IntentName;
  readonly from: QubeName;
  readonly to: QubeName;
  readonly bothWays: boolean;
  readonly path: YamlPath;
}

/** An IP link through the firewall qube both qubes sit behind. */
export interface NetworkLinkSpec extends LinkBase {
  readonly via: "network";
  /** "all" = every protocol and port. */
  readonly traffic: "all" | { readonly protos: readonly Proto[]; readonly ports: readonly PortRange[] };
}

/**
 * A qrexec link (qubes.ConnectTCP, R4.1+): `from` connects to
 * 127.0.0.1:localPort and reaches `to`'s 127.0.0.1:port through dom0's
 * policy, with no IP route between them.
 */
export interface QrexecLinkSpec extends LinkBase {
  readonly via: "qrexec";
  /** Sorted by port. */
  readonly ports: readonly { readonly port: number; readonly localPort: number }[];
}

export type LinkSpec = NetworkLinkSpec | QrexecLinkSpec;

export interface ExpectSpec {
  /** A qube, or an address outside the machine ("outside:192.168.1.50"). */
  readonly from:
    { readonly kind: "qube"; readonly qube: QubeName } | { readonly kind: "outside"; readonly address: string };
  readonly to: QubeName;
  readonly port: number;
  readonly proto: Proto;
  readonly result: "open" | "closed";
  readonly path: YamlPath;
}

/** A qube's outbound policy: its qvm-firewall rules, then the policy. */
export interface FirewallSpec {
  readonly qube: QubeName;
  readonly policy: "accept" | "drop";
  readonly rules: readonly FirewallRule[];
  readonly path: YamlPath;
}

export interface IntentSpec {
  readonly version: 1;
  readonly release: Release;
  /** Sorted by name. */
  readonly qubes: readonly QubeSpec[];
  readonly forwards: readonly ForwardSpec[];
  readonly links: readonly LinkSpec[];
  /** Sorted by qube. */
  readonly firewall: readonly FirewallSpec[];
  readonly expect: readonly ExpectSpec[];
  /** `default_netvm:` what dom0's global default_netvm is (qubes-prefs default_netvm); dom0 checks it. */
  readonly defaultNetvm?: { readonly name: QubeName; readonly path: YamlPath };
}

/** An intent before its list gives it a path (each member of a union on its own). */
export type Unplaced<T> = T extends unknown ? Omit<T, "path"> : never;
