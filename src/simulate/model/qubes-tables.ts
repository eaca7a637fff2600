/**
 * The Qubes base nftables tables, written from reference/qubes-networking.md
 * §1.1 (table ip qubes: network/qubes-ipv4.nft + qubes-antispoof.nft of
 * core-agent-linux, identical on release4.2, release4.3 and main) and §1.2
 * (table ip qubes-firewall, built by qubesagent/firewall.py in net qubes).
 *
 * Where this model differs from a real qube (each on purpose):
 * - `ip6 qubes` follows network/qubes-ipv6.nft + qubes-antispoof.nft but
 *   jumps to custom-forward (see qubes6Table()).
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

/** What vif-route-qubes adds when a downstream qube's vif comes up (`family` ip6 for its IPv6 address). */
export function downstreamElements(vif: string, address: string, family: "ip" | "ip6" = "ip"): string {
  return `add element ${family} qubes allowed { "${vif}" . ${address} }\nadd element ${family} qubes downstream { ${address} }\n`;
}

/** What vif-route-qubes removes when the vif goes offline. */
export function downstreamRemoval(vif: string, address: string, family: "ip" | "ip6" = "ip"): string {
  return `delete element ${family} qubes allowed { "${vif}" . ${address} }\ndelete element ${family} qubes downstream { ${address} }\n`;
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
 * `table ip qubes-firewall` (or `ip6 qubes-firewall`, with the downstream
 * qubes' IPv6 addresses) of a net qube (qubes-firewall service).
 * R4.2: per-downstream jumps sit in `forward`; R4.3 (v4.3.5+, #9340): in the
 * regular chain `qubes-forward`, jumped to at the end of `forward`.
 */
export function qubesFirewallTable(
  release: ModelRelease,
  downstream: readonly Downstream[],
  family: "ip" | "ip6" = "ip",
): string {
  const addr = family === "ip" ? "ip" : "ip6";
  const reject = family === "ip" ? "reject with icmp admin-prohibited" : "reject with icmpv6 admin-prohibited";
  const connected = downstream.map((d) => d.address);
  const set = connected.length === 0 ? "" : `{ ${connected.join(", ")} }`;
  const jumps = downstream.map((d) => `\t\t${addr} saddr ${d.address} jump ${qbsChain(d.address)}`);
  const perQube = downstream.map(
    (d) =>
      `\tchain ${qbsChain(d.address)} {\n${(d.rules ?? ["accept"]).map((r) => `\t\t${r}`).join("\n")}\n\t\t${reject}\n\t}`,
  );
  const forwardTail = release === "4.3" ? ["\t\tjump qubes-forward"] : jumps;
  const qubesForward = release === "4.3" ? [`\tchain qubes-forward {\n${jumps.join("\n")}\n\t}`] : [];
  return [
    `table ${family} qubes-firewall {`,
    "\tchain forward {",
    "\t\ttype filter hook forward priority filter; policy drop;",
    "\t\tct state established,related accept",
    '\t\tmeta iifname != "vif*" accept',
    ...forwardTail,
    "\t}",
    ...qubesForward,
    "\tchain prerouting {",
    "\t\ttype filter hook prerouting priority raw; policy accept;",
    ...(set ? [`\t\tiifname != "vif*" ${addr} saddr ${set} drop`] : []),
    "\t}",
    "\tchain postrouting {",
    "\t\ttype filter hook postrouting priority raw; policy accept;",
    ...(set ? [`\t\toifname != "vif*" ${addr} daddr ${set} drop`] : []),
    "\t}",
    ...perQube,
    "}",
    "",
  ].join("\n");
}

/** qubes-firewall's `cleanup()` on service stop. */
export const DELETE_QUBES_FIREWALL = "delete table ip qubes-firewall\ndelete table ip6 qubes-firewall\n";

/**
 * `table ip6 qubes`: network/qubes-ipv6.nft and the ip6 half of
 * qubes-antispoof.nft (core-agent-linux, as stored at commit 28b95535),
 * with one difference on purpose: `forward` jumps to `custom-forward` first
 * and has no `iifgroup != 2 counter drop`, as reference/qubes-networking.md
 * §1.1 says `ip6 qubes` has the same structure as `ip qubes`. The stored
 * file does not jump to custom-forward at all; if a Qubes release ships it
 * that way, no custom-forward rule (qwire's included) can forward IPv6 into
 * a qube. docs/simulate.md says so; it needs checking on a real R4.2/R4.3.
 * Left out: the DHCPv6 client accept (no DHCPv6 in the model).
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
	chain _icmpv6 {
		meta l4proto != ipv6-icmp counter reject with icmpv6 admin-prohibited
		icmpv6 type { nd-router-advert, nd-redirect } counter drop
		accept
	}
	chain input {
		type filter hook input priority filter; policy drop;
		jump custom-input
		ct state invalid counter drop
		ct state related,established accept
		iifgroup 2 goto _icmpv6
		iif lo accept
		meta l4proto ipv6-icmp accept
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
