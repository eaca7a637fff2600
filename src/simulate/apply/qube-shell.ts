/**
 * Runs a command "inside a qube": in its network namespace, in a private
 * mount namespace where the qube's own directory is bind-mounted on /rw
 * (the bundle's scripts read the hard-coded /rw/config/qwire/addresses), as
 * root, with the stub commands first on PATH.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Runner, RunResult } from "../exec.js";
import type { ModelQube, QubesModel } from "../model/network.js";
import { writeQubesDb, type StubPaths } from "./stubs.js";

/**
 * In the qube's own mount namespace: its /rw (persistent), /run and /tmp
 * (volatile: new at every start), and the rest of the file system
 * read-only, so that nothing a script does can touch the host.
 */
const MOUNT_AND_EXEC =
  'mount --bind "$1" /rw && mount --bind "$2" /run && mount --bind "$3" /tmp && mount -o remount,ro,bind / && shift 3 && exec "$@"';

export class QubeShell {
  constructor(
    private readonly runner: Runner,
    private readonly model: QubesModel,
    private readonly stubs: StubPaths,
  ) {
    // The mount point itself; it stays empty on the host.
    if (!existsSync("/rw")) mkdirSync("/rw", { recursive: true });
  }

  /** `sh -c command` in the qube; never throws on a non-zero exit. */
  async sh(q: ModelQube, command: string): Promise<RunResult> {
    return this.exec(q, ["/bin/sh", "-c", command]);
  }

  async exec(q: ModelQube, argv: readonly string[]): Promise<RunResult> {
    if (!q.ns) throw new Error(`qube ${q.name} is not running`);
    const qubesdb = await writeQubesDb(this.stubs, this.model, q);
    return this.runner.run(
      "ip",
      [
        "netns",
        "exec",
        q.ns,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        MOUNT_AND_EXEC,
        "qwire-qube",
        q.rwDir,
        q.runDir,
        q.tmpDir,
        ...argv,
      ],
      {
        check: false,
        env: this.env({
          QWIRE_SIM_QUBESDB: qubesdb,
          QWIRE_SIM_LOG: "/run/qwire-sim.log",
          QWIRE_SIM_QUBE: q.name,
          QWIRE_SIM_QREXEC: this.stubs.qrexec,
        }),
      },
    );
  }

  /** `sh -c command` as dom0: the stubs answer for qubesd; never throws on a non-zero exit. */
  async dom0Sh(command: string): Promise<RunResult> {
    return this.runner.run("/bin/sh", ["-c", command], { check: false, env: this.dom0Env() });
  }

  /** The environment of dom0 commands (pillar rendering): stubs, the dom0 database. */
  dom0Env(): Record<string, string> {
    return this.env({ QWIRE_SIM_DB: this.stubs.db, QWIRE_SIM_LOG: join(this.stubs.logs, "dom0.log") });
  }

  /** PATH inside qubes and dom0: the stubs first. */
  path(): string {
    return `${this.stubs.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  }

  private env(extra: Record<string, string>): Record<string, string> {
    return {
      PATH: this.path(),
      HOME: "/root",
      LANG: "C.UTF-8",
      QWIRE_SIM_DB: this.stubs.db,
      ...extra,
    };
  }
}
