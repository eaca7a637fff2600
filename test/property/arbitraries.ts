/**
 * fast-check generators of qwire.yaml documents, derived from the language
 * (DESIGN §2, src/validate/schema.ts and the value grammars in
 * src/validate/values.ts and firewall-rule.ts):
 * - validDocument: any mix of net qubes (a chain, service qubes, guests),
 *   clients, forwards, links (network and qrexec), outbound rules, expect,
 *   on every release; values drawn from each field's grammar (most build;
 *   the rest meet topology's checks, which is also worth fuzzing);
 * - hostileDocument: a valid document with some scalars replaced by hostile
 *   strings (shell, nft, Jinja, YAML, control and look-alike characters, very
 *   long values) or wrong types, unknown keys, deep nesting, and YAML anchors,
 *   aliases and merge keys; or a text-level mutation of its YAML.
 * Documents are built as data and dumped with js-yaml (so any string can be
 * written), then sometimes rewritten in flow style or with anchors.
 */
import fc from "fast-check";
import yaml from "js-yaml";

export const RELEASES = ["4.2", "4.3", "4.1", "4.0", "3.2"] as const;

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const nameChars = `${letters}0123456789_.-`;

/** Qube names as Qubes allows them: a letter, then up to 30 of [A-Za-z0-9_.-]. */
export const qubeName = fc
  .tuple(fc.constantFrom(...letters), fc.string({ unit: fc.constantFrom(...nameChars), maxLength: 12 }))
  .map(([a, b]) => a + b)
  .filter((n) => !["dom0", "none", "default"].includes(n));

const ifaceName = fc.oneof(
  fc.constantFrom("ens6", "eth0", "wlan0", "ens5", "enp0s1"),
  fc
    .tuple(fc.constantFrom(...letters), fc.string({ unit: fc.constantFrom(...nameChars), maxLength: 14 }))
    .map(([a, b]) => a + b),
);

const port = fc.integer({ min: 1, max: 65535 });
const portRange = fc.oneof(
  { weight: 4, arbitrary: port },
  {
    weight: 1,
    arbitrary: fc
      .tuple(port, fc.integer({ min: 0, max: 20 }))
      .map(([p, n]) => `${Math.min(p, 65535 - n)}-${Math.min(p, 65535 - n) + n}`),
  },
);

/** An IPv4 network with no host bits, or a host. */
const ipv4Net = fc
  .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
  .map(([a, prefix]) => {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const n = (a & mask) >>> 0;
    const dotted = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
    return prefix === 32 && a % 2 === 0 ? dotted : `${dotted}/${prefix}`;
  });
const ipv6Net = fc.constantFrom("2001:db8::/32", "::/0", "fd00::/8", "2001:db8:1::1/128", "fe80::/10");
const source = fc.oneof(
  { weight: 8, arbitrary: ipv4Net },
  { weight: 1, arbitrary: fc.constant("any") },
  { weight: 1, arbitrary: ipv6Net },
);

const hostName = fc.constantFrom("example.com", "updates.example.org", "a.b-c_d.net");
const firewallRule = fc.oneof(
  fc
    .record(
      {
        action: fc.constantFrom("accept", "drop"),
        dsthost: fc.oneof(ipv4Net, hostName, ipv6Net),
        proto: fc.constantFrom("tcp", "udp", "icmp"),
        dstports: portRange.map(String),
        comment: fc.string({ unit: fc.constantFrom(..."abc XYZ09:;,./-_[]"), maxLength: 20 }),
      },
      { requiredKeys: ["action"] },
    )
    .map((r) =>
      r.proto === "icmp"
        ? { ...r, dstports: undefined }
        : r.dstports !== undefined && r.proto === undefined
          ? { ...r, proto: "tcp" }
          : r,
    )
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
  fc
    .tuple(
      fc.constantFrom("accept", "drop"),
      fc.option(ipv4Net),
      fc.option(fc.constantFrom("tcp", "udp")),
      fc.option(port),
    )
    .map(([a, h, p, d]) =>
      [a, h && `dsthost=${h}`, p && `proto=${p}`, p && d && `dstports=${d}`].filter(Boolean).join(" "),
    ),
  fc.constant({ action: "accept", specialtarget: "dns" }),
);

export interface DocShape {
  [key: string]: unknown;
}

/** A valid document as data: the chain sys-net -> fw [-> service -> fw2], clients, intents. */
export const validDocument: fc.Arbitrary<DocShape> = fc
  .record({
    release: fc.option(fc.constantFrom(...RELEASES), { nil: undefined }),
    netNames: fc.uniqueArray(qubeName, {
      minLength: 4,
      maxLength: 4,
      selector: (n) => n.toLowerCase().replace(/[._]/g, "-"),
    }),
    clients: fc.uniqueArray(qubeName, {
      minLength: 2,
      maxLength: 5,
      selector: (n) => n.toLowerCase().replace(/[._]/g, "-"),
    }),
    withService: fc.boolean(),
    uplinks: fc.array(ifaceName, { minLength: 1, maxLength: 2 }),
    ipv6: fc.boolean(),
    pins: fc.array(fc.integer({ min: 2, max: 250 }), { maxLength: 5 }),
    forwards: fc.array(
      fc.record(
        {
          to: fc.nat(),
          port: portRange,
          proto: fc.constantFrom("tcp", "udp"),
          external_port: port,
          from: fc.array(source, { minLength: 1, maxLength: 3 }),
          name: qubeName,
        },
        { requiredKeys: ["to", "port", "from"] },
      ),
      { maxLength: 4 },
    ),
    links: fc.array(
      fc.record(
        {
          from: fc.nat(),
          to: fc.nat(),
          ports: fc.array(portRange, { minLength: 1, maxLength: 3 }),
          proto: fc.constantFrom("tcp", "udp", "any"),
          both_ways: fc.boolean(),
          via: fc.constantFrom("network", "qrexec"),
          local_port: port,
          name: qubeName,
        },
        { requiredKeys: ["from", "to"] },
      ),
      { maxLength: 3 },
    ),
    firewall: fc.array(
      fc.record({
        qube: fc.nat(),
        policy: fc.constantFrom("drop", "accept"),
        rules: fc.array(firewallRule, { maxLength: 4 }),
      }),
      { maxLength: 2 },
    ),
    expect: fc.array(
      fc.record({
        from: fc.oneof(
          fc.nat(),
          ipv4Net.map((a) => `outside:${a.split("/")[0]}`),
        ),
        to: fc.nat(),
        port,
        result: fc.constantFrom("open", "closed"),
      }),
      {
        maxLength: 2,
      },
    ),
    guest: fc.option(fc.constantFrom("disposable", "template"), { nil: undefined }),
  })
  .map((g) => {
    const [net, fw, svc, fw2] = g.netNames as [string, string, string, string];
    // Release limits (QW4001, QW4004, QW4008, QW2016) kept, so that most documents build.
    const nft = g.release === undefined || g.release === "4.2" || g.release === "4.3";
    const r32 = g.release === "3.2";
    if (!nft) {
      g.ipv6 = false;
      g.guest = undefined;
    }
    if (r32) {
      g.pins = [];
      g.firewall = [];
    }
    const qubes: Record<string, Record<string, unknown>> = {
      [net]: {
        provides_network: true,
        uplink: g.uplinks.length === 1 ? g.uplinks[0] : g.uplinks,
        ...(g.ipv6 ? { ipv6: true } : {}),
      },
      [fw]: { netvm: net, provides_network: true, ...(g.ipv6 ? { ipv6: true } : {}) },
    };
    if (g.withService) {
      qubes[svc] = { netvm: fw, provides_network: true, role: "service" };
      qubes[fw2] = { netvm: svc, provides_network: true };
    }
    const firewalls = g.withService ? [fw, fw2] : [fw];
    g.clients.forEach((c, i) => {
      qubes[c] = {
        netvm: firewalls[i % firewalls.length],
        ...(g.pins[i] !== undefined ? { ip: `10.137.0.${g.pins[i]}` } : {}),
        ...(g.ipv6 ? { ipv6: true } : {}),
      };
    });
    if (g.guest === "disposable") qubes[net] = { ...qubes[net], disposable_template: `${net}-dvm` };
    if (g.guest === "template") qubes[net] = { ...qubes[net], placement: "template", template: "debian-12" };
    const client = (i: number) => g.clients[i % g.clients.length]!;
    // Link ends behind the first firewall qube (a network link needs one firewall qube for both), never the same qube.
    const near = g.clients.filter((_, i) => i % firewalls.length === 0);
    const linkEnds = (a: number, b: number): [string, string] => {
      const pool = near.length >= 2 ? near : [near[0]!, fw];
      const from = pool[a % pool.length]!;
      return [from, pool[(a + 1 + (b % (pool.length - 1))) % pool.length]!];
    };
    const sources = (from: string[]) => (g.ipv6 ? from : from.map((s) => (s.includes(":") ? "192.0.2.0/24" : s)));
    const any = [...Object.keys(qubes)];
    const doc: DocShape = { version: 1, ...(g.release ? { release: g.release } : {}), qubes };
    if (g.forwards.length) {
      doc.forwards = g.forwards.map((f, i) => {
        const { external_port, ...rest } = f;
        return {
          ...rest,
          to: client(f.to),
          from: sources(f.from),
          ...(typeof f.port === "number" && external_port !== undefined ? { external_port } : {}),
          ...(f.name ? { name: `${f.name}-${i}` } : {}),
        };
      });
    }
    if (g.links.length) {
      doc.links = g.links.map((l, i) => {
        const { local_port, ...rest } = l;
        const qrexec =
          l.via === "qrexec" && !r32
            ? { proto: "tcp", ports: [typeof l.ports?.[0] === "number" ? l.ports[0] : 22] }
            : { via: "network" };
        return {
          ...rest,
          ...qrexec,
          from: linkEnds(l.from, l.to)[0],
          to: linkEnds(l.from, l.to)[1],
          ...(l.via === "qrexec" && !r32 && local_port !== undefined ? { local_port } : {}),
          ...(l.name ? { name: `${l.name}-l${i}` } : {}),
        };
      });
    }
    if (g.firewall.length)
      doc.firewall = Object.fromEntries(g.firewall.map((f) => [client(f.qube), { policy: f.policy, rules: f.rules }]));
    if (g.expect.length)
      doc.expect = g.expect.map((e) => ({
        ...e,
        from: typeof e.from === "number" ? any[e.from % any.length] : e.from,
        to: any[e.to % any.length],
      }));
    return doc;
  });

/** Strings that must never reach a script, a rule or Salt unvalidated. */
export const HOSTILE_PAYLOADS = [
  "'",
  '"',
  "$(reboot)",
  "`reboot`",
  "${IFS}reboot",
  "\nreboot",
  "\r\nreboot",
  ";reboot",
  "|reboot",
  "&&reboot",
  " ; drop",
  "{{ 7*7 }}",
  "{% if 1 %}x{% endif %}",
  "{# c #}",
  "\u0000",
  "\u001b[31m",
  "\u2028",
  "#",
  "*",
  "\\",
  "}; flush ruleset; {",
  "\u0455ys-net", // Cyrillic s
  "\uff14\uff14\uff13", // fullwidth 443
  "\u200b",
  "\u00a0",
  "\u202e",
  "é",
  "- x",
  ": x",
  "&a",
  "!!python/object:os.system",
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom("", "web", "443", "192.168.1.0/24", "ens6", "sys-net", "accept"),
        fc.constantFrom(...HOSTILE_PAYLOADS),
        fc.constantFrom("", "x", "reboot"),
      )
      .map((p) => p.join("")),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("a".repeat(10_000), "9".repeat(5_000), `${"x".repeat(64)}`, `sys-${"n".repeat(40)}`),
  },
);

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.double({ noNaN: false }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);

type Path = (string | number)[];

/** A mutation's value used as a mapping key: strings as they are, anything else as its JSON. */
function asKey(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return "[object]";
  }
}

/** Every path to a scalar (and to each mapping, for unknown keys) in the document. */
function pathsOf(
  value: unknown,
  at: Path = [],
  out: { scalars: Path[]; maps: Path[] } = { scalars: [], maps: [] },
): { scalars: Path[]; maps: Path[] } {
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (value !== null && typeof value === "object") {
    out.maps.push(at);
    for (const [k, v] of Object.entries(value)) {
      out.scalars.push([...at, `\u0000key:${k}`]); // the key itself
      pathsOf(v, [...at, k], out);
    }
  } else out.scalars.push(at);
  return out;
}

function setAt(doc: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (typeof head === "string" && head.startsWith("\u0000key:")) {
    const key = head.slice(5);
    const obj = doc as Record<string, unknown>;
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => (k === key ? [asKey(value), v] : [k, v])));
  }
  if (Array.isArray(doc)) return (doc as unknown[]).map((v, i) => (i === head ? setAt(v, rest, value) : v));
  const obj = (doc ?? {}) as Record<string, unknown>;
  return { ...obj, [head as string]: setAt(obj[head as string], rest, value) };
}

type Mutation =
  | { kind: "scalar"; pick: number; value: unknown }
  | { kind: "unknown-key"; pick: number; key: string; value: unknown }
  | { kind: "deep"; pick: number; depth: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("scalar" as const), pick: fc.nat(), value: hostileString }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("scalar" as const), pick: fc.nat(), value: wrongType }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("unknown-key" as const),
      pick: fc.nat(),
      key: fc.oneof(fc.constantFrom("prots", "netmv", "<<", "__proto__", "constructor"), hostileString),
      value: wrongType,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("deep" as const),
      pick: fc.nat(),
      depth: fc.integer({ min: 1, max: 120 }),
    }),
  },
);

function applyMutation(doc: DocShape, m: Mutation): DocShape {
  const { scalars, maps } = pathsOf(doc);
  if (m.kind === "scalar") return setAt(doc, scalars[m.pick % scalars.length]!, m.value) as DocShape;
  if (m.kind === "unknown-key") {
    const at = maps[m.pick % maps.length]!;
    return setAt(doc, [...at, m.key], m.value) as DocShape;
  }
  let nested: unknown = "x";
  for (let i = 0; i < m.depth; i++) nested = i % 2 ? [nested] : { k: nested };
  return setAt(doc, scalars[m.pick % scalars.length]!, nested) as DocShape;
}

/** YAML text of a document: block style, flow style, or with anchors, aliases and merge keys. */
function dump(doc: DocShape, style: number): string {
  if (style === 1) return yaml.dump(doc, { flowLevel: 2, lineWidth: -1 });
  if (style === 2 && Array.isArray(doc.forwards) && doc.forwards.length > 1) {
    // Anchors and aliases: every forward shares the first one's `from` list (js-yaml writes &ref_0 / *ref_0).
    const forwards = doc.forwards as Record<string, unknown>[];
    return yaml.dump({ ...doc, forwards: forwards.map((f) => ({ ...f, from: forwards[0]!.from })) }, { lineWidth: -1 });
  }
  if (style === 3 && doc.qubes && typeof doc.qubes === "object") {
    // A merge key (not in the core schema qwire reads: an unknown key '<<') and aliases of a qube's settings.
    const text = yaml.dump(doc, { lineWidth: -1, noRefs: true });
    return (
      text.replace(/^qubes:\n {2}([^\n]+):\n/m, "qubes:\n  $1: &first\n") + "x-merge:\n  <<: *first\n  extra: *first\n"
    );
  }
  return yaml.dump(doc, { lineWidth: -1, noRefs: true });
}

export interface Generated {
  readonly yaml: string;
  /** Strings put into the document by mutations (to look for in the bundle). */
  readonly planted: readonly string[];
}

export const validYaml: fc.Arbitrary<Generated> = fc
  .tuple(validDocument, fc.integer({ min: 0, max: 2 }))
  .map(([doc, style]) => ({ yaml: dump(doc, style), planted: [] }));

const textMutation = fc.record({
  at: fc.nat(),
  insert: fc.oneof(
    fc.constantFrom(
      ...HOSTILE_PAYLOADS,
      "\t",
      "  ",
      "- ",
      ": ",
      "&x ",
      "*x",
      "<<: ",
      "[",
      "{",
      "%YAML 1.1\n",
      "---\n",
      "? ",
    ),
    hostileString,
  ),
  cut: fc.nat({ max: 8 }),
});

export const hostileYaml: fc.Arbitrary<Generated> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(validDocument, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 3 }))
      .map(([doc, ms, style]) => {
        let d = doc;
        for (const m of ms) d = applyMutation(d, m);
        const planted = ms.flatMap((m) =>
          m.kind === "scalar" && typeof m.value === "string" ? [m.value] : m.kind === "unknown-key" ? [m.key] : [],
        );
        return { yaml: dump(d, style), planted };
      }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(validYaml, textMutation).map(([g, t]) => {
      const at = t.at % (g.yaml.length + 1);
      // Inserted text is not a value (it may join a valid one: "name: a--" + "--\n"), so nothing is planted:
      // these inputs are for the parser and the other properties.
      return { yaml: g.yaml.slice(0, at) + t.insert + g.yaml.slice(at + t.cut), planted: [] };
    }),
  },
);
