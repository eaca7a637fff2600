/** src/render/helpers.ts: the only way a value reaches a script. Given a value, want its text, or a throw. */
import { describe, expect, it } from "vitest";
import {
  arrival,
  cidr,
  cidrSet,
  comment,
  join,
  md,
  nftId,
  port,
  sh,
  TemplateValueError,
} from "../../src/render/helpers.js";

describe("sh: POSIX shell words", () => {
  const TABLE: [given: string | number, want: string][] = [
    ["web", "web"],
    ["sys-firewall-2", "sys-firewall-2"],
    ["/rw/config/qwire", "/rw/config/qwire"],
    ["a=b,c:d+e", "a=b,c:d+e"],
    [443, "443"],
    ["", "''"],
    ["a b", "'a b'"],
    ["it's", `'it'\\''s'`],
    ["'", `''\\'''`],
    ["$(reboot)", "'$(reboot)'"],
    ["`id`", "'`id`'"],
    ["a;b", "'a;b'"],
    ["a\nb", "'a\nb'"],
    ['say "hi"', `'say "hi"'`],
    ["*", "'*'"],
    ["~root", "'~root'"],
    ["a\\b", "'a\\b'"],
  ];
  for (const [given, want] of TABLE) it(JSON.stringify(given), () => expect(sh(given)).toBe(want));

  it("refuses NUL and non-strings", () => {
    expect(() => sh("a\0b")).toThrow(TemplateValueError);
    expect(() => sh(undefined)).toThrow(TemplateValueError);
    expect(() => sh(null)).toThrow(TemplateValueError);
    expect(() => sh({ toString: () => "x" })).toThrow(TemplateValueError);
    expect(() => sh(["a"])).toThrow(TemplateValueError);
  });
});

describe("nftId", () => {
  it.each(["qwire-dnat", "tcp", "udp", "qwire_in", "a"])("accepts %j", (v) => expect(nftId(v)).toBe(v));
  it.each(["", "Qwire", "1abc", "-x", "a b", "a;b", "a.b", 'a"', "a\n", "ünï", 7, null, undefined])(
    "refuses %j",
    (v) => {
      expect(() => nftId(v)).toThrow(TemplateValueError);
    },
  );
});

describe("port", () => {
  const OK: [unknown, string][] = [
    [1, "1"],
    [65535, "65535"],
    [{ first: 443, last: 443 }, "443"],
    [{ first: 8000, last: 8010 }, "8000-8010"],
  ];
  it.each(OK)("%j -> %s", (v, want) => expect(port(v)).toBe(want));
  it.each([
    0,
    65536,
    -1,
    1.5,
    NaN,
    "443",
    "443;reboot",
    null,
    undefined,
    { first: 10, last: 5 },
    { first: 0, last: 5 },
    { first: 1, last: 70000 },
    { first: "1", last: "2" },
    [],
  ])("refuses %j", (v) => expect(() => port(v)).toThrow(TemplateValueError));
});

describe("cidr and cidrSet", () => {
  it.each(["10.0.0.0/8", "0.0.0.0/0", "255.255.255.255/32", "192.168.1.0/24", "::1/128", "2001:db8::/32", "::/0"])(
    "accepts %j, bare or as {text}",
    (v) => {
      expect(cidr(v)).toBe(v);
      expect(cidr({ family: 4, text: v })).toBe(v);
    },
  );
  it.each([
    "10.0.0.0",
    "10.0.0.0/33",
    "256.0.0.0/8",
    "010.0.0.0/8",
    "10.0.0.0/8; flush ruleset",
    "10.0.0.0/8\n",
    "::1",
    "2001:DB8::/32",
    "::1/129",
    "",
    10,
    null,
    undefined,
    { text: "x" },
  ])("refuses %j", (v) => expect(() => cidr(v)).toThrow(TemplateValueError));
  it("cidrSet joins into an anonymous set and refuses an empty list", () => {
    expect(cidrSet([{ family: 4, text: "10.0.0.0/8" }, "192.168.1.0/24"])).toBe("{ 10.0.0.0/8, 192.168.1.0/24 }");
    expect(() => cidrSet([])).toThrow(TemplateValueError);
    expect(() => cidrSet("10.0.0.0/8")).toThrow(TemplateValueError);
    expect(() => cidrSet(["10.0.0.0/8", "x"])).toThrow(TemplateValueError);
  });
});

describe("arrival", () => {
  it("uplink -> iifgroup 1; interface -> quoted iifname", () => {
    expect(arrival({ kind: "uplink" })).toBe("iifgroup 1");
    expect(arrival({ kind: "interface", name: "ens6" })).toBe('iifname "ens6"');
    expect(arrival({ kind: "interface", name: "eth0.100" })).toBe('iifname "eth0.100"');
  });
  it.each([
    { kind: "interface", name: 'ens6" accept' },
    { kind: "interface", name: "ens6\n" },
    { kind: "interface", name: "abcdefghijklmnop" },
    { kind: "interface", name: "eth*" },
    { kind: "interface", name: "" },
    { kind: "interface" },
    { kind: "other", name: "ens6" },
    "ens6",
    null,
    undefined,
  ])("refuses %j", (v) => expect(() => arrival(v)).toThrow(TemplateValueError));
});

describe("comment, join, md", () => {
  it("comment: one printable ASCII line, else a throw", () => {
    expect(comment("forward web-https: tcp 443")).toBe("forward web-https: tcp 443");
    for (const bad of ["a\nb", "a\rb", "tab\there", "é", "\x1b[31m", 5, null])
      expect(() => comment(bad)).toThrow(TemplateValueError);
  });
  it("join: comment-safe words joined with ', '", () => {
    expect(join(["a", "b"])).toBe("a, b");
    expect(() => join("a")).toThrow(TemplateValueError);
    expect(() => join(["a", "b\n"])).toThrow(TemplateValueError);
  });
  it("md: escapes Markdown's active characters", () => {
    expect(md("a_b *c* [d](e) <f> `g` |h| \\")).toBe("a\\_b \\*c\\* \\[d\\](e) \\<f> \\`g\\` \\|h\\| \\\\");
    expect(md("a -> b")).toBe("a -> b");
    expect(() => md("a\nb")).toThrow(TemplateValueError);
  });
});
