/**
 * The Qubes R4.1/R4.0 base iptables rules, written from
 * reference/qubes-networking.md §2.1 (core-agent-linux `network/iptables`,
 * loaded by qubes-iptables with iptables-restore; the filter section is the
 * same on release4.0 and release4.1). Net qubes also get `table ip
 * qubes-firewall` from the qubes-firewall daemon, which on R4.0 ≥ v4.0.25 and
 * R4.1 has the same forward chain as the R4.2 model (§2.2):
 * qubesFirewallTable("4.2", …) in qubes-tables.ts.
 *
 * Where this model differs from a real qube (each on purpose):
 * - IPv4 only (no ip6tables rules);
 * - the reference gives the rules, not the file's exact spelling: matches are
 *   written the way iptables-save prints them, so a diff against
 *   `iptables-save` output compares like with like;
 * - PR-QBS (DNS DNAT, rewritten by qubes-setup-dnat-to-ns) and QBS-FORWARD
 *   (empty when qubes-firewall uses nft) start empty.
 */

export type IptablesModelRelease = "4.1" | "4.0";

/** iptables-restore input for a qube's base rules. */
export function qubesIptablesRules(release: IptablesModelRelease): string {
  const r41 = release === "4.1";
  return [
    ...(r41
      ? [
          "*raw",
          ":PREROUTING ACCEPT [0:0]",
          ":OUTPUT ACCEPT [0:0]",
          ":QBS-PREROUTING - [0:0]",
          "-A PREROUTING -j QBS-PREROUTING",
          "COMMIT",
        ]
      : []),
    ...(r41
      ? [
          "*mangle",
          ":PREROUTING ACCEPT [0:0]",
          ":INPUT ACCEPT [0:0]",
          ":FORWARD ACCEPT [0:0]",
          ":OUTPUT ACCEPT [0:0]",
          ":POSTROUTING ACCEPT [0:0]",
          ":QBS-POSTROUTING - [0:0]",
          "-A POSTROUTING -j QBS-POSTROUTING",
          "COMMIT",
        ]
      : []),
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ":PR-QBS - [0:0]",
    ":PR-QBS-SERVICES - [0:0]",
    "-A PREROUTING -j PR-QBS",
    "-A PREROUTING -j PR-QBS-SERVICES",
    "-A POSTROUTING -o vif+ -j ACCEPT",
    "-A POSTROUTING -o lo -j ACCEPT",
    "-A POSTROUTING -j MASQUERADE",
    "COMMIT",
    "*filter",
    ":INPUT DROP [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":QBS-FORWARD - [0:0]",
    "-A INPUT -m state --state INVALID -j DROP",
    "-A INPUT -i vif+ -p udp -m udp --dport 68 -j DROP",
    "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT",
    "-A INPUT -i vif+ -p icmp -j ACCEPT",
    "-A INPUT -i lo -j ACCEPT",
    "-A INPUT -i vif+ -j REJECT --reject-with icmp-host-prohibited",
    "-A INPUT -j DROP",
    "-A FORWARD -m state --state INVALID -j DROP",
    "-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT",
    "-A FORWARD -j QBS-FORWARD",
    "-A FORWARD -i vif+ -o vif+ -j DROP",
    "-A FORWARD -i vif+ -j ACCEPT",
    "-A FORWARD -j DROP",
    "COMMIT",
    "",
  ].join("\n");
}

/** The Qubes rules qwire's jumps go in front of (reference §2.1: FORWARD 4, INPUT 6). */
export const JUMP_ANCHORS = {
  FORWARD: "-A FORWARD -i vif+ -o vif+ -j DROP",
  INPUT: "-A INPUT -i vif+ -j REJECT --reject-with icmp-host-prohibited",
} as const;

/**
 * What R4.1's vif-route-qubes does for a downstream vif (reference §2.1:
 * raw-table `-I PREROUTING 1 -i vifX ! -s addr -j DROP`), as
 * iptables-restore --noflush input.
 */
export function vifAntispoof(action: "add" | "delete", vif: string, address: string): string {
  return `*raw\n${action === "add" ? "-I PREROUTING 1" : "-D PREROUTING"} -i ${vif} ! -s ${address}/32 -j DROP\nCOMMIT\n`;
}
