/**
 * Grammars of single values: ports, addresses, names. Each parser returns the
 * narrowed value, or a message for the user (the caller adds code and span).
 * Patterns are allowlists: a value that passes can be written into a shell
 * script or an nft rule without quoting surprises.
 */
import type { IntentName, InterfaceName, Ipv4Cidr, Ipv6Cidr, PortRange, QubeName } from "./spec.js";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** qubesd's rule for VM names (qubes/vm/__init__.py validate_name). */
const QUBE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,30}$/;
const IFACE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const INTENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

export function parseQubeName(value: unknown): Parsed<QubeName> {
  if (typeof value !== "string") return fail(`a qube name must be a string, found ${describe(value)}`);
  if (!QUBE_NAME.test(value)) {
    return fail(`'${printable(value)}' is not a valid qube name: Qubes allows a letter followed by up to 30 letters, digits, '_', '.' or '-'`);
  }
  if (value === "dom0" || value === "none" || value === "default") return fail(`'${value}' is reserved by Qubes and cannot name a qube here`);
  return ok(value as QubeName);
}

export function parseInterfaceName(value: unknown): Parsed<InterfaceName> {
  if (typeof value !== "string") return fail(`an interface name must be a string, found ${describe(value)}`);
  if (!IFACE_NAME.test(value)) {
    return fail(`'${printable(value)}' is not a valid interface name: up to 15 letters, digits, '_', '.' or '-' (no wildcards)`);
  }
  return ok(value as InterfaceName);
}

export function parseIntentName(value: unknown): Parsed<IntentName> {
  if (typeof value !== "string") return fail(`a name must be a string, found ${describe(value)}`);
  if (!INTENT_NAME.test(value)) {
    return fail(`'${printable(value)}' is not a valid name: use up to 63 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return ok(value as IntentName);
}

/** A port (443) or an inclusive range ("8000-8010"). */
export function parsePortRange(value: unknown): Parsed<PortRange> {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 1 && value <= 65535
      ? ok({ first: value, last: value })
      : fail(`port ${value} is outside 1-65535`);
  }
  if (typeof value === "string") {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
    if (m) {
      const first = Number(m[1]);
      const last = m[2] === undefined ? first : Number(m[2]);
      if (first < 1 || last > 65535 || first > 65535) return fail(`port range '${value}' is outside 1-65535`);
      if (last < first) return fail(`port range '${value}' ends before it starts`);
      return ok({ first, last });
    }
  }
  return fail(`expected a port number (443) or a range ("8000-8010"), found ${describe(value)}`);
}

export function formatPortRange(r: PortRange): string {
  return r.first === r.last ? String(r.first) : `${r.first}-${r.last}`;
}

export function parseIpv4(value: unknown): Parsed<string> {
  if (typeof value !== "string") return fail(`an IPv4 address must be a string, found ${describe(value)}`);
  const octets = ipv4Octets(value);
  return octets ? ok(octets.join(".")) : fail(`'${printable(value)}' is not an IPv4 address`);
}

function ipv4Octets(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const p of parts) {
    // No leading zeros: "010" is octal to some tools and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    octets.push(n);
  }
  return octets;
}

export type CidrParse = { family: 4; cidr: Ipv4Cidr } | { family: 6; cidr: Ipv6Cidr };

/** An IPv4 or IPv6 address or network. A bare address means one host. */
export function parseCidr(value: unknown): Parsed<CidrParse> {
  if (typeof value !== "string") return fail(`a CIDR must be a string, found ${describe(value)}`);
  const [addr = "", len, ...rest] = value.split("/");
  if (rest.length > 0) return fail(`'${printable(value)}' is not a CIDR`);
  if (addr.includes(":")) {
    const groups = ipv6Groups(addr);
    if (!groups) return fail(`'${printable(value)}' is not an IPv6 address or network`);
    if (len !== undefined && !/^(0|[1-9]\d{0,2})$/.test(len)) return fail(`'${printable(value)}' has a bad prefix length`);
    const prefix = len === undefined ? 128 : Number(len);
    if (prefix > 128) return fail(`'${printable(value)}': an IPv6 prefix is at most /128`);
    const network = groups.map((g, i) => {
      const keep = Math.max(0, Math.min(16, prefix - 16 * i));
      return keep === 0 ? 0 : g & (0xffff << (16 - keep)) & 0xffff;
    });
    if (network.some((g, i) => g !== groups[i])) {
      return fail(`'${printable(value)}' has host bits set: the network is ${ipv6Text(network)}/${prefix}`);
    }
    return ok({ family: 6, cidr: { family: 6, text: `${ipv6Text(network)}/${prefix}` } });
  }
  const octets = ipv4Octets(addr);
  if (!octets) return fail(`'${printable(value)}' is not an IPv4 address or network (e.g. 192.168.1.0/24)`);
  if (len !== undefined && !/^(0|[1-9]\d?)$/.test(len)) return fail(`'${printable(value)}' has a bad prefix length`);
  const prefix = len === undefined ? 32 : Number(len);
  if (prefix > 32) return fail(`'${printable(value)}': an IPv4 prefix is at most /32`);
  const n = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(n / size) * size;
  if (network !== n) {
    return fail(`'${value}' has host bits set: the network is ${toDotted(network)}/${prefix}`);
  }
  return ok({ family: 4, cidr: { family: 4, text: `${toDotted(network)}/${prefix}` } });
}

function toDotted(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** The eight 16-bit groups of an IPv6 address (with an optional IPv4 tail), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (half: string): number[] | undefined => {
    if (half === "") return [];
    const parts = half.split(":");
    const out: number[] = [];
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes(".")) {
        const o = ipv4Octets(part);
        if (!o) return undefined;
        out.push(o[0]! * 256 + o[1]!, o[2]! * 256 + o[3]!);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) out.push(parseInt(part, 16));
      else return undefined;
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  if (head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of zero groups as "::". */
function ipv6Text(groups: readonly number[]): string {
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at === -1) return hex.join(":");
  return `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}`;
}

/** Shows a hostile value without letting it break the diagnostic line. */
export function printable(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return shown.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
