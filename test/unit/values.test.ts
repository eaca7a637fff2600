/** Value grammars of src/validate/values.ts: given a raw YAML value, want the parsed value or a message. */
import { describe, expect, it } from "vitest";
import {
  parseCidr,
  parseIntentName,
  parseInterfaceName,
  parseIpv4,
  parsePortRange,
  parseQubeName,
  printable,
} from "../../src/validate/values.js";

type Want<T> = { ok: T } | { fail: RegExp };

function check<T>(result: { ok: true; value: T } | { ok: false; message: string }, want: Want<T>): void {
  if ("ok" in want) {
    expect(result).toEqual({ ok: true, value: want.ok });
  } else {
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toMatch(want.fail);
      // eslint-disable-next-line no-control-regex -- the test is that no control character is left
      expect(result.message).not.toMatch(/[\x00-\x1f]/);
    }
  }
}

describe("parsePortRange", () => {
  const TABLE: [given: unknown, want: Want<{ first: number; last: number }>][] = [
    [443, { ok: { first: 443, last: 443 } }],
    [1, { ok: { first: 1, last: 1 } }],
    [65535, { ok: { first: 65535, last: 65535 } }],
    ["443", { ok: { first: 443, last: 443 } }],
    ["8000-8010", { ok: { first: 8000, last: 8010 } }],
    ["1-65535", { ok: { first: 1, last: 65535 } }],
    ["22-22", { ok: { first: 22, last: 22 } }],
    [0, { fail: /^port 0 is outside 1-65535$/ }],
    [65536, { fail: /^port 65536 is outside 1-65535$/ }],
    [-1, { fail: /outside 1-65535/ }],
    [44.5, { fail: /outside 1-65535/ }],
    ["0", { fail: /'0' is outside 1-65535/ }],
    ["65536", { fail: /outside 1-65535/ }],
    ["0-10", { fail: /outside 1-65535/ }],
    ["10-70000", { fail: /outside 1-65535/ }],
    ["8010-8000", { fail: /ends before it starts/ }],
    ["100000", { fail: /expected a port number/ }],
    ["http", { fail: /found string "http"/ }],
    ["22;reboot", { fail: /expected a port number/ }],
    ["22 ", { fail: /expected a port number/ }],
    ["22\n", { fail: /expected a port number/ }],
    ["8000 - 8010", { fail: /expected a port number/ }],
    ["-22", { fail: /expected a port number/ }],
    ["", { fail: /expected a port number/ }],
    [null, { fail: /found null/ }],
    [[22], { fail: /found a list/ }],
    [{ port: 22 }, { fail: /found a mapping/ }],
    [true, { fail: /found boolean true/ }],
  ];
  for (const [given, want] of TABLE) it(`${JSON.stringify(given)}`, () => check(parsePortRange(given), want));
});

describe("parseIpv4", () => {
  const TABLE: [given: unknown, want: Want<string>][] = [
    ["10.137.0.40", { ok: "10.137.0.40" }],
    ["0.0.0.0", { ok: "0.0.0.0" }],
    ["255.255.255.255", { ok: "255.255.255.255" }],
    ["10.137.0.040", { fail: /'10.137.0.040' is not an IPv4 address/ }],
    ["010.1.1.1", { fail: /not an IPv4 address/ }],
    ["10.00.0.1", { fail: /not an IPv4 address/ }],
    ["256.1.1.1", { fail: /not an IPv4 address/ }],
    ["1.2.3", { fail: /not an IPv4 address/ }],
    ["1.2.3.4.5", { fail: /not an IPv4 address/ }],
    ["1.2.3.4/32", { fail: /not an IPv4 address/ }],
    [" 1.2.3.4", { fail: /not an IPv4 address/ }],
    ["1.2.3.4\n", { fail: /'1\.2\.3\.4\\x0a' is not an IPv4 address/ }],
    ["0x0a.1.1.1", { fail: /not an IPv4 address/ }],
    [167772161, { fail: /must be a string, found number 167772161/ }],
  ];
  for (const [given, want] of TABLE) it(`${JSON.stringify(given)}`, () => check(parseIpv4(given), want));
});

describe("parseCidr", () => {
  const v4 = (text: string) => ({ family: 4, cidr: { family: 4, text } });
  const v6 = (text: string) => ({ family: 6, cidr: { family: 6, text } });
  const TABLE: [given: unknown, want: Want<unknown>][] = [
    ["192.168.1.0/24", { ok: v4("192.168.1.0/24") }],
    ["10.0.0.5", { ok: v4("10.0.0.5/32") }],
    ["10.0.0.5/32", { ok: v4("10.0.0.5/32") }],
    ["0.0.0.0/0", { ok: v4("0.0.0.0/0") }],
    ["10.0.0.0/8", { ok: v4("10.0.0.0/8") }],
    ["192.168.1.1/24", { fail: /^'192.168.1.1\/24' has host bits set: the network is 192.168.1.0\/24$/ }],
    ["10.1.2.3/0", { fail: /host bits set: the network is 0.0.0.0\/0/ }],
    ["10.0.0.0/33", { fail: /an IPv4 prefix is at most \/32/ }],
    ["10.0.0.0/08", { fail: /bad prefix length/ }],
    ["10.0.0.0/", { fail: /bad prefix length/ }],
    ["10.0.0.0/-1", { fail: /bad prefix length/ }],
    ["10.0.0.0/8/8", { fail: /is not a CIDR/ }],
    ["192.168.001.0/24", { fail: /not an IPv4 address or network/ }],
    ["300.1.1.0/24", { fail: /not an IPv4 address or network/ }],
    ["lan", { fail: /'lan' is not an IPv4 address or network/ }],
    ["", { fail: /not an IPv4 address or network/ }],
    ["192.168.1.0/24; reboot", { fail: /bad prefix length/ }],
    ["192.168.1.0/24\nreboot", { fail: /\\x0a/ }],
    [24, { fail: /must be a string, found number 24/ }],
    // IPv6: canonical text (RFC 5952) with the prefix, host bits refused
    ["2001:db8::/32", { ok: v6("2001:db8::/32") }],
    ["2001:DB8::1", { ok: v6("2001:db8::1/128") }],
    ["::1", { ok: v6("::1/128") }],
    ["::", { ok: v6("::/128") }],
    ["::/0", { ok: v6("::/0") }],
    ["fe80::/10", { ok: v6("fe80::/10") }],
    ["1:2:3:4:5:6:7:8", { ok: v6("1:2:3:4:5:6:7:8/128") }],
    // RFC 5952: a single zero group is not compressed
    ["1:2:3:4:5:6:7::", { ok: v6("1:2:3:4:5:6:7:0/128") }],
    ["::ffff:192.168.1.1", { ok: v6("::ffff:c0a8:101/128") }],
    ["1:2:3:4:5:6:1.2.3.4", { ok: v6("1:2:3:4:5:6:102:304/128") }],
    ["2001:db8::/128", { ok: v6("2001:db8::/128") }],
    ["2001:db8::1/64", { fail: /host bits set: the network is 2001:db8::\/64/ }],
    ["2001:0db8:0000:0000:0000:0000:0000:0000/32", { ok: v6("2001:db8::/32") }],
    ["2001:db8:0:0:1:0:0:1", { ok: v6("2001:db8::1:0:0:1/128") }],
    ["2001:db8::/129", { fail: /an IPv6 prefix is at most \/128/ }],
    ["2001:db8::/032", { fail: /bad prefix length/ }],
    ["1:2:3:4:5:6:7:8:9", { fail: /not an IPv6 address or network/ }],
    ["1:2:3:4:5:6:7", { fail: /not an IPv6 address or network/ }],
    ["1::2::3", { fail: /not an IPv6 address or network/ }],
    [":::", { fail: /not an IPv6 address or network/ }],
    ["12345::", { fail: /not an IPv6 address or network/ }],
    ["fe80::1%eth0", { fail: /not an IPv6 address or network/ }],
    ["::ffff:1.2.3.004", { fail: /not an IPv6 address or network/ }],
    ["g::1", { fail: /not an IPv6 address or network/ }],
  ];
  for (const [given, want] of TABLE) it(`${JSON.stringify(given)}`, () => check(parseCidr(given), want));
});

describe("parseQubeName", () => {
  const n31 = `a${"b".repeat(30)}`;
  const n32 = `a${"b".repeat(31)}`;
  const TABLE: [given: unknown, want: Want<string>][] = [
    ["web", { ok: "web" }],
    ["a", { ok: "a" }],
    ["sys-firewall-2", { ok: "sys-firewall-2" }],
    ["my_vm.work", { ok: "my_vm.work" }],
    ["Work", { ok: "Work" }],
    [n31, { ok: n31 }],
    [n32, { fail: /is not a valid qube name: Qubes allows a letter followed by up to 30/ }],
    ["dom0", { fail: /^'dom0' is reserved by Qubes/ }],
    ["none", { fail: /^'none' is reserved by Qubes/ }],
    ["default", { fail: /^'default' is reserved by Qubes/ }],
    ["1web", { fail: /not a valid qube name/ }],
    ["-web", { fail: /not a valid qube name/ }],
    ["_web", { fail: /not a valid qube name/ }],
    ["", { fail: /'' is not a valid qube name/ }],
    ["web;reboot", { fail: /'web;reboot' is not a valid qube name/ }],
    ["web$(reboot)", { fail: /not a valid qube name/ }],
    ["web`id`", { fail: /not a valid qube name/ }],
    ["web'", { fail: /not a valid qube name/ }],
    ['web"', { fail: /not a valid qube name/ }],
    ["web\n", { fail: /'web\\x0a' is not a valid qube name/ }],
    ["web\nreboot", { fail: /'web\\x0areboot'/ }],
    ["web reboot", { fail: /not a valid qube name/ }],
    ["wéb", { fail: /not a valid qube name/ }],
    [`${"x".repeat(60)}`, { fail: /'x{40}…' is not a valid qube name/ }],
    [42, { fail: /^a qube name must be a string, found number 42$/ }],
    [null, { fail: /found null/ }],
  ];
  for (const [given, want] of TABLE) it(`${JSON.stringify(given)}`, () => check(parseQubeName(given), want));
});

describe("parseInterfaceName", () => {
  const TABLE: [given: unknown, want: Want<string>][] = [
    ["ens6", { ok: "ens6" }],
    ["eth0.100", { ok: "eth0.100" }],
    ["wg0", { ok: "wg0" }],
    ["tun_0", { ok: "tun_0" }],
    ["0abc", { ok: "0abc" }],
    ["abcdefghijklmno", { ok: "abcdefghijklmno" }],
    ["abcdefghijklmnop", { fail: /not a valid interface name: up to 15/ }],
    ["eth*", { fail: /'eth\*' is not a valid interface name/ }],
    ["eth+", { fail: /not a valid interface name/ }],
    ["eth0:1", { fail: /not a valid interface name/ }],
    ["-eth0", { fail: /not a valid interface name/ }],
    [".", { fail: /not a valid interface name/ }],
    ["", { fail: /not a valid interface name/ }],
    ['ens6" accept', { fail: /not a valid interface name/ }],
    ["ens6\n", { fail: /'ens6\\x0a'/ }],
    [6, { fail: /^an interface name must be a string, found number 6$/ }],
  ];
  for (const [given, want] of TABLE) it(`${JSON.stringify(given)}`, () => check(parseInterfaceName(given), want));
});

describe("parseIntentName", () => {
  const TABLE: [given: unknown, want: Want<string>][] = [
    ["web-https", { ok: "web-https" }],
    ["0day", { ok: "0day" }],
    ["a".repeat(63), { ok: "a".repeat(63) }],
    ["a".repeat(64), { fail: /not a valid name/ }],
    ["web https", { fail: /'web https' is not a valid name/ }],
    ["-x", { fail: /not a valid name/ }],
    ["x'; reboot", { fail: /not a valid name/ }],
    [1, { fail: /^a name must be a string, found number 1$/ }],
  ];
  for (const [given, want] of TABLE) it(`${JSON.stringify(given)}`, () => check(parseIntentName(given), want));
});

describe("printable", () => {
  it("escapes control characters and cuts long values", () => {
    expect(printable("a\nb\x1b[31m\x7f")).toBe("a\\x0ab\\x1b[31m\\x7f");
    expect(printable("y".repeat(41))).toBe(`${"y".repeat(40)}…`);
    expect(printable("ok")).toBe("ok");
  });
});
