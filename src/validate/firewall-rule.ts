/**
 * qvm-firewall rules (outbound policy), parsed and checked the way qubesd and
 * qubesadmin check them (qubesadmin/firewall.py `Rule`; reference
 * qubes-networking.md §4), so that a rule qwire accepts is a rule
 * `qvm.firewall` accepts, and written in qubesadmin's canonical form so that
 * the state compares equal on the next apply.
 *
 * Forms: "accept dsthost=1.1.1.1 proto=tcp dstports=443" (positional
 * `<action> [<dsthost> [<proto> [<dstports>|<icmptype>]]]` and key=value
 * may be mixed; `comment=` takes the rest of the line), or a map with the
 * same keys.
 */
import { parseCidr, parsePortRange, printable, type Parsed } from "./values.js";
import type { PortRange } from "./spec.js";

export interface FirewallRule {
  readonly action: "accept" | "drop";
  readonly proto?: "tcp" | "udp" | "icmp";
  /** IPv4/IPv6 network with its prefix, or a lowercase host name. */
  readonly dsthost?: { readonly kind: "4" | "6" | "host"; readonly text: string };
  readonly dstports?: PortRange;
  readonly icmptype?: number;
  readonly specialtarget?: "dns";
  readonly expire?: string;
  readonly comment?: string;
}

const KEYS = [
  "action",
  "proto",
  "dsthost",
  "dst4",
  "dst6",
  "dstports",
  "icmptype",
  "specialtarget",
  "expire",
  "comment",
] as const;
type Key = (typeof KEYS)[number];
const POSITIONAL: readonly Key[] = ["action", "dsthost", "proto", "dstports"];

/** qubesd's allowed comment characters (qubes/firewall.py Comment). */
const COMMENT = /^[A-Za-z0-9:;,./\-_[\] ]*$/;
const HOSTNAME = /^[a-z0-9._-]+$/;

export function parseFirewallRule(raw: unknown): Parsed<FirewallRule> {
  const fields = typeof raw === "string" ? splitRuleString(raw) : fieldsOfMap(raw);
  if (!fields.ok) return fields;
  return checkFields(fields.value);
}

function splitRuleString(text: string): Parsed<Map<Key, string>> {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\x00-\x1f\x7f]/.test(text)) return { ok: false, message: "a rule is one line of printable text" };
  const [head = "", ...commentParts] = text.split("comment=");
  const fields = new Map<Key, string>();
  let position = 0;
  for (const token of head.split(" ").filter((t) => t !== "")) {
    const eq = token.indexOf("=");
    let key: string;
    let value: string;
    if (eq === -1) {
      // qvm-firewall's positional form: dstports and icmptype share the last slot.
      key = position < POSITIONAL.length ? POSITIONAL[position]! : "";
      if (key === "dstports" && fields.get("proto") === "icmp") key = "icmptype";
      if (key === "")
        return {
          ok: false,
          message: `'${printable(token)}': too many words without a key (the positional form is <action> [<dsthost> [<proto> [<dstports>]]])`,
        };
      value = token;
      position++;
    } else {
      key = token.slice(0, eq);
      value = token.slice(eq + 1);
    }
    const added = add(fields, key, value);
    if (!added.ok) return added;
  }
  if (commentParts.length > 0) {
    const added = add(fields, "comment", commentParts.join("comment="));
    if (!added.ok) return added;
  }
  return { ok: true, value: fields };
}

function fieldsOfMap(raw: unknown): Parsed<Map<Key, string>> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, message: "a rule is a string in qvm-firewall syntax or a map of its keys" };
  }
  const fields = new Map<Key, string>();
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== "string" && typeof value !== "number")
      return { ok: false, message: `'${printable(key)}' must be a string or a number` };
    const added = add(fields, key, String(value));
    if (!added.ok) return added;
  }
  return { ok: true, value: fields };
}

function add(fields: Map<Key, string>, key: string, value: string): Parsed<true> {
  if (!(KEYS as readonly string[]).includes(key)) {
    return { ok: false, message: `unknown rule key '${printable(key)}' (known: ${KEYS.join(", ")})` };
  }
  // dst4/dst6 are qvm-firewall's synonyms of dsthost.
  const k: Key = key === "dst4" || key === "dst6" ? "dsthost" : (key as Key);
  if (fields.has(k)) return { ok: false, message: `'${k}' appears twice in one rule` };
  fields.set(k, value);
  return { ok: true, value: true };
}

function checkFields(f: Map<Key, string>): Parsed<FirewallRule> {
  const fail = (message: string): Parsed<FirewallRule> => ({ ok: false, message });
  const action = f.get("action");
  if (action === undefined) return fail("missing action (accept or drop)");
  if (action !== "accept" && action !== "drop")
    return fail(`action must be accept or drop, not '${printable(action)}'`);

  const proto = f.get("proto");
  if (proto !== undefined && proto !== "tcp" && proto !== "udp" && proto !== "icmp")
    return fail(`proto must be tcp, udp or icmp, not '${printable(proto)}'`);

  let dsthost: FirewallRule["dsthost"];
  const host = f.get("dsthost");
  if (host !== undefined) {
    if (host.includes(":") || /^[0-9./]+$/.test(host)) {
      const cidr = parseCidr(host);
      if (!cidr.ok) return fail(`dsthost: ${cidr.message}`);
      dsthost = { kind: cidr.value.family === 4 ? "4" : "6", text: cidr.value.cidr.text };
    } else if (HOSTNAME.test(host)) {
      dsthost = { kind: "host", text: host };
    } else if (HOSTNAME.test(host.toLowerCase())) {
      return fail(
        `dsthost '${printable(host)}': qubesd accepts host names in lower case only; write '${host.toLowerCase()}'`,
      );
    } else {
      return fail(`dsthost '${printable(host)}' is neither an IP address, a network nor a host name`);
    }
  }

  let dstports: PortRange | undefined;
  const ports = f.get("dstports");
  if (ports !== undefined) {
    if (proto !== "tcp" && proto !== "udp") return fail("dstports needs proto=tcp or proto=udp");
    const r = parsePortRange(/^\d+$/.test(ports) ? Number(ports) : ports);
    if (!r.ok) return fail(`dstports: ${r.message}`);
    dstports = r.value;
  }

  let icmptype: number | undefined;
  const icmp = f.get("icmptype");
  if (icmp !== undefined) {
    if (proto !== "icmp") return fail("icmptype needs proto=icmp");
    if (!/^\d{1,3}$/.test(icmp) || Number(icmp) > 255)
      return fail(`icmptype must be a number 0-255, not '${printable(icmp)}'`);
    icmptype = Number(icmp);
  }

  const special = f.get("specialtarget");
  if (special !== undefined && special !== "dns")
    return fail(`specialtarget can only be dns, not '${printable(special)}'`);

  const expire = f.get("expire");
  if (expire !== undefined && expire.startsWith("+")) {
    // qvm-firewall turns +N into now+N; the Salt state would read it as 1970+N.
    return fail("expire=+seconds would count from each apply; write the UNIX time the rule ends");
  }
  if (expire !== undefined && !/^\d{1,12}$/.test(expire))
    return fail(`expire must be a UNIX time, not '${printable(expire)}'`);

  const comment = f.get("comment");
  if (comment !== undefined && !COMMENT.test(comment)) {
    return fail("a comment may hold letters, digits, spaces and : ; , . / - _ [ ] only (qubesd's rule)");
  }

  return {
    ok: true,
    value: {
      action,
      ...(proto === undefined ? {} : { proto }),
      ...(dsthost === undefined ? {} : { dsthost }),
      ...(dstports === undefined ? {} : { dstports }),
      ...(icmptype === undefined ? {} : { icmptype }),
      ...(special === undefined ? {} : { specialtarget: "dns" as const }),
      ...(expire === undefined ? {} : { expire }),
      ...(comment === undefined ? {} : { comment }),
    },
  };
}

/**
 * qubesadmin's canonical string (`Rule.rule`): action, proto, dst4/dst6/
 * dsthost, dstports as a range, icmptype, specialtarget, expire, comment
 * last. A /0 network limits nothing and is left out, as qubesadmin does.
 */
export function ruleString(r: FirewallRule): string {
  const parts = [`action=${r.action}`];
  if (r.proto) parts.push(`proto=${r.proto}`);
  if (r.dsthost && !(r.dsthost.kind !== "host" && r.dsthost.text.endsWith("/0"))) {
    parts.push(r.dsthost.kind === "host" ? `dsthost=${r.dsthost.text}` : `dst${r.dsthost.kind}=${r.dsthost.text}`);
  }
  if (r.dstports) parts.push(`dstports=${r.dstports.first}-${r.dstports.last}`);
  if (r.icmptype !== undefined) parts.push(`icmptype=${r.icmptype}`);
  if (r.specialtarget) parts.push(`specialtarget=${r.specialtarget}`);
  if (r.expire) parts.push(`expire=${r.expire}`);
  if (r.comment !== undefined) parts.push(`comment=${r.comment}`);
  return parts.join(" ");
}
