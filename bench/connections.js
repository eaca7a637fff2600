// New TCP connections per second through a net qube holding N rules, once
// with qwire's script (maps and sets), once with the same rules as one nft
// rule (pair) each (the manual way's shape, and what qwire wrote before),
// measured back to back.
// - forwards: a LAN namespace connects to the last forward's port on
//   sys-net, which DNATs it to the namespace behind it (sys-firewall), which
//   accepts and closes;
// - links: the first qube of the last link connects through sys-firewall to
//   the second (tcp 22), which accepts and closes.
// Linux, root, python3.
import { execFileSync, spawnSync } from "node:child_process";
import { downstreamElements, qubesFirewallTable, qubesTable } from "../dist/simulate/model/qubes-tables.js";
import { appIp, bootOnce, lastLink, manualCommands, qwireScript } from "./load.js";

const SERVER = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4096)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.close()
`;

// Connects and resets (SO_LINGER 0: no TIME_WAIT to run out of ports) for a
// fixed time; prints the number of connections established.
const CLIENT = `
import socket, struct, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
n = 0; end = time.monotonic() + seconds
while time.monotonic() < end:
    c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.settimeout(2)
    c.connect((host, port)); c.close(); n += 1
print(n / seconds)
`;

let serial = 0;
const sh = (ns, args, input) =>
  execFileSync("ip", ["netns", "exec", ns, ...args], input === undefined ? {} : { input });

/** lan -> sys-net (ens6, 192.168.0.1/16) -> sys-firewall (10.137.0.6 on sys-net's vif10.0). */
function forwardsNetwork() {
  const id = `${process.pid}-${serial++}`;
  const ns = { lan: `qwc-lan-${id}`, net: `qwc-net-${id}`, fw: `qwc-fw-${id}` };
  for (const n of Object.values(ns)) execFileSync("ip", ["netns", "add", n]);
  const ip = (args) => execFileSync("ip", args);
  ip(["link", "add", "lan0", "netns", ns.lan, "type", "veth", "peer", "name", "ens6", "netns", ns.net]);
  ip(["link", "add", "eth0", "netns", ns.fw, "type", "veth", "peer", "name", "vif10.0", "netns", ns.net]);
  sh(ns.net, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  sh(ns.net, ["ip", "addr", "add", "192.168.0.1/16", "dev", "ens6"]);
  sh(ns.net, ["ip", "link", "set", "ens6", "group", "1", "up"]);
  sh(ns.net, ["ip", "addr", "add", "10.137.0.5/32", "dev", "vif10.0"]);
  sh(ns.net, ["ip", "link", "set", "vif10.0", "group", "2", "up"]);
  sh(ns.net, ["ip", "route", "add", "10.137.0.6/32", "dev", "vif10.0"]);
  sh(ns.fw, ["ip", "addr", "add", "10.137.0.6/32", "dev", "eth0"]);
  sh(ns.fw, ["ip", "link", "set", "eth0", "up"]);
  sh(ns.fw, ["ip", "link", "set", "lo", "up"]);
  sh(ns.fw, ["ip", "route", "add", "10.137.0.5/32", "dev", "eth0"]);
  sh(ns.fw, ["ip", "route", "add", "default", "via", "10.137.0.5"]);
  sh(
    ns.net,
    ["nft", "-f", "-"],
    qubesTable() + downstreamElements("vif10.0", "10.137.0.6") + qubesFirewallTable("4.2", [{ address: "10.137.0.6" }]),
  );
  return { ns, rules: ns.net, client: ns.lan, server: ns.fw };
}

/**
 * Two app qubes behind sys-firewall (10.137.0.6 towards both, as Qubes
 * does): the client holds the first address of the last link, the server
 * the second; qubes-firewall lets both out (an empty qvm-firewall list).
 */
function linksNetwork(n) {
  const id = `${process.pid}-${serial++}`;
  const ns = { a: `qwc-a-${id}`, fw: `qwc-sfw-${id}`, b: `qwc-b-${id}` };
  for (const x of Object.values(ns)) execFileSync("ip", ["netns", "add", x]);
  const { from, to } = lastLink(n);
  const ends = [
    [ns.a, "vif11.0", appIp(from)],
    [ns.b, "vif12.0", appIp(to)],
  ];
  sh(ns.fw, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  for (const [app, vif, address] of ends) {
    execFileSync("ip", ["link", "add", "eth0", "netns", app, "type", "veth", "peer", "name", vif, "netns", ns.fw]);
    sh(ns.fw, ["ip", "addr", "add", "10.137.0.6/32", "dev", vif]);
    sh(ns.fw, ["ip", "link", "set", vif, "group", "2", "up"]);
    sh(ns.fw, ["ip", "route", "add", `${address}/32`, "dev", vif]);
    sh(app, ["ip", "addr", "add", `${address}/32`, "dev", "eth0"]);
    sh(app, ["ip", "link", "set", "eth0", "up"]);
    sh(app, ["ip", "link", "set", "lo", "up"]);
    sh(app, ["ip", "route", "add", "10.137.0.6/32", "dev", "eth0"]);
    sh(app, ["ip", "route", "add", "default", "via", "10.137.0.6"]);
  }
  sh(
    ns.fw,
    ["nft", "-f", "-"],
    qubesTable() +
      ends.map(([, vif, address]) => downstreamElements(vif, address)).join("") +
      qubesFirewallTable(
        "4.2",
        ends.map(([, , address]) => ({ address })),
      ),
  );
  return { ns, rules: ns.fw, client: ns.a, server: ns.b, host: appIp(to), port: 22 };
}

function drop(ns) {
  for (const n of Object.values(ns)) spawnSync("ip", ["netns", "delete", n]);
}

function loadQwire(kind, ns, n) {
  bootOnce(ns, qwireScript(kind, n, "4.2"));
}

/** The manual way's rules, loaded at once (`nft -f`): the per-packet cost is what matters here, not the load. */
function loadLinear(kind, ns, n) {
  const lines = manualCommands(kind, n, "nft").map(([, args]) => args);
  sh(ns, ["nft", "-f", "-"], lines.join("\n") + "\n");
}

/** Connections per second from the client to the server through the rules' qube. */
function rate(net, seconds) {
  const { client, server, host, port } = net;
  const child = execFileSync(
    "sh",
    ["-c", `ip netns exec ${server} python3 -c '${SERVER.replace(/'/g, "'\\''")}' ${port} >/dev/null 2>&1 & echo $!`],
    { encoding: "utf8" },
  ).trim();
  try {
    // Wait until the server listens.
    for (let i = 0; i < 50; i++) {
      if (spawnSync("ip", ["netns", "exec", server, "sh", "-c", `ss -ltn | grep -q ':${port} '`]).status === 0) break;
      spawnSync("sleep", ["0.1"]);
    }
    const out = execFileSync(
      "ip",
      ["netns", "exec", client, "python3", "-c", CLIENT, host, String(port), String(seconds)],
      {
        encoding: "utf8",
      },
    );
    return Number(out.trim());
  } finally {
    spawnSync("kill", [child]);
  }
}

/** The network of `kind` with `n` rules: forwards, from a LAN source the last forward allows to its port. */
function network(kind, n) {
  if (kind === "links") return linksNetwork(n);
  const net = forwardsNetwork();
  const last = n - 1;
  sh(net.client, ["ip", "addr", "add", `192.168.${last % 250}.10/16`, "dev", "lan0"]);
  sh(net.client, ["ip", "link", "set", "lan0", "up"]);
  return { ...net, host: "192.168.0.1", port: 10000 + last };
}

/** Connections/s with qwire's rules and with linear rules, the same forwards or links, one right after the other. */
export function connectionPair(kind, n, seconds) {
  const out = {};
  for (const [name, load] of [
    ["qwire", loadQwire],
    ["linear", loadLinear],
  ]) {
    const net = network(kind, n);
    try {
      load(kind, net.rules, n);
      out[name] = rate(net, seconds);
    } finally {
      drop(net.ns);
    }
  }
  return out;
}
