/**
 * The Qubes base nftables tables, written from reference/qubes-networking.md
 * §1.1 (table ip qubes: network/qubes-ipv4.nft + qubes-antispoof.nft of
 * core-agent-linux, identical on release4.2, release4.3 and main) and §1.2
 * (table ip qubes-firewall, built by qubesagent/firewall.py in net qubes).
 *
 * Where this model differs from a real qube (each on purpose):
 * - IPv4 only: `ip6 qubes` and `ip6 qubes-firewall` are not loaded.
 * - `dnat-dns` drops DNS to 10.139.1.1/.2 (what Qubes does when the qube has
 *   no IPv4 DNS server) instead of DNATing to a real resolver.
 * - `table inet qubes-nat-accel` (flowtable offload) is left out: it only
 *   speeds up established flows and changes no verdict.
 * - qubes-firewall chains get the downstream qube's qvm-firewall rules as nft
 *   text from the caller; the default list (a single accept) is the default here.
 */

export type ModelRelease = "4.2" | "4.3";

/** `table ip qubes`, present in every qube with networking. */
export function qubesTable(): string {
  return `table ip qubes {
	set downstream {
		type ipv4_addr
	}
	set allowed {
		type ifname . ipv4_addr
	}
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		iifgroup 2 goto antispoof
		ip saddr @downstream counter drop
	}
	chain antispoof {
		iifname . ip saddr @allowed accept
		counter drop
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifgroup 2 accept
		oif lo accept
		masquerade
	}
	chain input {
		type filter hook input priority filter; policy drop;
		jump custom-input
		ct state invalid counter drop
		iifgroup 2 udp dport 68 counter drop
		ct state related,established accept
		iifgroup 2 meta l4proto icmp accept
		iif lo accept
		iifgroup 2 counter reject with icmp host-prohibited
		counter
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		jump custom-forward
		ct state invalid counter drop
		ct state related,established accept
		oifgroup 2 counter drop
	}
	chain custom-input {
	}
	chain custom-forward {
	}
	chain dnat-dns {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr { 10.139.1.1, 10.139.1.2 } udp dport 53 drop
		ip daddr { 10.139.1.1, 10.139.1.2 } tcp dport 53 drop
	}
}
`;
}

/** What vif-route-qubes adds when a downstream qube's vif comes up. */
export function downstreamElements(vif: string, address: string): string {
  return `add element ip qubes allowed { "${vif}" . ${address} }\nadd element ip qubes downstream { ${address} }\n`;
}

export interface Downstream {
  readonly address: string;
  /** nft statements of its qvm-firewall rules, in order; default: accept all. */
  readonly rules?: readonly string[];
}

/** Chain name qubes-firewall uses for a downstream address: qbs-10-137-0-5. */
export function qbsChain(address: string): string {
  return `qbs-${address.replace(/[.:]/g, "-")}`;
}

/**
 * `table ip qubes-firewall` of a net qube (qubes-firewall service).
 * R4.2: per-downstream jumps sit in `forward`; R4.3 (v4.3.5+, #9340): in the
 * regular chain `qubes-forward`, jumped to at the end of `forward`.
 */
export function qubesFirewallTable(release: ModelRelease, downstream: readonly Downstream[]): string {
  const connected = downstream.map((d) => d.address);
  const set = connected.length === 0 ? "" : `{ ${connected.join(", ")} }`;
  const jumps = downstream.map((d) => `\t\tip saddr ${d.address} jump ${qbsChain(d.address)}`);
  const perQube = downstream.map(
    (d) => `\tchain ${qbsChain(d.address)} {\n${(d.rules ?? ["accept"]).map((r) => `\t\t${r}`).join("\n")}\n\t\treject with icmp admin-prohibited\n\t}`,
  );
  const forwardTail = release === "4.3" ? ["\t\tjump qubes-forward"] : jumps;
  const qubesForward = release === "4.3" ? [`\tchain qubes-forward {\n${jumps.join("\n")}\n\t}`] : [];
  return [
    "table ip qubes-firewall {",
    "\tchain forward {",
    "\t\ttype filter hook forward priority filter; policy drop;",
    "\t\tct state established,related accept",
    '\t\tmeta iifname != "vif*" accept',
    ...forwardTail,
    "\t}",
    ...qubesForward,
    "\tchain prerouting {",
    "\t\ttype filter hook prerouting priority raw; policy accept;",
    ...(set ? [`\t\tiifname != "vif*" ip saddr ${set} drop`] : []),
    "\t}",
    "\tchain postrouting {",
    "\t\ttype filter hook postrouting priority raw; policy accept;",
    ...(set ? [`\t\toifname != "vif*" ip daddr ${set} drop`] : []),
    "\t}",
    ...perQube,
    "}",
    "",
  ].join("\n");
}

/** qubes-firewall's `cleanup()` on service stop. */
export const DELETE_QUBES_FIREWALL = "delete table ip qubes-firewall\n";

/**
 * `table ip6 qubes` (network/qubes-ipv6.nft), as far as qwire relies on it:
 * the same filter chains as `ip qubes` with custom-input/custom-forward
 * jumped to first. Left out: the `_icmpv6` chain (RA/redirect drops) and the
 * DHCPv6 accept, which no qwire rule touches.
 */
export function qubes6Table(): string {
  return `table ip6 qubes {
	set downstream {
		type ipv6_addr
	}
	set allowed {
		type ifname . ipv6_addr
	}
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		iifgroup 2 goto antispoof
		ip6 saddr @downstream counter drop
	}
	chain antispoof {
		iifname . ip6 saddr @allowed accept
		counter drop
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifgroup 2 accept
		oif lo accept
		masquerade
	}
	chain input {
		type filter hook input priority filter; policy drop;
		jump custom-input
		ct state invalid counter drop
		ct state related,established accept
		iifgroup 2 meta l4proto icmpv6 accept
		iif lo accept
		iifgroup 2 counter reject with icmpv6 admin-prohibited
		counter
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		jump custom-forward
		ct state invalid counter drop
		ct state related,established accept
		oifgroup 2 counter drop
	}
	chain custom-input {
	}
	chain custom-forward {
	}
}
`;
}
