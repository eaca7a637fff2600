// What the load and connection tables run inside network namespaces: without
// one of these tools (or without root) `npm run bench` skips those tables and
// says why, rather than stopping at the first exec that fails.
import { spawnSync } from "node:child_process";

const NAMESPACE_TOOLS = ["ip", "nft", "iptables", "iptables-restore", "python3", "ss"];

/** The tools of NAMESPACE_TOOLS that are not on PATH. */
export function missingNamespaceTools() {
  return NAMESPACE_TOOLS.filter((name) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", name]).status !== 0);
}
