/**
 * `qwire explain`: follows one packet through the Qubes network qwire.yaml
 * describes, hop by hop, and names the rule that decides at each hop (a
 * qwire intent, or the Qubes base rule that applies when none does). Its
 * verdict must agree with `qwire simulate`; test/explain.test.ts and the
 * simulate tests check that on every derived flow of every recipe and golden.
 *
 * The kinds of packets: from outside on an entry qube's interface (forwards),
 * qube to qube over IP (links), qube to qube over qrexec (qubes.ConnectTCP,
 * the qwire socket on 127.0.0.1 or a direct call), qube to the internet
 * (outbound policy, checked in each netvm on the way up).
 */
import type { Topology } from "../topology/index.js";
import { linkDirections } from "../topology/index.js";
import { AUTO_UPLINK, type FirewallRule, type PortRange, type Proto, type QubeName } from "../validate/index.js";
import { interfaceWords } from "../render/words.js";
import { formatPortRange } from "../validate/values.js";
import { contains, parseCidr } from "../simulate/model/ipv4.js";
import { contains6, parseCidr6 } from "../simulate/model/ipv6.js";
import type { Dial, Source } from "../simulate/flows/flow.js";
import { ruleWords, type RuleWords } from "./base-rules.js";
import type { Explanation, Hop } from "./explanation.js";

export function explainFlow(
  topology: Topology,
  from: Source,
  dial: Dial,
  proto: Proto,
  port: number,
  target?: QubeName,
): Explanation {
  const w = ruleWords(topology.spec.release);
  if (from.kind === "outside" && dial.kind === "lan")
    return fromOutside(topology, w, from.address, dial.lan, proto, port, target);
  if (from.kind === "qube" && dial.kind === "qube")
    return qubeToQube(topology, w, from.qube, dial.qube, dial.ipv6 === true, proto, port);
  if (from.kind === "qube" && (dial.kind === "loopback" || dial.kind === "qrexec"))
    return overQrexec(topology, from.qube, dial.kind, proto, port, target);
  if (from.kind === "qube" && dial.kind === "internet")
    return toInternet(topology, w, from.qube, dial.address, proto, port);
  return closed(
    [
      {
        at: from.kind === "qube" ? from.qube : `outside ${from.address}`,
        rule: "this kind of packet is not modelled",
        passes: false,
      },
    ],
    proto,
    port,
    [],
  );
}

function closed(hops: Hop[], proto: Proto, port: number, opener: readonly string[]): Explanation {
  const drop = hops.find((h) => !h.passes);
  return { hops, open: false, proto, port, ...(drop ? { droppedAt: drop.at } : {}), opener };
}

function inRange(r: PortRange, port: number): boolean {
  return r.first <= port && port <= r.last;
}

function fromOutside(
  topology: Topology,
  w: RuleWords,
  address: string,
  lan: { qube: QubeName; iface: string },
  proto: Proto,
  port: number,
  target?: QubeName,
): Explanation {
  const v6 = address.includes(":");
  const hops: Hop[] = [
    {
      at: `outside ${address}`,
      rule: `sends ${proto}/${port} to ${lan.qube}'s address on ${interfaceWords(lan.iface)}`,
      passes: true,
    },
  ];
  const inFrom = (r: (typeof topology.forwards)[number]) =>
    v6
      ? r.forward.from6.some((c) => contains6(parseCidr6(c.text), address))
      : r.forward.from.some((c) => contains(parseCidr(c.text), address));
  const here = topology.forwards.filter(
    (r) =>
      r.entry === lan.qube &&
      r.interfaces.includes(lan.iface as never) &&
      r.forward.proto === proto &&
      inRange(r.forward.externalPort, port),
  );
  const route = here.find(inFrom);
  if (!route) {
    const near = here[0];
    const why = near
      ? `forward ${near.forward.name} takes ${proto}/${formatPortRange(near.forward.externalPort)} only from ${[...near.forward.from, ...near.forward.from6].map((c) => c.text).join(", ")}`
      : `no forward takes ${proto}/${port} on ${lan.qube}:${lan.iface}`;
    hops.push({
      at: lan.qube,
      rule: `${w.dnat}: ${why}, so nothing translates the destination and the packet is for ${lan.qube} itself; ${w.inputPolicy}`,
      passes: false,
    });
    const host = v6 ? `${address}/128` : `${address}/32`;
    const opener = near
      ? [`add ${host} (or its network) to 'from' of forward ${near.forward.name}`]
      : target === undefined
        ? []
        : [
            "forwards:",
            `  - { to: ${target}, port: ${port}${proto === "udp" ? ", proto: udp" : ""}, from: [${host}]${entryPart(topology, target, lan)} }`,
          ];
    return closed(hops, proto, port, opener);
  }
  const f = route.forward;
  const serverPort = port - f.externalPort.first + f.port.first;
  route.hops.forEach((q, i) => {
    const next = route.hops[i + 1];
    const arrival = i === 0 ? `on ${interfaceWords(lan.iface)}` : w.fromUplink;
    if (next === undefined) {
      hops.push({
        at: q,
        rule: `${w.input}: forward ${f.name} accepts ${proto}/${serverPort} from ${address}`,
        passes: true,
      });
      return;
    }
    const last = i === route.hops.length - 2;
    const to = last && serverPort !== port ? `${next}:${serverPort}` : next;
    hops.push({
      at: q,
      rule: `${w.dnat}: forward ${f.name} (${proto}/${formatPortRange(f.externalPort)} ${arrival}) sends it to ${to}; ${w.forward} accepts it into ${next}'s vif`,
      passes: true,
    });
  });
  return { hops, open: true, by: `forward ${f.name}`, reaches: f.to, serverPort, proto, port };
}

/** `entry:`/`interface:` in a suggested forward, when the client's network is not the default one. */
function entryPart(topology: Topology, target: QubeName, lan: { qube: QubeName; iface: string }): string {
  const up = topology.graph.upstream(target);
  const top = topology.graph.get(up[up.length - 1]!);
  if (top && top.name === lan.qube && top.uplinks[0] === lan.iface) return "";
  // 'auto' is no interface name: a forward entering there arrives on the entry's own uplink: auto.
  return lan.iface === AUTO_UPLINK ? `, entry: ${lan.qube}` : `, entry: ${lan.qube}, interface: ${lan.iface}`;
}

function qubeToQube(
  topology: Topology,
  w: RuleWords,
  a: QubeName,
  b: QubeName,
  v6: boolean,
  proto: Proto,
  port: number,
): Explanation {
  const g = topology.graph;
  const qa = g.get(a)!;
  const qb = g.get(b)!;
  const hops: Hop[] = [];
  const qrexec = ["links:", `  - { from: ${a}, to: ${b}, via: qrexec, ports: [${port}] }`];
  const upA = g.upstream(a);
  const upB = g.upstream(b);
  if (qa.netvm === undefined && !upB.includes(a)) {
    hops.push({ at: a, rule: `${a} has no netvm and ${b} is not behind it: no IP route between them`, passes: false });
    return closed(hops, proto, port, proto === "tcp" ? qrexec : [`${a} needs a netvm`]);
  }
  if (qb.netvm === undefined && !qb.providesNetwork) {
    hops.push({ at: a, rule: `${b} has no netvm, so it has no address to reach`, passes: false });
    return closed(hops, proto, port, proto === "tcp" ? qrexec : [`${b} needs a netvm`]);
  }
  if (v6 && !(qa.ipv6 && qb.ipv6)) {
    hops.push({ at: a, rule: `${qa.ipv6 ? b : a} has no IPv6 (ipv6: true)`, passes: false });
    return closed(hops, proto, port, [`add 'ipv6: true' to ${qa.ipv6 ? b : a} and its netvm chain`]);
  }
  const fw = g.firewall(a);
  hops.push({ at: a, rule: `sends ${proto}/${port} to ${b}'s ${v6 ? "IPv6 " : ""}address`, passes: true });
  const link = topology.links.find(
    ({ link: l }) =>
      linkDirections(l).some(([x, y]) => x === a && y === b) &&
      (l.traffic === "all" || (l.traffic.protos.includes(proto) && l.traffic.ports.some((r) => inRange(r, port)))),
  );
  const outboundAt = (q: QubeName) =>
    q === qa.netvm && fw ? `${w.outbound}: ${a}'s outbound policy (${fw.policy}) is checked here; ` : "";

  if (upA.includes(b)) {
    // Upward to one of a's own netvms: it may not be contacted from below.
    for (const q of upA.slice(1, upA.indexOf(b)))
      hops.push({ at: q, rule: `${outboundAt(q)}${w.upward}`, passes: true });
    hops.push({ at: b, rule: `${b} is above ${a} in the netvm chain: ${w.inputFromVif}`, passes: false });
    return closed(hops, proto, port, [
      `no intent opens a net qube to the qubes behind it; serve ${port} from a qube behind ${b}`,
    ]);
  }
  // Where the path turns downward: `a` itself when `b` is below it, else the first netvm of `a` that `b` is behind.
  const turn = upB.includes(a) ? a : upA.slice(1).find((q) => upB.includes(q));
  if (turn === undefined) {
    const top = upA[upA.length - 1]!;
    for (const q of upA.slice(1)) hops.push({ at: q, rule: `${outboundAt(q)}${w.upward}`, passes: true });
    hops.push({
      at: top,
      rule: `${b} is not behind ${top}: the packet leaves through ${top}'s uplink and never reaches ${b}`,
      passes: false,
    });
    return closed(hops, proto, port, proto === "tcp" ? qrexec : []);
  }
  for (const q of upA.slice(1, upA.indexOf(turn)))
    hops.push({ at: q, rule: `${outboundAt(q)}${w.upward}`, passes: true });
  const down = upB.slice(0, upB.indexOf(turn)).reverse();
  if (turn !== a) {
    if (link && link.firewall === turn && down.length === 1) {
      const accept =
        fw?.policy === "drop"
          ? `${w.outbound}: ${a}'s outbound list starts with qwire's accept for link ${link.link.name} (Qubes #3644); `
          : "";
      hops.push({
        at: turn,
        rule: `${accept}${w.forward}: link ${link.link.name} accepts ${proto}/${port} from ${a} to ${b}`,
        passes: true,
      });
    } else {
      hops.push({ at: turn, rule: `${outboundAt(turn)}${w.intoVif}`, passes: false });
      return closed(hops, proto, port, linkOpener(topology, a, b, proto, port));
    }
  }
  const between = down.slice(0, -1);
  if (between.length > 0) {
    hops.push({ at: between[0]!, rule: w.intoVif, passes: false });
    return closed(hops, proto, port, linkOpener(topology, a, b, proto, port));
  }
  if (link && turn !== a) {
    hops.push({ at: b, rule: `${w.input}: link ${link.link.name} accepts ${proto}/${port} from ${a}`, passes: true });
    return { hops, open: true, by: `link ${link.link.name}`, reaches: b, serverPort: port, proto, port };
  }
  hops.push({ at: b, rule: w.inputPolicy, passes: false });
  return closed(hops, proto, port, linkOpener(topology, a, b, proto, port));
}

function linkOpener(topology: Topology, a: QubeName, b: QubeName, proto: Proto, port: number): string[] {
  const qa = topology.graph.get(a)!;
  const qb = topology.graph.get(b)!;
  const protoPart = proto === "udp" ? ", proto: udp" : "";
  if (qa.netvm !== undefined && qa.netvm === qb.netvm)
    return ["links:", `  - { from: ${a}, to: ${b}, ports: [${port}]${protoPart} }`];
  if (proto === "tcp")
    return [
      "links:",
      `  - { from: ${a}, to: ${b}, via: qrexec, ports: [${port}] }   # ${a} and ${b} do not share a netvm`,
    ];
  return [`a network link needs ${a} and ${b} behind one firewall qube (give them the same netvm)`];
}

function overQrexec(
  topology: Topology,
  a: QubeName,
  kind: "loopback" | "qrexec",
  proto: Proto,
  port: number,
  target?: QubeName,
): Explanation {
  const hops: Hop[] = [];
  const opener = (p: number) =>
    target === undefined ? [] : ["links:", `  - { from: ${a}, to: ${target}, via: qrexec, ports: [${p}] }`];
  if (proto !== "tcp") {
    hops.push({ at: a, rule: `qubes.ConnectTCP carries TCP only, not ${proto}`, passes: false });
    return closed(hops, proto, port, []);
  }
  for (const link of topology.qrexecLinks) {
    for (const [x, y] of linkDirections(link)) {
      if (x !== a) continue;
      const hit = link.ports.find((p) => (kind === "loopback" ? p.localPort : p.port) === port);
      if (!hit) continue;
      hops.push({
        at: a,
        rule:
          kind === "loopback"
            ? `qwire's socket on 127.0.0.1:${hit.localPort} (qrexec link ${link.name}) runs qrexec-client-vm @default qubes.ConnectTCP+${hit.port}`
            : `qrexec-client-vm @default qubes.ConnectTCP+${hit.port} (qwire's socket on 127.0.0.1:${hit.localPort} makes the same call)`,
        passes: true,
      });
      hops.push({
        at: "dom0",
        rule: `/etc/qubes/policy.d/30-qwire.policy: qubes.ConnectTCP +${hit.port} ${a} @default allow target=${y} (qrexec link ${link.name})`,
        passes: true,
      });
      hops.push({ at: y, rule: `qubes.ConnectTCP connects to 127.0.0.1:${hit.port}`, passes: true });
      return { hops, open: true, by: `qrexec link ${link.name}`, reaches: y, serverPort: hit.port, proto, port };
    }
  }
  if (kind === "loopback") {
    hops.push({
      at: a,
      rule: `no qrexec link of ${a} listens on 127.0.0.1:${port} (nothing of qwire's answers there)`,
      passes: false,
    });
    return closed(
      hops,
      proto,
      port,
      target === undefined
        ? []
        : ["links:", `  - { from: ${a}, to: ${target}, via: qrexec, ports: [PORT], local_port: ${port} }`],
    );
  }
  hops.push({ at: a, rule: `qrexec-client-vm @default qubes.ConnectTCP+${port}`, passes: true });
  hops.push({
    at: "dom0",
    rule: `no line of 30-qwire.policy allows qubes.ConnectTCP +${port} from ${a}; Qubes' default policy denies it`,
    passes: false,
  });
  return closed(hops, proto, port, opener(port));
}

function toInternet(
  topology: Topology,
  w: RuleWords,
  a: QubeName,
  address: string,
  proto: Proto,
  port: number,
): Explanation {
  const g = topology.graph;
  const hops: Hop[] = [];
  if (g.get(a)?.netvm === undefined) {
    hops.push({ at: a, rule: `${a} has no netvm: nothing leaves it over IP`, passes: false });
    return closed(hops, proto, port, [`give ${a} a netvm`]);
  }
  hops.push({ at: a, rule: `sends ${proto}/${port} to ${address}`, passes: true });
  const up = g.upstream(a);
  // Each qube's traffic (its own, and its downstream qubes' masqueraded behind it) meets its own list in its netvm.
  for (const q of up.filter((n) => g.get(n)?.netvm !== undefined)) {
    const netvm = g.get(q)!.netvm!;
    const fw = g.firewall(q);
    const masq = q === a ? "" : ` (${a}'s traffic leaves ${q} masqueraded as ${q})`;
    if (!fw) {
      hops.push({
        at: netvm,
        rule: `${w.outbound}: ${q} has no outbound policy in qwire.yaml${masq}; ${w.upward}`,
        passes: true,
      });
      continue;
    }
    const i = fw.rules.findIndex((r) => matches(r, address, proto, port));
    const action = i === -1 ? fw.policy : fw.rules[i]!.action;
    const rule = i === -1 ? `no rule matches, policy ${fw.policy}` : `rule ${i + 1} (${describeRule(fw.rules[i]!)})`;
    hops.push({
      at: netvm,
      rule: `${w.outbound}: ${q}'s outbound policy, ${rule}${masq}`,
      passes: action === "accept",
    });
    if (action === "drop") {
      const accept = `accept dsthost=${address}/32 proto=${proto} dstports=${port}`;
      return closed(hops, proto, port, [
        "firewall:",
        `  ${q}:`,
        "    rules:",
        `      - ${accept}${i === -1 ? "" : `   # before rule ${i + 1}`}`,
      ]);
    }
  }
  const top = g.get(up[up.length - 1]!)!;
  hops.push({
    at: top.name,
    rule: `masquerades it out of ${top.uplinks[0] === undefined ? "its uplink" : interfaceWords(top.uplinks[0])}`,
    passes: true,
  });
  return {
    hops,
    open: true,
    by: g.firewall(a) ? `firewall ${a}` : "no outbound policy",
    reaches: "the internet",
    serverPort: port,
    proto,
    port,
  };
}

/** qvm-firewall's first-match test for an IPv4 address; names resolve only at apply time, so they never match here. */
function matches(r: FirewallRule, address: string, proto: Proto, port: number): boolean {
  if (r.specialtarget) return false;
  if (r.dsthost && (r.dsthost.kind !== "4" || !contains(parseCidr(r.dsthost.text), address))) return false;
  if (r.proto !== undefined && r.proto !== proto) return false;
  return r.dstports === undefined || inRange(r.dstports, port);
}

function describeRule(r: FirewallRule): string {
  return [
    r.action,
    r.dsthost ? `dsthost=${r.dsthost.text}` : "",
    r.proto ? `proto=${r.proto}` : "",
    r.dstports ? `dstports=${formatPortRange(r.dstports)}` : "",
  ]
    .filter(Boolean)
    .join(" ");
}
