// New TCP connections per second through a net qube (sys-net) holding N
// forwards: a LAN namespace connects to the last forward's port, sys-net
// DNATs it to the namespace behind it (sys-firewall), which accepts and
// closes. Once with qwire's script (maps and sets), once with the same
// forwards as one rule pair each (the manual way's shape, and what qwire
// wrote before), measured back to back. Linux, root, python3.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { downstreamElements, qubesFirewallTable, qubesTable } from "../dist/simulate/model/qubes-tables.js";
import { manualCommands, qwireScript } from "./load.js";

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
function network() {
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
  return ns;
}

function drop(ns) {
  for (const n of Object.values(ns)) spawnSync("ip", ["netns", "delete", n]);
}

function loadQwire(ns, n) {
  const script = qwireScript("forwards", n, "4.2");
  const rw = mkdtempSync(join(tmpdir(), "qwbench-rw-"));
  try {
    mkdirSync(join(rw, "config", "qwire"), { recursive: true });
    writeFileSync(join(rw, "config", "qwire", "addresses"), script.addresses);
    writeFileSync(join(rw, "script"), script.content);
    chmodSync(join(rw, "script"), 0o755);
    mkdirSync("/rw", { recursive: true });
    const r = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        ns.net,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        'mount --bind "$1" /rw && exec /rw/script',
        "qwbench",
        rw,
      ],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`qwire script failed: ${r.stderr}`);
  } finally {
    rmSync(rw, { recursive: true, force: true });
  }
}

/** The manual way's rules, loaded at once (`nft -f`): the per-packet cost is what matters here, not the load. */
function loadLinear(ns, n) {
  const lines = manualCommands("forwards", n, "nft").map(([, args]) => args);
  sh(ns.net, ["nft", "-f", "-"], lines.join("\n") + "\n");
}

/** Connections per second to the last forward, from a source it allows. */
function rate(ns, n, seconds) {
  const last = n - 1;
  const port = 10000 + last;
  sh(ns.lan, ["ip", "addr", "add", `192.168.${last % 250}.10/16`, "dev", "lan0"]);
  sh(ns.lan, ["ip", "link", "set", "lan0", "up"]);
  const child = execFileSync(
    "sh",
    ["-c", `ip netns exec ${ns.fw} python3 -c '${SERVER.replace(/'/g, "'\\''")}' ${port} >/dev/null 2>&1 & echo $!`],
    { encoding: "utf8" },
  ).trim();
  try {
    // Wait until the server listens.
    for (let i = 0; i < 50; i++) {
      if (spawnSync("ip", ["netns", "exec", ns.fw, "sh", "-c", `ss -ltn | grep -q ':${port} '`]).status === 0) break;
      spawnSync("sleep", ["0.1"]);
    }
    const out = execFileSync(
      "ip",
      ["netns", "exec", ns.lan, "python3", "-c", CLIENT, "192.168.0.1", String(port), String(seconds)],
      { encoding: "utf8" },
    );
    return Number(out.trim());
  } finally {
    spawnSync("kill", [child]);
  }
}

/** Connections/s with qwire's rules and with linear rules, the same forwards, one right after the other. */
export function connectionPair(n, seconds) {
  const out = {};
  for (const [name, load] of [
    ["qwire", loadQwire],
    ["linear", loadLinear],
  ]) {
    const ns = network();
    try {
      load(ns, n);
      out[name] = rate(ns, n, seconds);
    } finally {
      drop(ns);
    }
  }
  return out;
}
