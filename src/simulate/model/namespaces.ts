/**
 * Network namespaces: short names unique per run ("qw" + run id + a
 * counter, at most 10 characters), created and deleted through iproute2,
 * and every one of them remembered so that cleanup can delete what is left.
 */
import type { Runner } from "../exec.js";

export class Namespaces {
  readonly #created = new Set<string>();
  #counter = 0;

  constructor(
    private readonly runner: Runner,
    readonly runId: string,
  ) {}

  async create(kind: "q" | "o"): Promise<string> {
    const name = `qw${this.runId}${kind}${this.#counter++}`;
    this.#created.add(name);
    await this.runner.run("ip", ["netns", "add", name]);
    await this.ip(name, ["link", "set", "lo", "up"]);
    return name;
  }

  async delete(name: string): Promise<void> {
    await this.deleteWith(this.runner, name);
  }

  /**
   * Kills what still runs in the namespace (daemons a qube started, such as
   * its qrexec link sockets: they would keep the namespace alive and bound),
   * then deletes it. With another runner for cleanup after an abort.
   */
  async deleteWith(runner: Runner, name: string): Promise<void> {
    const pids = await runner.run("ip", ["netns", "pids", name], { check: false });
    const list = pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p));
    if (list.length > 0) await runner.run("kill", ["-KILL", ...list], { check: false });
    await runner.run("ip", ["netns", "del", name], { check: false });
    this.#created.delete(name);
  }

  ip(ns: string, args: readonly string[]): Promise<unknown> {
    return this.runner.run("ip", ["-n", ns, ...args]);
  }

  /** Deletes a link if it is there (no error when it is not). */
  removeLink(ns: string, name: string): Promise<unknown> {
    return this.runner.run("ip", ["-n", ns, "link", "del", name], { check: false });
  }

  /** Several ip commands in one process. */
  ipBatch(ns: string, lines: readonly string[]): Promise<unknown> {
    return this.runner.run("ip", ["-n", ns, "-batch", "-"], { input: `${lines.join("\n")}\n` });
  }

  /** ip in the root namespace (veth pairs are created from there, straight into two namespaces). */
  runnerIp(args: readonly string[]): Promise<unknown> {
    return this.runner.run("ip", args);
  }

  /** iptables-restore --noflush in the namespace (the R4.1 model's base rules and vif antispoof). */
  iptablesRestore(ns: string, text: string): Promise<unknown> {
    return this.runner.run("ip", ["netns", "exec", ns, "iptables-restore", "--noflush"], { input: text });
  }

  nft(ns: string, text: string): Promise<unknown> {
    return this.runner.run("ip", ["netns", "exec", ns, "nft", "-f", "-"], { input: text });
  }

  async listRuleset(ns: string): Promise<string> {
    return (await this.runner.run("ip", ["netns", "exec", ns, "nft", "list", "ruleset"])).stdout;
  }

  sysctl(ns: string, key: string, value: string): Promise<unknown> {
    return this.runner.run("ip", ["netns", "exec", ns, "sysctl", "-qw", `${key}=${value}`]);
  }

  /** Names still to delete (for cleanup). */
  remaining(): string[] {
    return [...this.#created];
  }
}
