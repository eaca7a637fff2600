/**
 * The Qubes lifecycle steps that run hooks (reference/qubes-networking.md §3):
 *
 * - qubes-firewall start (net qubes): `table ip qubes-firewall` is built,
 *   then every regular executable file of /rw/config/qubes-firewall.d/ runs
 *   in sorted order, then /rw/config/qubes-firewall-user-script;
 * - qubes-misc-post (every qube, after the network and qubes-firewall):
 *   /rw/config/rc.local.d/*.rc in glob order, then /rw/config/rc.local.
 *
 * Exit codes of hooks are ignored, as Qubes ignores them; they are recorded.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { QubeName } from "../../validate/index.js";
import type { ModelQube, QubesModel } from "../model/network.js";
import type { QubeShell } from "./qube-shell.js";

export interface HookRun {
  readonly qube: QubeName;
  readonly hook: string;
  readonly exitCode: number;
  readonly output: string;
}

export class Lifecycle {
  readonly hooks: HookRun[] = [];

  constructor(
    private readonly model: QubesModel,
    private readonly shell: QubeShell,
  ) {}

  /** Boots a qube: network and base tables, qubes-firewall (net qubes), then rc.local.d. */
  async boot(name: QubeName): Promise<void> {
    await this.model.start(name);
    const q = this.model.qube(name);
    if (q.providesNetwork) await this.#firewallHooks(q);
    await this.#rcHooks(q);
  }

  async bootAll(): Promise<void> {
    for (const q of this.model.qubes()) await this.boot(q.name);
  }

  /** `systemctl restart qubes-firewall`: table deleted and rebuilt, hooks run again. */
  async reloadFirewall(name: QubeName): Promise<void> {
    await this.model.deleteFirewallTable(name);
    await this.model.loadFirewallTable(name);
    await this.#firewallHooks(this.model.qube(name));
  }

  /** Shutdown and start: a fresh network stack; /rw survives. */
  async restart(name: QubeName): Promise<void> {
    await this.model.stop(name);
    await this.boot(name);
  }

  /** qvm-remove, then qvm-create with the same name: new address, empty /rw; then it boots. */
  async recreate(name: QubeName): Promise<void> {
    await this.model.recreate(name);
    const q = this.model.qube(name);
    if (q.providesNetwork) await this.#firewallHooks(q);
    await this.#rcHooks(q);
  }

  async #firewallHooks(q: ModelQube): Promise<void> {
    const dir = "config/qubes-firewall.d";
    for (const f of (await this.#list(q, dir)).sort()) await this.#run(q, `/rw/${dir}/${f}`);
    if (await this.#executable(q, "config/qubes-firewall-user-script"))
      await this.#run(q, "/rw/config/qubes-firewall-user-script");
  }

  async #rcHooks(q: ModelQube): Promise<void> {
    const dir = "config/rc.local.d";
    for (const f of (await this.#list(q, dir)).filter((f) => f.endsWith(".rc")).sort())
      await this.#run(q, `/rw/${dir}/${f}`);
    if (await this.#executable(q, "config/rc.local")) await this.#run(q, "/rw/config/rc.local");
  }

  async #list(q: ModelQube, dir: string): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(join(q.rwDir, dir));
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const n of names) if (await this.#executable(q, `${dir}/${n}`)) out.push(n);
    return out;
  }

  async #executable(q: ModelQube, rel: string): Promise<boolean> {
    try {
      const s = await stat(join(q.rwDir, rel));
      return s.isFile() && (s.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  }

  async #run(q: ModelQube, path: string): Promise<void> {
    const r = await this.shell.exec(q, [path]);
    this.hooks.push({ qube: q.name, hook: path, exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`.trim() });
  }
}
