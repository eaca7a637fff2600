/**
 * Grammars of single values: ports, addresses, names. Each parser returns the
 * narrowed value, or a message for the user (the caller adds code and span).
 * Patterns are allowlists: a value that passes can be written into a shell
 * script or an nft rule without quoting surprises.
 */
import { ipv4Network, ipv4Octets, ipv4Text, octetsNumber } from "../addresses/ipv4.js";
import { ipv6Groups, ipv6Network, ipv6Text } from "../addresses/ipv6.js";
import {
  AUTO_UPLINK,
  type IntentName,
  type InterfaceName,
  type Ipv4Cidr,
  type Ipv6Cidr,
  type PortRange,
  type QubeName,
} from "./spec.js";

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
    return fail(
      `'${printable(value)}' is not a valid qube name: Qubes allows a letter followed by up to 30 letters, digits, '_', '.' or '-'`,
    );
  }
  if (value === "dom0" || value === "none" || value === "default")
    return fail(`'${value}' is reserved by Qubes and cannot name a qube here`);
  return ok(value as QubeName);
}

export function parseInterfaceName(value: unknown): Parsed<InterfaceName> {
  if (typeof value !== "string") return fail(`an interface name must be a string, found ${describe(value)}`);
  if (!IFACE_NAME.test(value)) {
    return fail(
      `'${printable(value)}' is not a valid interface name: up to 15 letters, digits, '_', '.' or '-' (no wildcards)`,
    );
  }
  // Reserved, as Qubes reserves 'dom0' for qubes: 'uplink: auto' alone means "found at run time".
  if (value === AUTO_UPLINK)
    return fail(
      "'auto' is not an interface name: it only stands alone, as a qube's 'uplink: auto' (its one interface besides lo and vif*, found at run time)",
    );
  return ok(value as InterfaceName);
}

export function parseIntentName(value: unknown): Parsed<IntentName> {
  if (typeof value !== "string") return fail(`a name must be a string, found ${describe(value)}`);
  if (!INTENT_NAME.test(value)) {
    return fail(
      `'${printable(value)}' is not a valid name: use up to 63 letters, digits, '_', '.' or '-', starting with a letter or digit`,
    );
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

export type CidrParse = { family: 4; cidr: Ipv4Cidr } | { family: 6; cidr: Ipv6Cidr };

/** An IPv4 or IPv6 address or network. A bare address means one host. */
export function parseCidr(value: unknown): Parsed<CidrParse> {
  if (typeof value !== "string") return fail(`a CIDR must be a string, found ${describe(value)}`);
  const [addr = "", len, ...rest] = value.split("/");
  if (rest.length > 0) return fail(`'${printable(value)}' is not a CIDR`);
  if (addr.includes(":")) {
    const groups = ipv6Groups(addr);
    if (!groups) return fail(`'${printable(value)}' is not an IPv6 address or network`);
    if (len !== undefined && !/^(0|[1-9]\d{0,2})$/.test(len))
      return fail(`'${printable(value)}' has a bad prefix length`);
    const prefix = len === undefined ? 128 : Number(len);
    if (prefix > 128) return fail(`'${printable(value)}': an IPv6 prefix is at most /128`);
    const network = ipv6Network(groups, prefix);
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
  const n = octetsNumber(octets);
  const network = ipv4Network(n, prefix);
  if (network !== n) {
    return fail(`'${value}' has host bits set: the network is ${ipv4Text(network)}/${prefix}`);
  }
  return ok({ family: 4, cidr: { family: 4, text: `${ipv4Text(network)}/${prefix}` } });
}

/** Shows a hostile value without letting it break the diagnostic line. */
export function printable(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes
  return shown.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
