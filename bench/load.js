// Load time of a generated qube script against the manual way (one `nft add
// rule` or `iptables` call per rule, as the Qubes docs do it), each run in a
// fresh network namespace holding the Qubes base rules. Linux and root.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { compile } from "../dist/pipeline.js";
import { qubesFirewallTable, qubesTable } from "../dist/simulate/model/qubes-tables.js";
import { qubesIptablesRules } from "../dist/simulate/model/qubes-iptables.js";

const NEXT = "10.137.0.6";
/** The address of app-I in the links scenario. */
export const appIp = (i) => `10.137.${1 + Math.floor(i / 250)}.${10 + (i % 240)}`;

/** qwire.yaml with `n` forwards entering sys-net on ens6 (kind "forwards") or `n` links behind sys-firewall ("links"). */
export function loadScenario(kind, n, release) {
  const lines = [
    "version: 1",
    `release: "${release}"`,
    "qubes:",
    "  sys-net: { provides_network: true, uplink: ens6 }",
    "  sys-firewall: { netvm: sys-net, provides_network: true }",
  ];
  const apps = kind === "forwards" ? n : Math.max(2, Math.ceil(Math.sqrt(2 * n)) + 1);
  for (let i = 0; i < apps; i++) lines.push(`  app-${i}: { netvm: sys-firewall }`);
  if (kind === "forwards") {
    lines.push("forwards:");
    for (let i = 0; i < n; i++)
      lines.push(
        `  - { name: f-${i}, to: app-${i}, port: 443, external_port: ${10000 + i}, from: [192.168.${i % 250}.0/24] }`,
      );
  } else {
    lines.push("links:");
    for (const [k, [a, b]] of linkPairs(n, apps).entries())
      lines.push(`  - { name: l-${k}, from: app-${a}, to: app-${b}, ports: [22] }`);
  }
  return { text: lines.join("\n") + "\n", apps };
}

/** The [from, to] app numbers of the links scenario's `n` links, in order. */
function linkPairs(n, apps) {
  const pairs = [];
  for (let a = 0; a < apps && pairs.length < n; a++)
    for (let b = 0; b < apps && pairs.length < n; b++) if (a !== b) pairs.push([a, b]);
  return pairs;
}

/** The app numbers of the last of `n` links (the one a new connection matches last). */
export function lastLink(n) {
  const [from, to] = linkPairs(n, loadScenario("links", n, "4.2").apps).at(-1);
  return { from, to };
}

/** The script qwire writes for the qube under test, and the addresses file qubesctl would give it. */
export function qwireScript(kind, n, release) {
  const { text, apps } = loadScenario(kind, n, release);
  const r = compile({ name: "qwire.yaml", text });
  if (!r.artifacts) throw new Error(`bench input has errors: ${r.diagnostics[0]?.message}`);
  const qube = kind === "forwards" ? "sys-net" : "sys-firewall";
  const script = r.artifacts.find((a) => a.path.startsWith(`salt/qwire/files/${qube}/`));
  const addresses =
    kind === "forwards"
      ? `sys-firewall ${NEXT}\n`
      : Array.from({ length: apps }, (_, i) => `app-${i} ${appIp(i)}\n`).join("");
  return { content: script.content, addresses };
}

/** The same rules as the manual way writes them: one command line per rule. */
export function manualCommands(kind, n, backend) {
  const cmds = [];
  if (kind === "forwards") {
    if (backend === "nft")
      cmds.push([
        "nft",
        "add chain ip qubes manual-dnat { type nat hook prerouting priority dstnat + 1; policy accept; }",
      ]);
    for (let i = 0; i < n; i++) {
      const src = `192.168.${i % 250}.0/24`;
      const port = 10000 + i;
      if (backend === "nft") {
        cmds.push([
          "nft",
          `add rule ip qubes manual-dnat iifname "ens6" ip saddr ${src} tcp dport ${port} dnat to ${NEXT}`,
        ]);
        cmds.push([
          "nft",
          `add rule ip qubes custom-forward ct state new iifname "ens6" ip saddr ${src} ip daddr ${NEXT} tcp dport ${port} accept`,
        ]);
      } else {
        cmds.push([
          "iptables",
          `-w -t nat -A PREROUTING -i ens6 -s ${src} -p tcp -m tcp --dport ${port} -j DNAT --to-destination ${NEXT}`,
        ]);
        cmds.push([
          "iptables",
          `-w -I FORWARD 1 -i ens6 -s ${src} -d ${NEXT}/32 -p tcp -m tcp --dport ${port} -m conntrack --ctstate NEW -j ACCEPT`,
        ]);
      }
    }
  } else {
    for (const [a, b] of linkPairs(n, loadScenario(kind, n, "4.2").apps))
      cmds.push(
        backend === "nft"
          ? [
              "nft",
              `add rule ip qubes custom-forward ct state new ip saddr ${appIp(a)} ip daddr ${appIp(b)} tcp dport 22 accept`,
            ]
          : [
              "iptables",
              `-w -I FORWARD 1 -s ${appIp(a)}/32 -d ${appIp(b)}/32 -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT`,
            ],
      );
  }
  return cmds;
}

let serial = 0;

/** A fresh namespace with the Qubes base rules of `backend` (R4.2 nftables, R4.1 iptables). */
function freshQube(backend) {
  const ns = `qwbench-${process.pid}-${serial++}`;
  execFileSync("ip", ["netns", "add", ns]);
  if (backend === "nft")
    execFileSync("ip", ["netns", "exec", ns, "nft", "-f", "-"], {
      input: qubesTable() + qubesFirewallTable("4.2", []),
    });
  else execFileSync("ip", ["netns", "exec", ns, "iptables-restore"], { input: qubesIptablesRules("4.1") });
  return ns;
}

function drop(ns) {
  spawnSync("ip", ["netns", "delete", ns]);
}

/**
 * Runs the script in namespace `ns` with `rw` on /rw and a fresh tmpfs on
 * /run (a qube's /run is a tmpfs, cleared at each boot); seconds.
 */
function runScript(ns, rw, args) {
  const t0 = performance.now();
  const r = spawnSync(
    "ip",
    [
      "netns",
      "exec",
      ns,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "/bin/sh",
      "-c",
      'mount --bind "$1" /rw && mount -t tmpfs qwbench-run /run && shift && exec /rw/script "$@"',
      "qwbench",
      rw,
      ...args,
    ],
    { encoding: "utf8" },
  );
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`qwire script failed (${r.status}): ${r.stderr}`);
  return s;
}

/** A qube's /rw holding `script` and its addresses file, for runScript. */
function qubeRw(script) {
  const rw = mkdtempSync(join(tmpdir(), "qwbench-rw-"));
  mkdirSync(join(rw, "config", "qwire"), { recursive: true });
  writeFileSync(join(rw, "config", "qwire", "addresses"), script.addresses);
  writeFileSync(join(rw, "script"), script.content);
  chmodSync(join(rw, "script"), 0o755);
  mkdirSync("/rw", { recursive: true });
  return rw;
}

/** Runs `script` once as a boot hook in namespace `ns` (its own /rw and /run); seconds. */
export function bootOnce(ns, script) {
  const rw = qubeRw(script);
  try {
    return runScript(ns, rw, []);
  } finally {
    rmSync(rw, { recursive: true, force: true });
  }
}

/**
 * Seconds of qwire's script in a fresh qube, its /rw bind-mounted and a
 * tmpfs on /run: `apply` is Salt's first apply (`--salt` with nothing
 * recorded: it loads, then lists the live objects to record them), `boot`
 * the boot hook of that qube after a reboot (a fresh namespace and /run,
 * the same /rw: it loads, finds its transaction recorded and lists nothing).
 */
export function timeScript(script, backend) {
  const rw = qubeRw(script);
  const namespaces = [];
  /** Runs the script with `args` in a fresh namespace with a fresh /run and the same /rw. */
  const inFreshQube = (args) => {
    namespaces.push(freshQube(backend));
    return runScript(namespaces.at(-1), rw, args);
  };
  try {
    const apply = inFreshQube(["--salt"]);
    const boot = inFreshQube([]);
    return { apply, boot };
  } finally {
    rmSync(rw, { recursive: true, force: true });
    for (const ns of namespaces) drop(ns);
  }
}

/** Seconds to run the manual commands one by one in a fresh qube. */
export function timeManual(cmds, backend) {
  const ns = freshQube(backend);
  try {
    const t0 = performance.now();
    for (const [tool, args] of cmds) {
      const r = spawnSync("ip", ["netns", "exec", ns, tool, ...(tool === "nft" ? [args] : args.split(" "))], {
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`${tool} ${args}: ${r.stderr}`);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    drop(ns);
  }
}
