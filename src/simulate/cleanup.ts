/**
 * Cleanup that always runs: on success, on failure, and on Ctrl-C or
 * SIGTERM (the signal aborts the run; the finally block that follows does
 * the work). Only what this run created is removed.
 */
import { rm } from "node:fs/promises";
import { Runner } from "./exec.js";
import type { Namespaces } from "./model/namespaces.js";

export async function cleanUp(
  runner: Runner,
  namespaces: Namespaces | undefined,
  dir: string | undefined,
): Promise<void> {
  runner.killAll();
  const quiet = Runner.unabortable();
  if (namespaces) for (const ns of namespaces.remaining()) await namespaces.deleteWith(quiet, ns);
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Aborts `controller` on SIGINT/SIGTERM while the run lasts; returns the function that removes the handlers. */
export function abortOnSignals(controller: AbortController): () => void {
  const onSignal = () => controller.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
