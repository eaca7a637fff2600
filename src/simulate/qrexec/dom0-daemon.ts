/**
 * dom0's side of qrexec in the model: the stub `qrexec-client-vm` in a qube
 * connects to this Unix socket and sends one JSON line (source, target,
 * service+argument); the policy files dom0's Salt state wrote decide
 * (policy.ts, read again for every call, as qrexec-policy-daemon does), and
 * an allowed qubes.ConnectTCP call is joined to 127.0.0.1:PORT inside the
 * target qube's network namespace (R4.2+: the target's qrexec connects to
 * 127.0.0.1:<argument>), relaying bytes both ways. The target needs no
 * network. The first line back is "allow <target>" or "deny <reason>".
 *
 * Real qrexec knows the caller from the vchan; here the stub names its own
 * qube (docs/simulate.md).
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { PYTHON } from "../apply/render-sls.js";
import type { Runner } from "../exec.js";
import type { QubesModel } from "../model/network.js";
import { evaluate, loadPolicy, type QrexecCall } from "./policy.js";

/** In the target qube: connect to 127.0.0.1:PORT and relay stdin/stdout (what qrexec's /dev/tcp service does). */
const RELAY = String.raw`
import os, select, socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
except OSError as e:
    sys.exit(1)
s.settimeout(None)
fds = [0, s]
while fds:
    for r in select.select(fds, [], [])[0]:
        if r == 0:
            data = os.read(0, 65536)
            if data: s.sendall(data)
            else:
                s.shutdown(socket.SHUT_WR); fds.remove(0)
        else:
            data = s.recv(65536)
            if not data: sys.exit(0)
            os.write(1, data)
`;

export interface CallRecord {
  readonly call: QrexecCall;
  readonly allowed: boolean;
  readonly detail: string;
}

export class Dom0Qrexec {
  readonly calls: CallRecord[] = [];
  #server: Server | undefined;

  constructor(
    readonly socketPath: string,
    private readonly policyDir: string,
    private readonly model: QubesModel,
    private readonly runner: Runner,
  ) {}

  async start(): Promise<void> {
    await rm(this.socketPath, { force: true });
    const server = createServer((conn) => void this.#serve(conn));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, () => resolve());
    });
    this.#server = server;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #serve(conn: Socket): Promise<void> {
    conn.on("error", () => conn.destroy());
    const header = await readLine(conn);
    if (header === undefined) return void conn.destroy();
    let call: QrexecCall;
    try {
      const raw = JSON.parse(header) as { source: string; target: string; service: string };
      const plus = raw.service.indexOf("+");
      call = {
        source: raw.source,
        target: raw.target,
        service: plus === -1 ? raw.service : raw.service.slice(0, plus),
        argument: plus === -1 ? "" : raw.service.slice(plus + 1),
      };
    } catch {
      return void conn.destroy();
    }
    const deny = (detail: string) => {
      this.calls.push({ call, allowed: false, detail });
      conn.end(`deny ${detail}\n`);
    };
    if (!this.model.has(call.source)) return deny(`unknown source qube '${call.source}'`);
    const verdict = evaluate(await loadPolicy(this.policyDir), call);
    if (!verdict.allow) return deny(verdict.reason);
    const name = `${call.service}+${call.argument} from ${call.source} to ${verdict.target}`;
    if (!this.model.has(verdict.target)) return deny(`${name}: target does not exist`);
    const target = this.model.qube(verdict.target as never);
    if (!target.ns) return deny(`${name}: target is not running`);
    if (call.service !== "qubes.ConnectTCP") return deny(`${name}: only qubes.ConnectTCP is modelled`);
    const port = Number(call.argument);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return deny(`${name}: argument is not a port`);
    const own = await ownSocket(target.runDir, port);
    if (own) {
      // Real qrexec would connect to that socket, which makes another qrexec call: a loop, never a service.
      return deny(
        `${name}: 127.0.0.1:${port} in ${target.name} is its own qrexec link socket (${own}), not a service: the call would loop`,
      );
    }
    this.calls.push({ call, allowed: true, detail: `${name}: allowed by ${verdict.rule}` });
    conn.write(`allow ${target.name}\n`);
    const relay = this.runner.spawnPiped("ip", ["netns", "exec", target.ns, PYTHON, "-c", RELAY, String(port)]);
    relay.stdin.on("error", () => {});
    conn.pipe(relay.stdin);
    relay.stdout.pipe(conn);
    void relay.finally(() => conn.end());
  }
}

function readLine(conn: Socket): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl === -1) return;
      conn.off("data", onData);
      conn.off("end", onEnd);
      conn.pause();
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) conn.unshift(rest);
      resolve(buf.subarray(0, nl).toString());
    };
    const onEnd = () => resolve(undefined);
    conn.on("data", onData);
    conn.once("end", onEnd);
  });
}

/** The socket unit the systemctl stub runs on 127.0.0.1:port in a qube, if any (its state files under /run). */
async function ownSocket(runDir: string, port: number): Promise<string | undefined> {
  const dir = join(runDir, "qwire-sim", "sockets");
  if (!existsSync(dir)) return undefined;
  for (const f of await readdir(dir)) {
    if (!f.endsWith(".listen")) continue;
    const listen = (await readFile(join(dir, f), "utf8")).trim();
    if (listen.endsWith(`:${port}`)) return f.slice(0, -".listen".length);
  }
  return undefined;
}
