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
import type { QubesModel } from "../model/network.js";
import type { Flow } from "./flow.js";

const SERVER = String.raw`
import json, selectors, socket, sys
cfg = json.loads(sys.argv[1])
name = cfg["name"].encode() + b"\n"
sel = selectors.DefaultSelector()
for port in cfg["tcp"]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(128); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, "tcp")
for port in cfg["udp"]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port)); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, "udp")
print("ready", flush=True)
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
import json, socket, sys, threading
probes = json.loads(sys.argv[1])
out = {}
def probe(p):
    udp = p["proto"] == "udp"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
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

export type Outcome = { readonly state: "open"; readonly reached: string | null } | { readonly state: "closed"; readonly how: string };

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

export async function probeFlows(flows: readonly Flow[], model: QubesModel, runner: Runner, options: ProbeOptions = DEFAULT_PROBE): Promise<FlowResult[]> {
  const servers = await startServers(flows, model, runner);
  try {
    const results = new Map<number, FlowResult>();
    let pending = flows.map((_, i) => i);
    for (let attempt = 1; attempt <= options.tries && pending.length > 0; attempt++) {
      const outcomes = await runClients(pending.map((i) => ({ i, flow: flows[i]! })), model, runner, options.timeout);
      const retry: number[] = [];
      for (const i of pending) {
        const flow = flows[i]!;
        const outcome = outcomes.get(i) ?? { state: "closed" as const, how: "probe did not report" };
        const result = judge(flow, outcome, attempt);
        results.set(i, result);
        if (!result.pass && flow.expect === "open" && outcome.state === "closed") retry.push(i);
      }
      pending = retry;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    return flows.map((_, i) => results.get(i)!);
  } finally {
    for (const s of servers) s.kill("SIGKILL");
    await Promise.allSettled(servers);
  }
}

function judge(flow: Flow, outcome: Outcome, attempts: number): FlowResult {
  const tries = attempts > 1 ? ` (${attempts} tries)` : "";
  if (flow.expect === "open") {
    if (outcome.state === "closed") return { flow, outcome, attempts, pass: false, reason: `expected open, but ${outcome.how}${tries}` };
    if (outcome.reached !== flow.to) {
      return { flow, outcome, attempts, pass: false, reason: outcome.reached ? `expected ${flow.to} to answer, but ${outcome.reached} did` : "connected, but no qube answered" };
    }
    return { flow, outcome, attempts, pass: true, reason: `${flow.to} answered${tries}` };
  }
  if (outcome.state === "open") return { flow, outcome, attempts, pass: false, reason: `expected closed, but ${outcome.reached ?? "something"} answered` };
  return { flow, outcome, attempts, pass: true, reason: `closed: ${outcome.how}` };
}

async function startServers(flows: readonly Flow[], model: QubesModel, runner: Runner): Promise<ReturnType<Runner["spawn"]>[]> {
  const tcp = [...new Set(flows.filter((f) => f.proto === "tcp").map((f) => f.serverPort))].sort((a, b) => a - b);
  const udp = [...new Set(flows.filter((f) => f.proto === "udp").map((f) => f.serverPort))].sort((a, b) => a - b);
  const servers: ReturnType<Runner["spawn"]>[] = [];
  const ready: Promise<void>[] = [];
  for (const q of model.qubes()) {
    if (!q.ns) continue;
    const child = runner.spawn("ip", ["netns", "exec", q.ns, PYTHON, "-c", SERVER, JSON.stringify({ name: q.name, tcp, udp })]);
    servers.push(child);
    ready.push(
      new Promise<void>((resolve, reject) => {
        let seen = "";
        child.stdout?.on("data", (d: Buffer) => {
          seen += d.toString();
          if (seen.includes("ready")) resolve();
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
  return servers;
}

async function runClients(items: readonly { i: number; flow: Flow }[], model: QubesModel, runner: Runner, timeout: number): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>();
  const bySource = new Map<string, { id: number; proto: string; dst: string; port: number; src: string | null; timeout: number }[]>();
  for (const { i, flow } of items) {
    const where = resolve(flow, model);
    if ("error" in where) {
      outcomes.set(i, { state: "closed", how: where.error });
      continue;
    }
    const list = bySource.get(where.ns) ?? [];
    list.push({ id: i, proto: flow.proto, dst: where.dst, port: flow.port, src: where.src ?? null, timeout });
    bySource.set(where.ns, list);
  }
  await Promise.all(
    [...bySource].map(async ([ns, probes]) => {
      const r = await runner.run("ip", ["netns", "exec", ns, PYTHON, "-c", CLIENT, JSON.stringify(probes)], { check: false });
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
  if (flow.dial.kind === "qube") dst = model.qube(flow.dial.qube).ip;
  else dst = model.lan(flow.dial.lan.qube, flow.dial.lan.iface)?.gateway;
  if (!dst) return { error: "the destination is not in the model" };
  return { ns, dst, ...(src ? { src } : {}) };
}
