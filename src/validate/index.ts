/**
 * Stage 2, validate: ParsedDocument -> IntentSpec.
 *
 * zod checks the structure (QW2001 unknown keys, QW2002 types); this file
 * parses every value with a grammar of its own (QW2003-QW2012), fills in the
 * defaults of DESIGN.md §2 and refuses what this version does not build yet
 * (QW4xxx). Cross-references between intents are the topology stage's job.
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import type { ParsedDocument, YamlPath } from "../parse/index.js";
import { parseFirewallRule } from "./firewall-rule.js";
import { r32Refusal } from "./firewall-r32.js";
import { DocumentSchema } from "./schema.js";
import { reportZodIssues } from "./zod-issues.js";
import {
  describe,
  formatPortRange,
  parseCidr,
  parseIntentName,
  parseInterfaceName,
  parseIpv4,
  parsePortRange,
  parseQubeName,
  type Parsed,
} from "./values.js";
import {
  RELEASES,
  type ExpectSpec,
  type FirewallRule,
  type FirewallSpec,
  type ForwardSpec,
  type GuestOf,
  type IntentSpec,
  type InterfaceName,
  type Ipv4Cidr,
  type Ipv6Cidr,
  type LinkSpec,
  type NetworkLinkSpec,
  type QrexecLinkSpec,
  type PortRange,
  type Proto,
  type QubeSpec,
  type Release,
} from "./spec.js";

export * from "./spec.js";
export { ruleString } from "./firewall-rule.js";
export * from "./firewall-r32.js";

/** Outbound rules one qube can carry before qubesd fails (Qubes issue #4228: ~900-950). */
export const MAX_FIREWALL_RULES = 900;
/** R4.2/R4.3: past MAX_FIREWALL_RULES the netvm enforces the list (topology decides, QW2020), up to this many. */
export const MAX_OVERFLOW_RULES = 10_000;

/** Releases whose firewall is nftables (IPv6 rules are built for these only). */
export const NFT_RELEASES: readonly Release[] = ["4.3", "4.2"];

type Obj = Record<string, unknown>;

/**
 * The spec, also when some values were refused: the topology stage can then
 * still report wrong references in the same run ("all errors at once").
 * `complete` is false when anything was refused; such a spec is never planned.
 */
export interface Validated {
  readonly spec: IntentSpec;
  readonly complete: boolean;
  /** Qube keys refused as names: references to them are not reported again. */
  readonly rejectedQubes: ReadonlySet<string>;
}

export function validate(doc: ParsedDocument, diag: DiagnosticBag): Validated | undefined {
  if (!isObj(doc.value)) {
    const found = doc.value === undefined || doc.value === null ? "the file is empty" : `found ${describe(doc.value)}`;
    diag.error("QW2002", doc.positions.value([]), `qwire.yaml must be a mapping with 'version' and 'qubes'; ${found}`, {
      hint: "start from 'version: 1' and 'qubes:' (see formulas/ for examples)",
    });
    return undefined;
  }
  const parsed = DocumentSchema.safeParse(doc.value);
  if (!parsed.success) reportZodIssues(parsed.error.issues, doc, diag);
  const v = new Narrower(doc, diag);
  const root = doc.value;

  if (root.version !== undefined && root.version !== 1) {
    diag.error("QW2007", doc.positions.value(["version"]), `qwire.yaml version ${JSON.stringify(root.version)} is not supported`, {
      hint: "this qwire reads 'version: 1'",
    });
  }
  const release = v.release(root.release);
  const qubes = Object.entries(isObj(root.qubes) ? root.qubes : {})
    .map(([name, raw]) => v.qube(name, raw, release))
    .filter((q): q is QubeSpec => q !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const forwards = list(root.forwards).map((raw, i) => v.forward(raw, ["forwards", i]));
  const links = list(root.links).map((raw, i) => v.link(raw, ["links", i], release));
  const expect = list(root.expect).map((raw, i) => v.expectation(raw, ["expect", i]));

  const firewall = Object.entries(isObj(root.firewall) ? root.firewall : {})
    .map(([qube, raw]) => v.firewall(qube, raw, release))
    .filter((f): f is FirewallSpec => f !== undefined)
    .sort((a, b) => (a.qube < b.qube ? -1 : a.qube > b.qube ? 1 : 0));
  v.uniqueNames([...forwards, ...links].filter((x): x is ForwardSpec | LinkSpec => x !== undefined));

  const spec: IntentSpec = {
    version: 1,
    release,
    qubes,
    forwards: forwards.filter((f): f is ForwardSpec => f !== undefined),
    links: links.filter((l): l is LinkSpec => l !== undefined),
    firewall,
    expect: expect.filter((e): e is ExpectSpec => e !== undefined),
  };
  const rejectedQubes = new Set(Object.keys(isObj(root.qubes) ? root.qubes : {}).filter((k) => !qubes.some((q) => q.name === k)));
  return { spec, complete: parsed.success && !diag.hasErrors(), rejectedQubes };
}

class Narrower {
  constructor(
    private readonly doc: ParsedDocument,
    private readonly diag: DiagnosticBag,
  ) {}

  /** Reports a failed parse under `code` at `path`; returns the value or undefined. */
  take<T>(code: DiagnosticCode, path: YamlPath, result: Parsed<T>, hint?: string): T | undefined {
    if (result.ok) return result.value;
    this.diag.error(code, this.doc.positions.value(path), result.message, hint === undefined ? {} : { hint });
    return undefined;
  }

  release(raw: unknown): Release {
    if (raw === undefined) return "4.2";
    // `release: 4.2` unquoted is a YAML float; accept it as the user meant it.
    const text = typeof raw === "number" ? raw.toFixed(1) : raw;
    const found = RELEASES.find((r) => r === text);
    if (found === undefined) {
      this.diag.error("QW2008", this.doc.positions.value(["release"]), `unknown Qubes release ${JSON.stringify(raw)}`, {
        hint: `use one of ${RELEASES.map((r) => `"${r}"`).join(", ")}`,
      });
      return "4.2";
    }
    return found;
  }

  qube(name: string, raw: unknown, release: Release): QubeSpec | undefined {
    const path = ["qubes", name];
    const parsedName = parseQubeName(name);
    if (!parsedName.ok) {
      // The name is the key: point at it, not at the qube's settings.
      this.diag.error("QW2003", this.doc.positions.key(path), parsedName.message);
      return undefined;
    }
    const qubeName = parsedName.value;
    const q: Obj = isObj(raw) ? raw : {};
    const netvm = q.netvm === undefined || q.netvm === null ? undefined : this.take("QW2003", [...path, "netvm"], parseQubeName(q.netvm));
    const uplinks: InterfaceName[] = [];
    if (q.uplink !== undefined) {
      const items = Array.isArray(q.uplink) ? q.uplink.map((u, i) => [u, [...path, "uplink", i]] as const) : [[q.uplink, [...path, "uplink"]] as const];
      for (const [u, p] of items) {
        const iface = this.take("QW2006", p, parseInterfaceName(u));
        if (iface !== undefined && !uplinks.includes(iface)) uplinks.push(iface);
      }
    }
    let ip = q.ip === undefined ? undefined : this.take("QW2005", [...path, "ip"], parseIpv4(q.ip), "pin an IPv4 address such as 10.137.0.40");
    if (ip !== undefined && release === "3.2") {
      this.diag.error("QW4008", this.doc.positions.value([...path, "ip"]), `Qubes R3.2 cannot pin the address of '${name}': its qvm-prefs has no 'ip' to set`, {
        hint: "remove 'ip:'; qwire looks addresses up in dom0 when the bundle is applied",
      });
      ip = undefined;
    }
    if (q.ipv6 === true && !NFT_RELEASES.includes(release)) {
      this.diag.error("QW4004", this.doc.positions.key([...path, "ipv6"]), `IPv6 on Qubes R${release} (iptables base rules) is not built by this version of qwire`, {
        hint: "remove 'ipv6: true'; on R4.2 and R4.3 qwire builds IPv6 rules",
      });
    }
    const guestOf = this.guestOf(qubeName, q, path, release);
    if (q.custom_persist === true && release === "4.3" && q.placement !== "template") {
      this.diag.error(
        "QW4005",
        this.doc.positions.key([...path, "custom_persist"]),
        `'${name}' uses custom-persist: Qubes R4.3 then skips /rw/config/rc.local.d and /rw/config/qubes-firewall.d, so qwire's rules would never load there`,
        {
          hint: `add 'placement: template' and 'template: <its template>' (a net qube's rules then go to the template's /etc/qubes/qubes-firewall.d), or turn it off (qvm-features ${name} service.custom-persist '')`,
        },
      );
    }
    return {
      name: qubeName,
      ...(netvm === undefined ? {} : { netvm }),
      providesNetwork: q.provides_network === true,
      uplinks,
      role: q.role === "service" ? "service" : "plain",
      ipv6: q.ipv6 === true,
      ...(ip === undefined ? {} : { ip }),
      ...(guestOf === undefined ? {} : { guestOf }),
      path,
    };
  }

  /**
   * `disposable_template: D` (files in D's /rw) or `placement: template` with
   * `template: T` (files in T's /etc/qubes): R4.2 and R4.3 only. Whether the
   * qube may be a guest at all (a net qube, a host of its own) is topology's.
   */
  guestOf(name: string, q: Obj, path: YamlPath, release: Release): GuestOf | undefined {
    const disposable = q.disposable_template;
    const placed = q.placement === "template";
    if (q.template !== undefined && !placed) {
      this.diag.error("QW2002", this.doc.positions.key([...path, "template"]), "'template' only applies with 'placement: template'", {
        hint: "add 'placement: template', or remove 'template'",
      });
      return undefined;
    }
    if (placed && q.template === undefined) {
      this.diag.error("QW2002", this.doc.positions.key([...path, "placement"]), `'placement: template' needs 'template:', the template of '${name}' that receives its scripts`, {
        hint: `add e.g. 'template: debian-12' (qvm-prefs ${name} template)`,
      });
      return undefined;
    }
    if (placed && disposable !== undefined) {
      this.diag.error("QW2002", this.doc.positions.key([...path, "placement"]), "'placement: template' and 'disposable_template' exclude each other", {
        hint: "a disposable net qube gets its files through its disposable template: remove 'placement' and 'template'",
      });
      return undefined;
    }
    if (disposable === undefined && !placed) return undefined;
    const key = placed ? "template" : "disposable_template";
    const host = this.take("QW2003", [...path, key], parseQubeName(placed ? q.template : disposable));
    if (host === undefined) return undefined;
    if (!NFT_RELEASES.includes(release)) {
      this.diag.error(
        "QW4001",
        this.doc.positions.key([...path, key]),
        placed ? `'placement: template' is built for Qubes R4.2 and R4.3 only by this version of qwire` : `disposable net qubes are built for Qubes R4.2 and R4.3 only by this version of qwire`,
        { hint: "use a named (non-disposable) net qube with its files in its own /rw on this release" },
      );
      return undefined;
    }
    return { kind: placed ? "template" : "disposable", host, path: [...path, key] };
  }

  forward(raw: unknown, path: YamlPath): ForwardSpec | undefined {
    if (!isObj(raw)) return undefined;
    const to = raw.to === undefined ? undefined : this.take("QW2003", [...path, "to"], parseQubeName(raw.to));
    const port = raw.port === undefined ? undefined : this.take("QW2004", [...path, "port"], parsePortRange(raw.port));
    const proto: Proto = raw.proto === "udp" ? "udp" : "tcp";
    let externalPort = port;
    if (raw.external_port !== undefined) {
      externalPort = this.take("QW2004", [...path, "external_port"], parsePortRange(raw.external_port));
      if (port && externalPort && !fits(port, externalPort)) {
        this.diag.error("QW2012", this.doc.positions.value([...path, "external_port"]), `external_port ${formatPortRange(externalPort)} does not fit port ${formatPortRange(port)}`, {
          hint: "a port range is forwarded as it is: leave external_port out, or give a single port for a single port",
        });
        externalPort = undefined;
      }
    }
    const from = this.sources(raw.from, [...path, "from"]);
    const entry = raw.entry === undefined ? undefined : this.take("QW2003", [...path, "entry"], parseQubeName(raw.entry));
    const iface = raw.interface === undefined ? undefined : this.take("QW2006", [...path, "interface"], parseInterfaceName(raw.interface));
    const name =
      raw.name !== undefined
        ? this.take("QW2011", [...path, "name"], parseIntentName(raw.name))
        : to && port
          ? (`${to}-${proto}-${formatPortRange(port)}` as ForwardSpec["name"])
          : undefined;
    if (!to || !port || !externalPort || !from || !name) return undefined;
    return {
      name,
      to,
      port,
      externalPort,
      proto,
      from: from.v4,
      from6: from.v6,
      ...(entry === undefined ? {} : { entry }),
      ...(iface === undefined ? {} : { interface: iface }),
      path,
    };
  }

  /** IPv4 and IPv6 sources of a forward, each sorted; `any` is 0.0.0.0/0 (write ::/0 for IPv6). */
  sources(raw: unknown, path: YamlPath): { v4: Ipv4Cidr[]; v6: Ipv6Cidr[] } | undefined {
    if (raw === undefined) {
      this.diag.error("QW2009", this.doc.positions.value(path.slice(0, -1)), "this forward has no 'from': say which source addresses may come in", {
        hint: "add e.g. 'from: [192.168.1.0/24]'; write 'from: [any]' to open it to every address",
      });
      return undefined;
    }
    const items = Array.isArray(raw) ? raw.map((r, i) => [r, [...path, i]] as const) : [[raw, path] as const];
    if (items.length === 0) {
      this.diag.error("QW2009", this.doc.positions.value(path), "'from' is empty: nobody could use this forward", {
        hint: "list the source networks, e.g. [192.168.1.0/24]",
      });
      return undefined;
    }
    // Keyed by text: a list of 100,000 sources must not be deduplicated in quadratic time.
    const v4 = new Map<string, Ipv4Cidr>();
    const v6 = new Map<string, Ipv6Cidr>();
    let good = true;
    for (const [item, p] of items) {
      if (item === "any") {
        this.diag.warning("QW2010", this.doc.positions.value(p), "this forward is open to any IPv4 source address on the outside interface", {
          hint: "list the networks that need it, e.g. your LAN 192.168.1.0/24 (and write ::/0 for any IPv6 source)",
        });
        v4.set("0.0.0.0/0", { family: 4, text: "0.0.0.0/0" });
        continue;
      }
      const cidr = this.take("QW2005", p, parseCidr(item));
      if (cidr === undefined) good = false;
      else if (cidr.family === 6) v6.set(cidr.cidr.text, cidr.cidr);
      else v4.set(cidr.cidr.text, cidr.cidr);
    }
    return good
      ? { v4: [...v4.values()].sort((a, b) => compareCidr(a.text, b.text)), v6: [...v6.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0)) }
      : undefined;
  }

  link(raw: unknown, path: YamlPath, release: Release): LinkSpec | undefined {
    if (!isObj(raw)) return undefined;
    const from = raw.from === undefined ? undefined : this.take("QW2003", [...path, "from"], parseQubeName(raw.from));
    const to = raw.to === undefined ? undefined : this.take("QW2003", [...path, "to"], parseQubeName(raw.to));
    const ports: PortRange[] = [];
    let good = true;
    if (Array.isArray(raw.ports)) {
      raw.ports.forEach((p, i) => {
        const r = this.take("QW2004", [...path, "ports", i], parsePortRange(p));
        if (r === undefined) good = false;
        else ports.push(r);
      });
      if (raw.ports.length === 0) {
        this.diag.error("QW2004", this.doc.positions.value([...path, "ports"]), "'ports' is empty", { hint: "list ports, or leave 'ports' out for all traffic" });
        good = false;
      }
    }
    const base = { from, to, bothWays: raw.both_ways === true, path };
    const spec = raw.via === "qrexec" ? this.qrexecLink(raw, path, release, ports) : this.networkLink(raw, path, ports);
    if (!from || !to || !good || !spec) return undefined;
    const name =
      raw.name !== undefined
        ? this.take("QW2011", [...path, "name"], parseIntentName(raw.name))
        : (`${from}-${to}-${spec.via === "qrexec" ? "qrexec" : spec.traffic === "all" ? "all" : spec.traffic.protos.join("+")}${spec.via === "network" && spec.traffic === "all" ? "" : `-${(spec.via === "qrexec" ? spec.ports.map((p) => String(p.port)) : spec.traffic === "all" ? [] : spec.traffic.ports.map(formatPortRange)).join("+")}`}` as LinkSpec["name"]);
    if (name === undefined) return undefined;
    return { ...base, from, to, name, ...spec } as LinkSpec;
  }

  networkLink(raw: Obj, path: YamlPath, ports: PortRange[]): Pick<NetworkLinkSpec, "via" | "traffic"> | undefined {
    if (raw.local_port !== undefined) {
      this.diag.error("QW2002", this.doc.positions.key([...path, "local_port"]), "'local_port' only applies to 'via: qrexec' links", { hint: "remove it" });
      return undefined;
    }
    const proto = raw.proto;
    const protos: Proto[] = proto === "tcp" ? ["tcp"] : proto === "udp" ? ["udp"] : ["tcp", "udp"];
    // No ports and no protocol: everything (DESIGN.md §2 "omitted = all traffic").
    // No ports but a protocol: every port of that protocol.
    const traffic: NetworkLinkSpec["traffic"] =
      ports.length === 0 && (proto === undefined || proto === "any")
        ? "all"
        : { protos: proto === undefined ? ["tcp"] : protos, ports: ports.length === 0 ? [{ first: 1, last: 65535 }] : mergeRanges(ports) };
    return { via: "network", traffic };
  }

  /** qubes.ConnectTCP: TCP only, one port per call, R4.1 and later (reference §5). */
  qrexecLink(raw: Obj, path: YamlPath, release: Release, ports: PortRange[]): Pick<QrexecLinkSpec, "via" | "ports"> | undefined {
    let good = true;
    if (release === "3.2") {
      this.diag.error("QW2016", this.doc.positions.value([...path, "via"]), "Qubes R3.2 has no qubes.ConnectTCP", { hint: "use a network link on R3.2" });
      good = false;
    }
    if (raw.proto !== undefined && raw.proto !== "tcp") {
      this.diag.error("QW2016", this.doc.positions.value([...path, "proto"]), `a qrexec link carries TCP only, not ${JSON.stringify(raw.proto)}`, {
        hint: "use a network link for UDP",
      });
      good = false;
    }
    if (!Array.isArray(raw.ports)) {
      this.diag.error("QW2016", this.doc.positions.value(path), "a qrexec link needs 'ports': qubes.ConnectTCP opens one port per call", {
        hint: "add e.g. 'ports: [22]'",
      });
      return undefined;
    }
    raw.ports.forEach((p, i) => {
      const r = parsePortRange(p);
      if (r.ok && r.value.first !== r.value.last) {
        this.diag.error("QW2016", this.doc.positions.value([...path, "ports", i]), "a qrexec link forwards single ports, not ranges", { hint: "list the ports one by one" });
        good = false;
      }
    });
    let localPort: number | undefined;
    if (raw.local_port !== undefined) {
      const r = this.take("QW2004", [...path, "local_port"], parsePortRange(raw.local_port));
      if (r === undefined) good = false;
      else if (r.first !== r.last || ports.length !== 1) {
        this.diag.error("QW2016", this.doc.positions.value([...path, "local_port"]), "'local_port' needs exactly one port in 'ports' and is a single port itself", {
          hint: "write one link per port when the local ports differ",
        });
        good = false;
      } else localPort = r.first;
    }
    if (!good) return undefined;
    const unique = [...new Set(ports.map((p) => p.first))].sort((a, b) => a - b);
    return { via: "qrexec", ports: unique.map((port) => ({ port, localPort: localPort ?? port })) };
  }

  firewall(qube: string, raw: unknown, release: Release): FirewallSpec | undefined {
    const path = ["firewall", qube];
    const name = parseQubeName(qube);
    if (!name.ok) {
      this.diag.error("QW2003", this.doc.positions.key(path), name.message);
      return undefined;
    }
    const f: Obj = isObj(raw) ? raw : {};
    const rules: FirewallRule[] = [];
    const policy = f.policy === "accept" ? "accept" : "drop";
    let good = true;
    list(f.rules).forEach((r, i) => {
      const rule = this.take("QW2013", [...path, "rules", i], parseFirewallRule(r), "see 'man qvm-firewall' for the rule syntax");
      if (rule === undefined) {
        good = false;
        return;
      }
      if (rule.dsthost?.kind === "host") {
        this.diag.warning("QW2014", this.doc.positions.value([...path, "rules", i]), `'${rule.dsthost.text}' is resolved once, in the netvm, when the rules are applied, not per connection`, {
          hint: "a service whose address changes breaks until the next apply, and if the name does not resolve the netvm blocks all of this qube's traffic; prefer addresses",
        });
      }
      // R3.2's qvm-firewall is a policy with exceptions and two switches: refuse what it cannot hold.
      const refusal = release === "3.2" ? r32Refusal(rule, policy) : undefined;
      if (refusal !== undefined) {
        this.diag.error("QW4007", this.doc.positions.value([...path, "rules", i]), `outbound rule ${i + 1} of '${qube}' cannot be written on Qubes R3.2`, { hint: refusal });
        good = false;
      }
      rules.push(rule);
    });
    const nft = release === "4.2" || release === "4.3";
    if (rules.length > (nft ? MAX_OVERFLOW_RULES : MAX_FIREWALL_RULES)) {
      this.diag.error(
        "QW4006",
        this.doc.positions.key([...path, "rules"]),
        nft
          ? `${rules.length} outbound rules for '${qube}': past ${MAX_FIREWALL_RULES} qwire moves the overflow into the netvm, but only up to ${MAX_OVERFLOW_RULES} rules`
          : `${rules.length} outbound rules for '${qube}': qubesd fails somewhere past ${MAX_FIREWALL_RULES} (Qubes issue #4228)`,
        {
          hint: nft
            ? "merge rules into networks or port ranges"
            : "merge rules into networks or port ranges; on Qubes R4.2 and R4.3 qwire moves the rules past the limit into the netvm",
        },
      );
      good = false;
    }
    if (!good) return undefined;
    return { qube: name.value, policy, rules, path };
  }

  expectation(raw: unknown, path: YamlPath): ExpectSpec | undefined {
    if (!isObj(raw) || typeof raw.from !== "string") return undefined;
    let from: ExpectSpec["from"] | undefined;
    if (raw.from.startsWith("outside:")) {
      const address = this.take("QW2005", [...path, "from"], parseIpv4(raw.from.slice("outside:".length)), "write 'outside:' and an IPv4 address, e.g. outside:192.168.1.50");
      if (address !== undefined) from = { kind: "outside", address };
    } else {
      const qube = this.take("QW2003", [...path, "from"], parseQubeName(raw.from));
      if (qube !== undefined) from = { kind: "qube", qube };
    }
    const to = raw.to === undefined ? undefined : this.take("QW2003", [...path, "to"], parseQubeName(raw.to));
    const port = raw.port === undefined ? undefined : this.take("QW2004", [...path, "port"], parsePortRange(raw.port));
    if (port && port.first !== port.last) {
      this.diag.error("QW2004", this.doc.positions.value([...path, "port"]), "an expectation checks one port, not a range");
      return undefined;
    }
    if (!from || !to || !port || (raw.result !== "open" && raw.result !== "closed")) return undefined;
    return { from, to, port: port.first, proto: raw.proto === "udp" ? "udp" : "tcp", result: raw.result, path };
  }

  uniqueNames(intents: readonly (ForwardSpec | LinkSpec)[]): void {
    const seen = new Map<string, ForwardSpec | LinkSpec>();
    for (const it of intents) {
      const first = seen.get(it.name);
      if (first === undefined) {
        seen.set(it.name, it);
        continue;
      }
      this.diag.error("QW3012", this.doc.positions.value(it.path), `two intents are named '${it.name}'`, {
        notes: [{ message: "the first one is here", span: this.doc.positions.value(first.path) }],
        hint: "give one of them a 'name:' of its own",
      });
    }
  }
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function fits(port: PortRange, external: PortRange): boolean {
  if (port.first === port.last) return external.first === external.last;
  return external.first === port.first && external.last === port.last;
}

/** Sorted, overlapping and adjacent ranges joined: the nft sets need disjoint intervals. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.first <= last.last + 1) out[out.length - 1] = { first: last.first, last: Math.max(last.last, r.last) };
    else out.push(r);
  }
  return out;
}

function compareCidr(a: string, b: string): number {
  const key = (t: string) => {
    const [addr = "", len = "0"] = t.split("/");
    return addr.split(".").reduce((acc, o) => acc * 256 + Number(o), 0) * 64 + Number(len);
  };
  return key(a) - key(b);
}
