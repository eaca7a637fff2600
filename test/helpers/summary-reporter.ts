/**
 * Ends a vitest run with one plain line, `tests: N passed, N failed, N skipped`,
 * that CI tooling reads without knowing vitest's own summary format.
 */
import type { Reporter, RunnerTask } from "vitest/node";

type Task = { type: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTask[] = []): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const walk = (t: Task) => {
      if (t.tasks) return t.tasks.forEach(walk);
      if (t.type !== "test") return;
      const state = t.result?.state;
      if (state === "pass") count.passed++;
      else if (state === "fail") count.failed++;
      else count.skipped++;
    };
    for (const f of files as unknown as Task[]) {
      walk(f);
      // A file that failed to load has no tests but must not read as a pass.
      if (f.result?.state === "fail" && !f.tasks?.length) count.failed++;
    }
    process.stdout.write(`\ntests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  }
}
