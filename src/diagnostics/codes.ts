/**
 * Every diagnostic qwire can emit, with a stable code and one line of
 * documentation. Codes are never reused or renumbered; `qwire check` output
 * and user scripts may depend on them. Each has a failing-input test in
 * test/diagnostics/.
 *
 * QW1xxx: reading the file · QW2xxx: a value is malformed · QW3xxx: values
 * do not fit together (references, topology) · QW4xxx: valid, but not supported
 * by this release or this version of qwire · QW5xxx: `qwire import` cannot read
 * the dom0 command output it was given (the position is in that output).
 */
export const DIAGNOSTIC_CODES = {
  QW1001: "the file is not valid YAML",
  QW1002: "a mapping has the same key twice",
  QW1003: "the file cannot be read",
  QW1004: "the plan.json of the previous build names something that is not a qube",
  QW1005: "an included file cannot be read",
  QW1006: "files include each other in a cycle",
  QW1007: "an included file (or two) gives a different value for the same key or the same intent name",
  QW1008: "`include:` is not a list of file names, or is in a host overlay (hosts/NAME.yaml)",
  QW1009: "YAML aliases that expand the file past 100,000 values (an alias bomb)",
  QW2001: "unknown key (often a typo)",
  QW2002: "a value has the wrong type, or a required key is missing",
  QW2003: "qube name not allowed by Qubes",
  QW2004: "port outside 1-65535, or a malformed port range",
  QW2005: "malformed CIDR or IP address",
  QW2006: "malformed network interface name",
  QW2007: "unsupported `version` of the qwire.yaml format",
  QW2008: "unknown Qubes `release`",
  QW2009: "a forward has no `from`: the sources allowed in must be written out",
  QW2010: "warning: a forward is open to any source address",
  QW2011: "malformed intent name",
  QW2012: "`external_port` does not fit `port`",
  QW2013: "a malformed outbound firewall rule (qvm-firewall syntax)",
  QW2014: "warning: a firewall rule names a host, resolved once when the rules are applied",
  QW2015: "warning: qwire adds an outbound accept so that a link passes the qube's own firewall (Qubes #3644)",
  QW2016: "a `via: qrexec` link that qubes.ConnectTCP cannot carry (not TCP, a port range, no ports, R3.2)",
  QW2017: "warning: a forward's sources include Qubes' own addresses, so the target's netvm can reach it too",
  QW2018: "warning: other qubes' rules hold a disposable net qube's address, looked up when the bundle is applied",
  QW2019:
    "warning: on Qubes R3.2 an outbound policy past qvm-firewall's 3 kB limit is enforced inside the qube, which is weaker",
  QW2020:
    "warning: on Qubes R4.2/R4.3 an outbound policy past qubesd's ~900 rules (Qubes #4228) is enforced by the qube's netvm (table ip qubes)",
  QW2030: "`create:` names a class qwire does not create (TemplateVM, or no Qubes class)",
  QW2031: "`create:` names a label Qubes does not have",
  QW2032: "`create:` has no `template:` (every class qwire creates is made from one)",
  QW3001: "a referenced qube is not declared under `qubes`",
  QW3002: "the netvm chain has a cycle",
  QW3003: "a qube's netvm does not provide network",
  QW3004: "a forward has no path from its entry qube down to its target",
  QW3005: "a forward passes through a `role: service` qube",
  QW3006: "two forwards claim the same entry, interface, external port and protocol",
  QW3007: "a network link joins qubes that do not share one firewall qube",
  QW3008: "a client qube sits directly behind a `role: service` qube",
  QW3009: "a forward's entry qube has no outside interface",
  QW3010: "two forwards meet on the same port and protocol in an inner net qube",
  QW3011: "a link from a qube to itself",
  QW3012: "two intents have the same name",
  QW3013: "a forward ends in its entry qube with `external_port` different from `port`",
  QW3014: "two qubes map to the same Salt file name",
  QW3015: "a pinned IP address is used by two qubes",
  QW3016: "qrexec links clash: the same port or local port twice in one qube, or a local port the qube also serves",
  QW3017: "IPv6 for a qube, or an IPv6 source, whose netvm chain does not all have `ipv6: true`",
  QW3018: "`disposable_template` or `placement: template` on a qube that does not provide network",
  QW3019: "a qube's host (its disposable template or template) has a host of its own",
  QW3020: "a qube's host (its disposable template or template) carries qwire rules itself",
  QW3021: "`netvm: default` without a top-level `default_netvm` naming dom0's default netvm",
  QW3025:
    "`uplink: auto` on a qube that has another interface besides lo and vif* (eth0 from a netvm, a forward's `interface:`), so it could not find one",
  QW3030:
    "`create:` names as its template a qube qwire.yaml declares as something else (not a template, or not a disposable template)",
  QW3031:
    "`create:` gives a class that cannot be what the qube is declared as (a DispVM net qube without `disposable_template`, a DispVM as a disposable template)",
  QW3032:
    "`create:` disagrees with the qube's `disposable_template` or `placement: template` about its template or class",
  QW4001: "a disposable or template-placed net qube on a release these are not built for (R4.1 and older)",
  QW4004: "IPv6 on a release built with iptables (R4.1 and older)",
  QW4005: "a qube with `custom_persist` skips /rw/config scripts on R4.3",
  QW4006:
    "more outbound rules for one qube than qubesd takes (about 900, Qubes #4228) and than qwire can move into its netvm (R4.2/R4.3: up to 10,000, IPv4 networks only)",
  QW4007:
    "an outbound rule Qubes R3.2's qvm-firewall cannot hold (IPv6, icmptype, expire, the policy's own action, ...)",
  QW4008: "a pinned `ip` on Qubes R3.2, whose qvm-prefs cannot set one",
  QW4009: "`netvm: default` on Qubes R3.2, which this version of qwire does not build",
  QW4030: "`create:` on Qubes R3.2, whose qvm-create has no --class",
  QW5001:
    "import: a line of `qvm-ls --raw-data --fields NAME,CLASS,NETVM,PROVIDES_NETWORK,TEMPLATE,LABEL` output cannot be read",
  QW5002: "import: the command output ends in the middle of a line (cut off while copying?)",
  QW5003: "import: qvm-ls output names a netvm that it does not list (incomplete output?)",
  QW5004: "import: a line of `qvm-firewall <qube> list` output cannot be read",
  QW5005: "import: qvm-firewall output for a qube that qvm-ls does not list, or before any `== <qube>` line",
  QW5006: "import: a qubes.ConnectTCP line of /etc/qubes/policy.d cannot be read",
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
