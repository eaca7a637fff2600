/**
 * The Qubes releases qwire builds for, each described once as a profile.
 * This module is the only place that names a release: every stage asks the
 * profile what a release has (its firewall backend, where scripts run, what
 * it can carry) instead of comparing release strings
 * (test/release-literals.test.ts fails on such a comparison elsewhere).
 * Facts: /work/shared/reference/qubes-networking.md §1-§6.
 */

export type Release = "4.3" | "4.2" | "4.1" | "4.0" | "3.2";
/** Newest first: the order `release:` choices are offered in. */
export const RELEASES: readonly Release[] = ["4.3", "4.2", "4.1", "4.0", "3.2"];
/** What a qwire.yaml without `release:` is built for. */
export const DEFAULT_RELEASE: Release = "4.2";

/**
 * What runs a qube's script (reference/qubes-networking.md §3):
 * - "qubes-firewall.d": net qubes, /rw/config/qubes-firewall.d/* when
 *   qubes-firewall starts (R4.0 ≥ v4.0.22 and later);
 * - "rc.local.d": other qubes, /rw/config/rc.local.d/*.rc at boot (R4.2+);
 * - "rc.local": other qubes on R4.1 and older, which have no rc.local.d: a
 *   marked block in the user's /rw/config/rc.local calls qwire's script;
 * - "qubes-firewall-user-script": ProxyVMs on R3.2, whose qubes-firewall
 *   rebuilds the filter table on every reload and runs this file after it
 *   (R3.2 NetVMs run no qubes-firewall: they use rc.local);
 * - "template-qubes-firewall.d": a guest net qube with `placement: template`
 *   (R4.3 custom-persist skips /rw/config hooks): /etc/qubes/qubes-firewall.d/*
 *   in its template, which qubes-firewall runs first.
 * A guest of a disposable template keeps "qubes-firewall.d": the folder is
 * the template's /rw, which the disposable starts from.
 */
export type Placement =
  "qubes-firewall.d" | "rc.local.d" | "rc.local" | "qubes-firewall-user-script" | "template-qubes-firewall.d";

/** The firewall backend of a release: nftables from R4.2, iptables base rules before (reference §1, §2). */
export type BackendName = "nft" | "iptables";

/** Outbound rules one qube can carry before qubesd fails (Qubes issue #4228: ~900-950). */
export const MAX_FIREWALL_RULES = 900;
/** R4.2/R4.3: past MAX_FIREWALL_RULES the netvm enforces the list (topology decides, QW2020), up to this many. */
export const MAX_OVERFLOW_RULES = 10_000;

/**
 * What happens to an outbound policy past qubesd's limit:
 * - "netvm": the netvm enforces the rest in chains of its own (R4.2/R4.3, QW2020);
 * - "in-qube": R3.2's 3 kB QubesDB limit; the qube enforces it itself (QW2019);
 * - "refuse": more than MAX_FIREWALL_RULES is an error (QW4006).
 */
export type OverflowStrategy = "netvm" | "in-qube" | "refuse";

export interface ReleaseProfile {
  readonly release: Release;
  readonly backend: BackendName;
  /** Where scripts run: net qubes, other qubes, and (R3.2) a NetVM at the top of a chain. */
  readonly placements: { readonly net: Placement; readonly leaf: Placement; readonly top?: Placement };
  readonly capabilities: {
    /** IPv6 rules are built (nft's table ip6 qubes). */
    readonly ipv6: boolean;
    /** qvm-prefs can pin a qube's `ip`. */
    readonly pinnedIp: boolean;
    /** qubes.ConnectTCP exists (R4.1+; R4.0 with the old policy format). */
    readonly qrexecLinks: boolean;
    /** Net qubes whose files live in a (disposable) template. */
    readonly guests: boolean;
    /** A custom-persist qube skips the /rw/config hooks (R4.3). */
    readonly customPersistSkipsHooks: boolean;
    /** `netvm: default` is built: qvm.prefs takes `netvm: '*default*'` (R4.x; R3.2's cmd.run prefs are not). */
    readonly defaultNetvm: boolean;
    /**
     * dom0 creates missing qubes (`create:`): qvm.present runs `qvm-create --class`,
     * which R4.0+ has (qubes-mgmt-salt-dom0-qvm release4.0 on); R3.2's qvm-create has
     * no --class (a ProxyVM is a type chosen with --proxy) and needs --force-root.
     */
    readonly create: boolean;
  };
  readonly outbound: {
    /**
     * "ordered": qvm-firewall keeps an ordered list of accept/drop rules (R4.x);
     * "exceptions": a policy with exceptions and ICMP/DNS switches (R3.2, validate/firewall-r32.ts).
     */
    readonly model: "ordered" | "exceptions";
    /** Rules qubesd takes per qube. */
    readonly limit: number;
    readonly overflow: OverflowStrategy;
    /** Rules qwire accepts per qube in all (QW4006 past it). */
    readonly maxRules: number;
  };
  /** How dom0's Salt speaks to this release's tools (reference §4-§6). */
  readonly salt: {
    /** "qvm.prefs" state, or `qvm-prefs -s` through cmd.run (R3.2). */
    readonly prefs: "qvm.prefs" | "qvm-prefs -s";
    /** "qvm.firewall" set, qvm-firewall reset + list via cmd.run (R4.0), or R3.2's policy with exceptions. */
    readonly firewall: "qvm.firewall" | "qvm-firewall reset" | "qvm-firewall r32";
    /** The qrexec policy: /etc/qubes/policy.d (R4.1+), per-service files (R4.0), none (R3.2). */
    readonly policy: "policy.d" | "qubes-rpc/policy" | "none";
    /** The dom0 command that prints one property of a qube (R3.2 needs -g). */
    readonly getPref: "qvm-prefs --" | "qvm-prefs -g --";
  };
}

const nft = {
  backend: "nft",
  placements: { net: "qubes-firewall.d", leaf: "rc.local.d" },
  outbound: { model: "ordered", limit: MAX_FIREWALL_RULES, overflow: "netvm", maxRules: MAX_OVERFLOW_RULES },
  salt: { prefs: "qvm.prefs", firewall: "qvm.firewall", policy: "policy.d", getPref: "qvm-prefs --" },
} as const;

const iptables4 = {
  backend: "iptables",
  placements: { net: "qubes-firewall.d", leaf: "rc.local" },
  outbound: { model: "ordered", limit: MAX_FIREWALL_RULES, overflow: "refuse", maxRules: MAX_FIREWALL_RULES },
} as const;

const PROFILES: Readonly<Record<Release, ReleaseProfile>> = {
  "4.3": {
    release: "4.3",
    ...nft,
    capabilities: {
      ipv6: true,
      pinnedIp: true,
      qrexecLinks: true,
      guests: true,
      customPersistSkipsHooks: true,
      defaultNetvm: true,
      create: true,
    },
  },
  "4.2": {
    release: "4.2",
    ...nft,
    capabilities: {
      ipv6: true,
      pinnedIp: true,
      qrexecLinks: true,
      guests: true,
      customPersistSkipsHooks: false,
      defaultNetvm: true,
      create: true,
    },
  },
  "4.1": {
    release: "4.1",
    ...iptables4,
    capabilities: {
      ipv6: false,
      pinnedIp: true,
      qrexecLinks: true,
      guests: false,
      customPersistSkipsHooks: false,
      defaultNetvm: true,
      create: true,
    },
    salt: { prefs: "qvm.prefs", firewall: "qvm.firewall", policy: "policy.d", getPref: "qvm-prefs --" },
  },
  "4.0": {
    release: "4.0",
    ...iptables4,
    capabilities: {
      ipv6: false,
      pinnedIp: true,
      qrexecLinks: true,
      guests: false,
      customPersistSkipsHooks: false,
      defaultNetvm: true,
      create: true,
    },
    salt: { prefs: "qvm.prefs", firewall: "qvm-firewall reset", policy: "qubes-rpc/policy", getPref: "qvm-prefs --" },
  },
  "3.2": {
    release: "3.2",
    backend: "iptables",
    placements: { net: "qubes-firewall-user-script", leaf: "rc.local", top: "rc.local" },
    capabilities: {
      ipv6: false,
      pinnedIp: false,
      qrexecLinks: false,
      guests: false,
      customPersistSkipsHooks: false,
      defaultNetvm: false,
      create: false,
    },
    // The R3.2 limit is QubesDB's 3 kB (validate/firewall-r32.ts), checked by topology.
    outbound: { model: "exceptions", limit: MAX_FIREWALL_RULES, overflow: "in-qube", maxRules: MAX_FIREWALL_RULES },
    salt: { prefs: "qvm-prefs -s", firewall: "qvm-firewall r32", policy: "none", getPref: "qvm-prefs -g --" },
  },
};

export function profileOf(release: Release): ReleaseProfile {
  return PROFILES[release];
}

/** Releases that build IPv6 rules, in RELEASES order (for hints). */
export function releasesWith(capability: keyof ReleaseProfile["capabilities"]): Release[] {
  return RELEASES.filter((r) => PROFILES[r].capabilities[capability]);
}

/** The release a `release:` value names; `release: 4.2` unquoted is a YAML float, taken as the user meant it. */
export function releaseNamed(raw: unknown): Release | undefined {
  const text = typeof raw === "number" ? raw.toFixed(1) : raw;
  return RELEASES.find((r) => r === text);
}
