/**
 * Every process the simulator starts goes through here (execa), so that an
 * abort (Ctrl-C, SIGTERM) kills it and cleanup can find it.
 */
import { execa } from "execa";

interface Killable {
  kill(signal?: NodeJS.Signals): unknown;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Fail (throw) on a non-zero exit; default true. */
  readonly check?: boolean;
}

export class Runner {
  readonly #signal: AbortSignal;
  readonly #children = new Set<Killable>();

  constructor(signal: AbortSignal) {
    this.#signal = signal;
  }

  get aborted(): boolean {
    return this.#signal.aborted;
  }

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const child = execa(file, args, {
      reject: false,
      cancelSignal: this.#signal,
      ...(options.input !== undefined ? { input: options.input } : { stdin: "ignore" as const }),
      ...(options.env ? { env: options.env, extendEnv: false } : {}),
      stripFinalNewline: false,
    });
    this.#children.add(child);
    try {
      const r = await child;
      if (r.isCanceled) throw new AbortError();
      const result = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
      if (options.check !== false && result.exitCode !== 0) {
        throw new Error(
          `${[file, ...args].join(" ")} failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`,
        );
      }
      return result;
    } finally {
      this.#children.delete(child);
    }
  }

  /** A long-running child (probe servers); the caller kills it, cleanup kills leftovers. */
  spawn(file: string, args: readonly string[], input?: string) {
    const child = execa(file, args, {
      reject: false,
      cancelSignal: this.#signal,
      ...(input !== undefined ? { input } : { stdin: "ignore" as const }),
      buffer: { stdout: false, stderr: true },
    });
    this.#children.add(child);
    void child.finally(() => this.#children.delete(child));
    return child;
  }

  /** A child whose stdin and stdout the caller streams (the qrexec relay); killed like the others. */
  spawnPiped(file: string, args: readonly string[]) {
    const child = execa(file, args, {
      reject: false,
      cancelSignal: this.#signal,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "ignore",
      buffer: false,
    });
    this.#children.add(child);
    void child.finally(() => this.#children.delete(child));
    return child;
  }

  killAll(): void {
    for (const c of this.#children) c.kill("SIGKILL");
  }

  /** A runner for cleanup: not cancelled by the abort that triggered it. */
  static unabortable(): Runner {
    return new Runner(new AbortController().signal);
  }
}

export class AbortError extends Error {
  constructor() {
    super("interrupted");
  }
}
