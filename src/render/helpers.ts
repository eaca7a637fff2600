/**
 * The only way a value reaches a shell script or an nft rule. Each helper
 * checks the shape of what it is given and throws on anything else: the
 * validator already refused unsafe input, so a throw here is a qwire bug,
 * never a user error. Templates are compiled with knownHelpersOnly, and
 * test/templates-lint.test.ts fails on any bare {{value}} in them.
 */
import type { PortRange } from "../validate/index.js";

export class TemplateValueError extends Error {
  override readonly name = "TemplateValueError";
}

function assert(ok: boolean, helper: string, value: unknown): void {
  if (!ok) throw new TemplateValueError(`${helper}: refusing ${JSON.stringify(value)}`);
}

/** POSIX shell word: allowlisted words as they are, everything else single-quoted. */
export function sh(value: unknown): string {
  assert(typeof value === "string" || typeof value === "number", "sh", value);
  const text = String(value);
  assert(!text.includes("\0"), "sh", value);
  if (/^[A-Za-z0-9_./=:,+-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A shell command from its words, each quoted as `sh` does. */
export function command(value: unknown): string {
  assert(Array.isArray(value) && value.length > 0, "command", value);
  return (value as unknown[]).map(sh).join(" ");
}

/** An nft identifier or keyword (chain, set, protocol): never quoted, so never anything else. */
export function nftId(value: unknown): string {
  assert(typeof value === "string" && /^[a-z][a-z0-9_-]*$/.test(value), "nftId", value);
  return value as string;
}

/** 443 or 8000-8010. */
export function port(value: unknown): string {
  const valid = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535;
  if (valid(value)) return String(value);
  const r = value as PortRange | null;
  assert(r !== null && typeof r === "object" && valid(r.first) && valid(r.last) && r.first <= r.last, "port", value);
  return r!.first === r!.last ? String(r!.first) : `${r!.first}-${r!.last}`;
}

const CIDR4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;

/** IPv6 in canonical lower-case hex-and-colons form, with its prefix. */
const CIDR6 = /^[0-9a-f:]{2,39}\/(12[0-8]|1[01]\d|[1-9]?\d)$/;

/** One IPv4 or IPv6 network. */
export function cidr(value: unknown): string {
  const text = (value as { text?: unknown } | null)?.text ?? value;
  assert(typeof text === "string" && (CIDR4.test(text) || (text.includes(":") && CIDR6.test(text))), "cidr", value);
  return text as string;
}

/** An anonymous nft set of networks: { 10.0.0.0/8, 192.168.1.0/24 }. */
export function cidrSet(value: unknown): string {
  assert(Array.isArray(value) && value.length > 0, "cidrSet", value);
  return `{ ${(value as unknown[]).map(cidr).join(", ")} }`;
}

/**
 * `uplink: auto`: the placeholder of the interface the script finds at run
 * time. Only rule groups that `%needs @uplink` hold it, and fill_in
 * (templates/_partials/script-functions.sh.hbs) writes a group only with a
 * name it has checked against the interface-name grammar.
 */
const DETECTED_UPLINK = "<@uplink>";

/** How a packet arrives: `iifname "ens6"` (quoted: '.' in a name would read as concatenation), the interface found at run time, or `iifgroup 1`. */
export function arrival(value: unknown): string {
  const a = value as { kind?: unknown; name?: unknown } | null;
  if (a?.kind === "uplink") return "iifgroup 1";
  if (a?.kind === "detected") return `iifname "${DETECTED_UPLINK}"`;
  assert(
    a?.kind === "interface" && typeof a.name === "string" && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(a.name),
    "arrival",
    value,
  );
  return `iifname "${a!.name as string}"`;
}

/** iptables port or range: 443 or 8000:8010. */
export function iptPort(value: unknown): string {
  return port(value).replace("-", ":");
}

/** iptables protocol (`-p`, `-m`): tcp or udp, nothing else. */
export function iptProto(value: unknown): string {
  assert(value === "tcp" || value === "udp", "iptProto", value);
  return value as string;
}

/**
 * How a packet arrives, for iptables: `-i ens6`, or `-i eth0` for the Qubes
 * uplink (R4.1 and older put no interface groups on it). Names never carry
 * iptables' `+` wildcard: the validator allows [A-Za-z0-9_.-] only.
 */
export function iptArrival(value: unknown): string {
  const a = value as { kind?: unknown; name?: unknown } | null;
  if (a?.kind === "uplink") return "-i eth0";
  if (a?.kind === "detected") return `-i ${DETECTED_UPLINK}`;
  assert(
    a?.kind === "interface" && typeof a.name === "string" && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(a.name),
    "iptArrival",
    value,
  );
  return `-i ${a!.name as string}`;
}

/** Text after `#` in a shell or nft comment: one line, printable. */
export function comment(value: unknown): string {
  assert(typeof value === "string" && /^[\x20-\x7e]*$/.test(value), "comment", value);
  return value as string;
}

/** Words joined for a comment: `a, b`. */
export function join(value: unknown): string {
  assert(Array.isArray(value), "join", value);
  return (value as unknown[]).map(comment).join(", ");
}

/** Plain text for Markdown: one printable line, with Markdown's active characters escaped ('>' only quotes at a line start, which never happens here). */
export function md(value: unknown): string {
  return comment(value).replace(/([\\`*_[\]<|])/g, "\\$1");
}

/** A Markdown code span: shown exactly as it is, so no escaping, and no backtick inside. */
export function code(value: unknown): string {
  const text = comment(value);
  assert(!text.includes("`"), "code", value);
  return `\`${text}\``;
}

/**
 * Elements of an `ipv4_addr . inet_proto . inet_service` interval set:
 * { 10.0.0.0/24 . tcp . 443-443, 0.0.0.0/0 . udp . 0-65535 } (0-65535 is any port).
 */
export function portElements(value: unknown): string {
  assert(Array.isArray(value) && value.length > 0, "portElements", value);
  const valid = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 65535;
  const items = (value as unknown[]).map((v) => {
    const e = v as { net?: unknown; proto?: unknown; first?: unknown; last?: unknown } | null;
    assert(
      e !== null &&
        typeof e === "object" &&
        (e.proto === "tcp" || e.proto === "udp") &&
        valid(e.first) &&
        valid(e.last) &&
        e.first <= e.last,
      "portElements",
      v,
    );
    assert(typeof e!.net === "string" && CIDR4.test(e!.net), "portElements", v);
    return `${e!.net as string} . ${e!.proto as string} . ${e!.first as number}-${e!.last as number}`;
  });
  return `{ ${items.join(", ")} }`;
}

/** The data types qwire's nft sets and maps use, joined as a concatenation: `ipv4_addr . inet_proto . inet_service`. */
export function nftType(value: unknown): string {
  const known = ["ipv4_addr", "ipv6_addr", "inet_proto", "inet_service"];
  assert(Array.isArray(value) && value.length > 0 && value.every((t) => known.includes(t as string)), "nftType", value);
  return (value as string[]).join(" . ");
}

/** A quoted nft string, e.g. an element comment: names only, so never a quote or a backslash. */
export function nftString(value: unknown): string {
  assert(typeof value === "string" && /^[A-Za-z0-9_.,:/ -]{1,120}$/.test(value), "nftString", value);
  return `"${value as string}"`;
}

/**
 * The key a qube's address has in the addresses file and in a rule group's
 * `<...>` placeholders: the qube name for IPv4, `name/6` for IPv6
 * (templates/_partials/script-functions.sh.hbs fills them in).
 */
export function addressKey(qube: unknown, table: unknown): string {
  assert(typeof qube === "string" && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(qube), "addressKey", qube);
  assert(table === "ip" || table === "ip6", "addressKey", table);
  return table === "ip" ? (qube as string) : `${qube as string}/6`;
}

/** A count or an index: a non-negative integer. */
export function int(value: unknown): string {
  assert(typeof value === "number" && Number.isInteger(value) && value >= 0, "int", value);
  return String(value);
}

/** An ICMP type number, 0-255. */
export function icmpType(value: unknown): string {
  assert(typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 255, "icmpType", value);
  return String(value);
}

export const HELPERS = {
  sh,
  command,
  code,
  nftId,
  nftType,
  nftString,
  addressKey,
  int,
  port,
  cidr,
  cidrSet,
  portElements,
  icmpType,
  arrival,
  iptPort,
  iptProto,
  iptArrival,
  comment,
  join,
  md,
} as const;
