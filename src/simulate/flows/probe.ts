/**
 * Probes flows in the model with /usr/bin/python3 one-liners inside
 * `ip netns exec`: every running qube runs one server that answers on every
 * probed TCP and UDP port with its own name (so a DNAT to the wrong qube
 * shows up as the wrong name), and every source namespace runs one client
 * process that tries all its flows at once, each with a bounded timeout.
 * Flows that must be open and are not get bounded retries.
 */
import { PYTHON } from "../apply/render-sls.js";
import type { Runner } from "../exec.js";
import { address6, type QubesModel } from "../model/network.js";
import type { Flow } from "./flow.js";
import { INTERNET } from "./outbound.js";

const SERVER = String.raw`
import errno, json, selectors, socket, sys
cfg = json.loads(sys.argv[1])
name = cfg["name"].encode() + b"\n"
sel = selectors.DefaultSelector()
busy = []
def listen(kind, port):
    # One dual-stack socket per port answers IPv4 and IPv6 alike.
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("::", port))
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        # Something of the qube's own holds it (a qrexec link socket): report it, serve the rest.
        busy.append("%s/%d" % (kind, port)); s.close(); return
    if kind == "tcp":
        s.listen(128)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, kind)
for port in cfg["tcp"]:
    listen("tcp", port)
def listen_at(address, port):
    # A UDP reply leaves from the address the request went to only on a socket bound to it (hosts with many addresses).
    s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, port)); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, "udp")
for port in cfg["udp"]:
    if cfg.get("udp_at"):
        for address in cfg["udp_at"]:
            listen_at(address, port)
    else:
        listen("udp", port)
print("ready " + " ".join(busy), flush=True)
while True:
    for key, _ in sel.select():
        try:
            if key.data == "tcp":
                c, _ = key.fileobj.accept()
                c.settimeout(1); c.sendall(name); c.close()
            else:
                _, addr = key.fileobj.recvfrom(2048)
                key.fileobj.sendto(name, addr)
        except OSError:
            pass
`;

const CLIENT = String.raw`
import json, os, select, socket, subprocess, sys, threading, time
probes = json.loads(sys.argv[1])
out = {}
def call(p):
    # A direct qrexec call: the stub's stdout carries what the target's server sends.
    proc = subprocess.Popen(p["argv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=p["env"])
    data = b""
    deadline = time.monotonic() + p["timeout"]
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            break
        chunk = os.read(proc.stdout.fileno(), 256)
        if not chunk:
            break
        data += chunk
    proc.kill()
    _, err = proc.communicate()
    if data:
        out[p["id"]] = {"state": "open", "reached": data.decode(errors="replace").strip()}
    elif proc.returncode == 126:
        out[p["id"]] = {"state": "closed", "how": "refused by dom0's qrexec policy"}
    else:
        out[p["id"]] = {"state": "closed", "how": "qrexec call gave no answer: " + (err.decode(errors="replace").strip() or "exit %s" % proc.returncode)}
def probe(p):
    if p["proto"] == "qrexec":
        return call(p)
    udp = p["proto"] == "udp"
    family = socket.AF_INET6 if ":" in p["dst"] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    s.settimeout(p["timeout"])
    connected = False
    try:
        if p["src"]:
            s.bind((p["src"], 0))
        s.connect((p["dst"], p["port"]))
        connected = not udp
        if udp:
            s.send(b"qwire-probe\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
        if data:
            out[p["id"]] = {"state": "open", "reached": data.decode(errors="replace").strip()}
        else:
            out[p["id"]] = {"state": "open", "reached": None}
    except socket.timeout:
        out[p["id"]] = {"state": "open", "reached": None} if connected else {"state": "closed", "how": "no answer within %gs" % p["timeout"]}
    except ConnectionRefusedError:
        out[p["id"]] = {"state": "closed", "how": "refused"}
    except OSError as e:
        out[p["id"]] = {"state": "closed", "how": e.strerror or str(e)}
    finally:
        s.close()
threads = [threading.Thread(target=probe, args=(p,)) for p in probes]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(out))
`;

export type Outcome =
  { readonly state: "open"; readonly reached: string | null } | { readonly state: "closed"; readonly how: string };

export interface FlowResult {
  readonly flow: Flow;
  readonly outcome: Outcome;
  readonly attempts: number;
  readonly pass: boolean;
  readonly reason: string;
}

export interface ProbeOptions {
  /** Timeout of one attempt, seconds (a closed port costs this much). */
  readonly timeout: number;
  /** Attempts for a flow that must be open. */
  readonly tries: number;
}

export const DEFAULT_PROBE: ProbeOptions = { timeout: 1.5, tries: 3 };

/** What a direct qrexec call needs: the stub and dom0's socket in the model. */
export interface QrexecProbeEnv {
  readonly client: string;
  readonly socket: string;
  readonly path: string;
}

export interface ProbeRun {
  readonly results: FlowResult[];
  /** Ports a qube's probe server could not listen on (something of the qube's own holds them). */
  readonly busy: string[];
}

export async function probeFlows(
  flows: readonly Flow[],
  model: QubesModel,
  runner: Runner,
  qrexec: QrexecProbeEnv,
  options: ProbeOptions = DEFAULT_PROBE,
): Promise<ProbeRun> {
  const { servers, busy } = await startServers(flows, model, runner);
  try {
    const results = new Map<number, FlowResult>();
    let pending = flows.map((_, i) => i);
    for (let attempt = 1; attempt <= options.tries && pending.length > 0; attempt++) {
      const outcomes = await runClients(
        pending.map((i) => ({ i, flow: flows[i]! })),
        model,
        runner,
        qrexec,
        options.timeout,
      );
      const retry: number[] = [];
      for (const i of pending) {
        const flow = flows[i]!;
        const outcome = outcomes.get(i) ?? { state: "closed" as const, how: "probe did not report" };
        const result = judge(flow, outcome, attempt);
        results.set(i, result);
        if (!result.pass && flow.expect === "open" && (outcome.state === "closed" || outcome.reached === null))
          retry.push(i);
      }
      pending = retry;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    return { results: flows.map((_, i) => results.get(i)!), busy };
  } finally {
    for (const s of servers) s.kill("SIGKILL");
    await Promise.allSettled(servers);
  }
}

/**
 * A flow through 127.0.0.1 or a direct qrexec call is closed when no other
 * qube answers: the qube's own socket may accept and close (a refused
 * qrexec call), and its own server may answer, but nothing else may.
 */
function judge(flow: Flow, outcome: Outcome, attempts: number): FlowResult {
  const tries = attempts > 1 ? ` (${attempts} tries)` : "";
  const local = flow.dial.kind === "loopback" || flow.dial.kind === "qrexec";
  if (flow.expect === "open") {
    if (outcome.state === "closed")
      return { flow, outcome, attempts, pass: false, reason: `expected open, but ${outcome.how}${tries}` };
    if (outcome.reached !== flow.to) {
      return {
        flow,
        outcome,
        attempts,
        pass: false,
        reason: outcome.reached
          ? `expected ${flow.to} to answer, but ${outcome.reached} did`
          : `connected, but no qube answered${tries}`,
      };
    }
    return { flow, outcome, attempts, pass: true, reason: `${flow.to} answered${tries}` };
  }
  if (outcome.state === "open") {
    const self = flow.from.kind === "qube" ? flow.from.qube : undefined;
    if (local && outcome.reached === null)
      return {
        flow,
        outcome,
        attempts,
        pass: true,
        reason: "closed: accepted on 127.0.0.1, then closed without an answer",
      };
    if (local && outcome.reached === self)
      return { flow, outcome, attempts, pass: true, reason: `closed: only ${self}'s own server answered` };
    return {
      flow,
      outcome,
      attempts,
      pass: false,
      reason: `expected closed, but ${outcome.reached ?? "something"} answered`,
    };
  }
  return { flow, outcome, attempts, pass: true, reason: `closed: ${outcome.how}` };
}

async function startServers(
  flows: readonly Flow[],
  model: QubesModel,
  runner: Runner,
): Promise<{ servers: ReturnType<Runner["spawn"]>[]; busy: string[] }> {
  const tcp = [...new Set(flows.filter((f) => f.proto === "tcp").map((f) => f.serverPort))].sort((a, b) => a - b);
  const udp = [...new Set(flows.filter((f) => f.proto === "udp").map((f) => f.serverPort))].sort((a, b) => a - b);
  const servers: ReturnType<Runner["spawn"]>[] = [];
  const busy: string[] = [];
  const ready: Promise<void>[] = [];
  // Every running qube, and every outside network that holds internet hosts, answers with its name.
  const answering: { name: string; ns: string; udpAt?: string[] }[] = model
    .qubes()
    .flatMap((q) => (q.ns ? [{ name: q.name, ns: q.ns }] : []));
  for (const f of flows) {
    if (f.dial.kind !== "internet") continue;
    const ns = model.lan(f.dial.lan.qube, f.dial.lan.iface)?.ns;
    if (!ns) continue;
    let server = answering.find((a) => a.ns === ns);
    if (!server) answering.push((server = { name: INTERNET, ns, udpAt: [] }));
    if (!server.udpAt!.includes(f.dial.address)) server.udpAt!.push(f.dial.address);
  }
  for (const q of answering) {
    const child = runner.spawn("ip", [
      "netns",
      "exec",
      q.ns,
      PYTHON,
      "-c",
      SERVER,
      JSON.stringify({ name: q.name, tcp, udp, udp_at: q.udpAt ?? null }),
    ]);
    servers.push(child);
    ready.push(
      new Promise<void>((resolve, reject) => {
        let seen = "";
        child.stdout?.on("data", (d: Buffer) => {
          seen += d.toString();
          const line = /^ready(.*)\n/m.exec(seen);
          if (!line) return;
          for (const port of line[1]!.trim().split(" ").filter(Boolean))
            busy.push(`${q.name}: ${port} is held by the qube itself, the probe server could not listen there`);
          resolve();
        });
        void child.then((r) => reject(new Error(`probe server in ${q.name} exited: ${String(r.stderr ?? "").trim()}`)));
      }),
    );
  }
  try {
    await Promise.all(ready);
  } catch (e) {
    for (const s of servers) s.kill("SIGKILL");
    throw e;
  }
  return { servers, busy: busy.sort() };
}

type Probe =
  | { id: number; proto: string; dst: string; port: number; src: string | null; timeout: number }
  | { id: number; proto: "qrexec"; argv: string[]; env: Record<string, string>; timeout: number };

async function runClients(
  items: readonly { i: number; flow: Flow }[],
  model: QubesModel,
  runner: Runner,
  qrexec: QrexecProbeEnv,
  timeout: number,
): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>();
  const bySource = new Map<string, Probe[]>();
  for (const { i, flow } of items) {
    const where = resolve(flow, model);
    if ("error" in where) {
      outcomes.set(i, { state: "closed", how: where.error });
      continue;
    }
    const list = bySource.get(where.ns) ?? [];
    if (flow.dial.kind === "qrexec" && flow.from.kind === "qube") {
      const env = { PATH: qrexec.path, QWIRE_SIM_QUBE: flow.from.qube, QWIRE_SIM_QREXEC: qrexec.socket };
      list.push({
        id: i,
        proto: "qrexec",
        argv: [qrexec.client, "@default", `qubes.ConnectTCP+${flow.port}`],
        env,
        timeout,
      });
    } else {
      list.push({ id: i, proto: flow.proto, dst: where.dst, port: flow.port, src: where.src ?? null, timeout });
    }
    bySource.set(where.ns, list);
  }
  await Promise.all(
    [...bySource].map(async ([ns, probes]) => {
      const r = await runner.run("ip", ["netns", "exec", ns, PYTHON, "-c", CLIENT, JSON.stringify(probes)], {
        check: false,
      });
      if (r.exitCode !== 0) throw new Error(`probe client in ${ns} failed: ${r.stderr.trim()}`);
      const got = JSON.parse(r.stdout) as Record<string, Outcome>;
      for (const p of probes) outcomes.set(p.id, got[String(p.id)] ?? { state: "closed", how: "probe did not report" });
    }),
  );
  return outcomes;
}

function resolve(flow: Flow, model: QubesModel): { ns: string; dst: string; src?: string } | { error: string } {
  let ns: string | undefined;
  let src: string | undefined;
  if (flow.from.kind === "qube") {
    ns = model.qube(flow.from.qube).ns;
  } else {
    const lan = model.lan(flow.from.lan.qube, flow.from.lan.iface);
    ns = lan?.ns;
    src = flow.from.address;
  }
  if (!ns) return { error: "the source is not running in the model" };
  let dst: string | undefined;
  switch (flow.dial.kind) {
    case "qube": {
      const q = model.qube(flow.dial.qube);
      dst = flow.dial.ipv6 ? address6(q) : q.ip;
      break;
    }
    case "lan": {
      const lan = model.lan(flow.dial.lan.qube, flow.dial.lan.iface);
      dst = src?.includes(":") ? lan?.gateway6 : lan?.gateway;
      break;
    }
    case "loopback":
      dst = "127.0.0.1";
      break;
    case "qrexec":
      dst = "@default";
      break;
    case "internet":
      dst = flow.dial.address;
      break;
  }
  if (!dst) return { error: "the destination is not in the model" };
  return { ns, dst, ...(src ? { src } : {}) };
}
