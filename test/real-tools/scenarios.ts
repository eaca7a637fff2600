/**
 * The qwire.yaml files the real-tools tests compile, the addresses a stub
 * dom0 gives their qubes, and how to stand one of their qubes up in a
 * network namespace (Qubes base tables, downstream qubes attached).
 */
import yaml from "js-yaml";
import { compileOk } from "../helpers/compile.js";
import { loadQubesBase, type Attached, type NetnsPool } from "../helpers/netns.js";
import { addressesFile, scriptsOf, type QubeScript } from "../helpers/tools.js";
import type { Artifact } from "../../src/render/artifact.js";
import type { Plan } from "../../src/plan/index.js";

/** What `qvm-prefs -- <qube> ip` answers in the stub dom0. */
export const STUB_IPS: Readonly<Record<string, string>> = {
  "sys-net": "10.137.0.5",
  "sys-firewall": "10.137.0.6",
  "sys-inner": "10.137.0.7",
  web: "10.137.0.20",
  db: "10.137.0.21",
  game: "10.137.0.22",
  work: "10.137.0.30",
  dev: "10.137.0.31",
  // Pinned in PINNED_DOTTED; dom0 reports the pinned address.
  "dev.box": "10.137.0.40",
};

export interface Scenario {
  readonly name: string;
  readonly yaml: string;
  /**
   * Per script (by qube stem), per block of `nft list table ip qubes`
   * ("chain qwire-dnat", "set qwire-link-all", ...): lines it must hold once
   * the script ran with every address known. Written by hand from the
   * intent, in nft's listing syntax, with the STUB_IPS addresses.
   */
  readonly expect: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

const NET = `  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
`;

const DNAT = "chain qwire-dnat";
const FORWARD = "chain qwire-forward";
const INPUT = "chain qwire-input";
/** The maps and sets of forwards arriving on the first (here: the only) interface, and of forwards ending in the qube. */
const DNAT_MAP = "map qwire-dnat-1";
const DNAT_PORT_MAP = "map qwire-dnat-port-1";
const ACCEPTS = "set qwire-fwd-1";
const ENDS_HERE = "set qwire-fin-1";

/** The rules of a net qube forwarding what arrives with `arrival` through its maps (keeping the port, or translating it). */
const hopRules = (arrival: string, translates = false) => ({
  [DNAT]: [
    translates
      ? `${arrival} meta l4proto { tcp, udp } dnat ip to ip saddr . meta l4proto . th dport map @qwire-dnat-port-1`
      : `${arrival} dnat to ip saddr . meta l4proto . th dport map @qwire-dnat-1`,
  ],
  [FORWARD]: [`ct state new ${arrival} ip saddr . ip daddr . meta l4proto . th dport @qwire-fwd-1 accept`],
});
/** The rule of a forward's target accepting what arrives on its uplink. */
const endRules = { [INPUT]: ["ct state new iifgroup 1 ip saddr . meta l4proto . th dport @qwire-fin-1 accept"] };

export const LAN_WEB: Scenario = {
  name: "LAN to web:443 through sys-net (ens6) and sys-firewall",
  yaml: `version: 1
qubes:
${NET}  web: { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
`,
  expect: {
    "sys-net": {
      ...hopRules('iifname "ens6"'),
      [DNAT_MAP]: ['elements = { 192.168.1.0/24 . tcp . 443 comment "web-https" : 10.137.0.6 }'],
      [ACCEPTS]: ['elements = { 192.168.1.0/24 . 10.137.0.6 . tcp . 443 comment "web-https" }'],
    },
    "sys-firewall": {
      ...hopRules("iifgroup 1"),
      [DNAT_MAP]: ['elements = { 192.168.1.0/24 . tcp . 443 comment "web-https" : 10.137.0.20 }'],
      [ACCEPTS]: ['elements = { 192.168.1.0/24 . 10.137.0.20 . tcp . 443 comment "web-https" }'],
    },
    web: { ...endRules, [ENDS_HERE]: ['elements = { 192.168.1.0/24 . tcp . 443 comment "web-https" }'] },
  },
};

export const CHAIN_8443: Scenario = {
  name: "3-hop chain sys-net -> sys-firewall -> sys-inner -> web, outside port 8443 to 443",
  yaml: `version: 1
qubes:
${NET}  sys-inner: { netvm: sys-firewall, provides_network: true }
  web: { netvm: sys-inner }
forwards:
  - { name: web-alt, to: web, port: 443, external_port: 8443, from: [192.168.1.0/24, 10.0.0.0/8] }
`,
  expect: {
    "sys-net": {
      ...hopRules('iifname "ens6"'),
      [DNAT_MAP]: [
        '10.0.0.0/8 . tcp . 8443 comment "web-alt" : 10.137.0.6',
        '192.168.1.0/24 . tcp . 8443 comment "web-alt" : 10.137.0.6',
      ],
      [ACCEPTS]: [
        '10.0.0.0/8 . 10.137.0.6 . tcp . 8443 comment "web-alt"',
        '192.168.1.0/24 . 10.137.0.6 . tcp . 8443 comment "web-alt"',
      ],
    },
    "sys-firewall": {
      ...hopRules("iifgroup 1"),
      [DNAT_MAP]: [
        '10.0.0.0/8 . tcp . 8443 comment "web-alt" : 10.137.0.7',
        '192.168.1.0/24 . tcp . 8443 comment "web-alt" : 10.137.0.7',
      ],
      [ACCEPTS]: [
        '10.0.0.0/8 . 10.137.0.7 . tcp . 8443 comment "web-alt"',
        '192.168.1.0/24 . 10.137.0.7 . tcp . 8443 comment "web-alt"',
      ],
    },
    // The port is translated once, at the last hop: web sees 443.
    "sys-inner": {
      ...hopRules("iifgroup 1", true),
      [DNAT_PORT_MAP]: [
        '10.0.0.0/8 . tcp . 8443 comment "web-alt" : 10.137.0.20 . 443',
        '192.168.1.0/24 . tcp . 8443 comment "web-alt" : 10.137.0.20 . 443',
      ],
      [ACCEPTS]: [
        '10.0.0.0/8 . 10.137.0.20 . tcp . 443 comment "web-alt"',
        '192.168.1.0/24 . 10.137.0.20 . tcp . 443 comment "web-alt"',
      ],
    },
    web: {
      ...endRules,
      [ENDS_HERE]: ['10.0.0.0/8 . tcp . 443 comment "web-alt"', '192.168.1.0/24 . tcp . 443 comment "web-alt"'],
    },
  },
};

export const UDP_RANGE: Scenario = {
  name: "UDP forward of a port range (mosh) to game",
  yaml: `version: 1
qubes:
${NET}  game: { netvm: sys-firewall }
forwards:
  - { name: mosh, to: game, port: "60000-60010", proto: udp, from: [192.168.1.0/24] }
`,
  expect: {
    "sys-net": {
      ...hopRules('iifname "ens6"'),
      [DNAT_MAP]: ['elements = { 192.168.1.0/24 . udp . 60000-60010 comment "mosh" : 10.137.0.6 }'],
      [ACCEPTS]: ['elements = { 192.168.1.0/24 . 10.137.0.6 . udp . 60000-60010 comment "mosh" }'],
    },
    "sys-firewall": {
      ...hopRules("iifgroup 1"),
      [DNAT_MAP]: ['elements = { 192.168.1.0/24 . udp . 60000-60010 comment "mosh" : 10.137.0.22 }'],
      [ACCEPTS]: ['elements = { 192.168.1.0/24 . 10.137.0.22 . udp . 60000-60010 comment "mosh" }'],
    },
    game: { ...endRules, [ENDS_HERE]: ['elements = { 192.168.1.0/24 . udp . 60000-60010 comment "mosh" }'] },
  },
};

export const LINK_SSH: Scenario = {
  name: "link work -> dev, tcp 22",
  yaml: `version: 1
qubes:
${NET}  work: { netvm: sys-firewall }
  dev: { netvm: sys-firewall }
links:
  - { from: work, to: dev, ports: [22] }
`,
  expect: {
    "sys-firewall": { "set qwire-link-ports": ["elements = { 10.137.0.30 . 10.137.0.31 . tcp . 22 }"] },
    dev: { "set qwire-in-ports": ["elements = { 10.137.0.30 . tcp . 22 }"] },
  },
};

export const LINK_ALL_BOTH_WAYS: Scenario = {
  name: "link work <-> dev, all traffic, both ways",
  yaml: `version: 1
qubes:
${NET}  work: { netvm: sys-firewall }
  dev: { netvm: sys-firewall }
links:
  - { from: work, to: dev, both_ways: true }
`,
  expect: {
    "sys-firewall": { "set qwire-link-all": ["10.137.0.30 . 10.137.0.31", "10.137.0.31 . 10.137.0.30"] },
    dev: { "set qwire-in-all": ["elements = { 10.137.0.30 }"] },
    work: { "set qwire-in-all": ["elements = { 10.137.0.31 }"] },
  },
};

export const TWO_FORWARDS: Scenario = {
  name: "two forwards to two qubes sharing sys-firewall",
  yaml: `version: 1
qubes:
${NET}  web: { netvm: sys-firewall }
  db: { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
  - { name: db-pg, to: db, port: 5432, from: [192.168.1.10/32] }
`,
  expect: {
    "sys-net": {
      ...hopRules('iifname "ens6"'),
      [DNAT_MAP]: [
        '192.168.1.0/24 . tcp . 443 comment "web-https" : 10.137.0.6',
        '192.168.1.10 . tcp . 5432 comment "db-pg" : 10.137.0.6',
      ],
      [ACCEPTS]: [
        '192.168.1.0/24 . 10.137.0.6 . tcp . 443 comment "web-https"',
        '192.168.1.10 . 10.137.0.6 . tcp . 5432 comment "db-pg"',
      ],
    },
    "sys-firewall": {
      ...hopRules("iifgroup 1"),
      [DNAT_MAP]: [
        '192.168.1.0/24 . tcp . 443 comment "web-https" : 10.137.0.20',
        '192.168.1.10 . tcp . 5432 comment "db-pg" : 10.137.0.21',
      ],
      [ACCEPTS]: [
        '192.168.1.0/24 . 10.137.0.20 . tcp . 443 comment "web-https"',
        '192.168.1.10 . 10.137.0.21 . tcp . 5432 comment "db-pg"',
      ],
    },
    web: { ...endRules, [ENDS_HERE]: ['elements = { 192.168.1.0/24 . tcp . 443 comment "web-https" }'] },
    db: { ...endRules, [ENDS_HERE]: ['elements = { 192.168.1.10 . tcp . 5432 comment "db-pg" }'] },
  },
};

/**
 * The next version of TWO_FORWARDS' qwire.yaml: the db forward was deleted
 * (db stays declared), and what the previous plan.json listed, for teardowns.
 */
export const TWO_FORWARDS_V2_YAML = TWO_FORWARDS.yaml.replace(/^ {2}- \{ name: db-pg.*\n/m, "");
export const TWO_FORWARDS_QUBES = ["db", "sys-firewall", "sys-net", "web"] as const;

/**
 * A pinned address and a qube name with a '.', whose Salt file names use
 * '_' (the stem). Not in SCENARIOS: its bundle holds an IP by design.
 */
export const PINNED_DOTTED: Scenario = {
  name: "link work <-> dev.box (pinned at 10.137.0.40), tcp 22",
  yaml: `version: 1
qubes:
${NET}  work: { netvm: sys-firewall }
  dev.box: { netvm: sys-firewall, ip: 10.137.0.40 }
links:
  - { from: work, to: dev.box, ports: [22], both_ways: true }
`,
  expect: {
    "sys-firewall": {
      "set qwire-link-ports": ["10.137.0.30 . 10.137.0.40 . tcp . 22", "10.137.0.40 . 10.137.0.30 . tcp . 22"],
    },
    dev_box: { "set qwire-in-ports": ["elements = { 10.137.0.30 . tcp . 22 }"] },
    work: { "set qwire-in-ports": ["elements = { 10.137.0.40 . tcp . 22 }"] },
  },
};

export const SCENARIOS: readonly Scenario[] = [
  LAN_WEB,
  CHAIN_8443,
  UDP_RANGE,
  LINK_SSH,
  LINK_ALL_BOTH_WAYS,
  TWO_FORWARDS,
];

export interface Built {
  readonly artifacts: readonly Artifact[];
  readonly plan: Plan;
  readonly scripts: readonly QubeScript[];
}

export function build(yamlText: string): Built {
  const r = compileOk(yamlText);
  return { artifacts: r.artifacts, plan: r.plan, scripts: scriptsOf(r.artifacts) };
}

/** Qube name of a script's stem (they differ only for names with a '.'). */
export function qubeOf(built: Built, stem: string): string {
  const q = built.plan.qubes.find((p) => p.stem === stem);
  if (!q) throw new Error(`no qube with stem ${stem} in the plan`);
  return q.qube;
}

/** The addresses file qubesctl would write for this qube, from STUB_IPS (only the qubes its script needs). */
export function stubAddresses(built: Built, stem: string, ips: Readonly<Record<string, string>> = STUB_IPS): string {
  const q = built.plan.qubes.find((p) => p.stem === stem);
  if (!q) throw new Error(`no qube with stem ${stem} in the plan`);
  const entries: Record<string, string> = {};
  for (const name of q.addresses) {
    const ip = ips[name];
    if (ip === undefined) throw new Error(`no stub address for ${name}`);
    entries[name] = ip;
  }
  return addressesFile(entries);
}

/** The qubes whose netvm is `qube` in the scenario, attached on vif<10+i>.0 with their stub address. */
function downstreamOf(yamlText: string, qube: string): Attached[] {
  const doc = yaml.load(yamlText) as { qubes: Record<string, { netvm?: string }> };
  return Object.entries(doc.qubes)
    .filter(([, q]) => q.netvm === qube)
    .map(([name], i) => {
      const address = STUB_IPS[name];
      if (address === undefined) throw new Error(`no stub address for ${name}: add it to STUB_IPS`);
      return { vif: `vif${10 + i}.0`, address };
    });
}

/**
 * A new namespace shaped like the qube of `script` before qwire ran: the
 * Qubes base tables, its downstream qubes attached, qubes-firewall in net qubes.
 */
export async function standUpQube(
  pool: NetnsPool,
  built: Built,
  yamlText: string,
  script: QubeScript,
): Promise<string> {
  const ns = await pool.create();
  const downstream = downstreamOf(yamlText, qubeOf(built, script.stem));
  await loadQubesBase(ns, { netQube: script.placement === "qubes-firewall.d", downstream });
  return ns;
}
