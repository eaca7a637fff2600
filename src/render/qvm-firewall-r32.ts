/**
 * R3.2's outbound policy in dom0: qvm-firewall (qubes-core-admin release3.2
 * qvm-tools/qvm-firewall), as one cmd.run per qube. That tool has no reset
 * and `-a` appends, so the command rebuilds everything: the policy and the
 * ICMP/DNS switches in one call, then deletes rule 1 as many times as the
 * listing holds rules, then adds every exception in order. The yum proxy
 * switch (-Y) is left as it is. Salt runs as root and the tool refuses root
 * without --force-root.
 *
 * The `unless` compares `qvm-firewall --force-root -n VM -l` with the
 * listing the tool prints for the wanted configuration. Assumed from its
 * source (display_firewall / list_rules): four status lines ("Firewall
 * policy: ALLOW all traffic except" | "DENY all traffic except", "ICMP:",
 * "DNS:", "Qubes yum proxy:", each ALLOW|DENY), then a table num | address |
 * proto | port(s) whose column width is the longest cell: a dash line
 * ('-' x width+2, '+'), the centred titles (" {:^w} |"), a dash line, one
 * row per rule (" {:<w} |"; num right-aligned in 2; address with
 * "/netmask" below 32; port "first[-last]", numeric with -n, empty for
 * "any"). It also assumes the tool lists the rules in the order they were
 * added, a single port without "-last", and proto "any" as "any". Both
 * sides drop the yum proxy line and squeeze runs of spaces and dashes, so a
 * width the tool computes differently still compares equal; a listing that
 * starts with "INFO: This VM has no firewall rules set" never does.
 */
import type { R32Exception, R32Firewall } from "../validate/index.js";
import { saltShell, type Shell } from "./salt-shell.js";

/** The cmd.run that sets `set` on `qube`, and its `unless` (templates/salt/r32-firewall-*.sh.hbs). */
export function qvmFirewallR32Commands(
  qube: string,
  set: R32Firewall,
): { readonly name: Shell; readonly unless: Shell } {
  return {
    name: saltShell("r32-firewall-set", { qube, set, exceptions: set.exceptions.map(ruleSpec) }),
    unless: saltShell("r32-firewall-is", {
      qube,
      listing: listing(set).filter((l) => !l.startsWith("Qubes yum proxy: ")),
    }),
  };
}

/** `address[/netmask] tcp|udp port[-port]` or `address any`. */
function ruleSpec(e: R32Exception): string[] {
  return e.proto === "any" ? [e.address, "any"] : [e.address, e.proto, portText(e)];
}

function portText(e: R32Exception): string {
  if (!e.ports) return "";
  return e.ports.first === e.ports.last ? String(e.ports.first) : `${e.ports.first}-${e.ports.last}`;
}

const word = (s: "allow" | "deny") => (s === "allow" ? "ALLOW" : "DENY");

/** What `qvm-firewall -n VM -l` prints for `set` (see the file comment). */
export function listing(set: R32Firewall): string[] {
  const fields = ["num", "address", "proto", "port(s)"];
  const rows = set.exceptions.map((e, i) => [String(i + 1).padStart(2), e.address, e.proto, portText(e)]);
  const widths = fields.map((f, c) => Math.max(f.length, ...rows.map((r) => r[c]!.length)));
  const dashes = widths.map((w) => `${"-".repeat(w + 2)}+`).join("");
  const centre = (text: string, w: number) => {
    const left = Math.floor((w - text.length) / 2);
    return " ".repeat(left) + text + " ".repeat(w - text.length - left);
  };
  return [
    `Firewall policy: ${set.policy === "allow" ? "ALLOW" : "DENY"} all traffic except`,
    `ICMP: ${word(set.icmp)}`,
    `DNS: ${word(set.dns)}`,
    "Qubes yum proxy: (left as it is)",
    dashes,
    fields.map((f, c) => ` ${centre(f, widths[c]!)} |`).join(""),
    dashes,
    ...rows.map((r) => r.map((cell, c) => ` ${cell.padEnd(widths[c]!)} |`).join("")),
  ];
}
