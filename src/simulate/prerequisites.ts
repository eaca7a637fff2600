/**
 * What the simulator needs on the machine it runs on: Linux, root, nft,
 * iproute2, unshare, and Debian's python3 with Jinja2 and PyYAML; for R4.1
 * files also iptables. One error
 * names everything that is missing and the packages to install.
 */
import { SimulateError } from "./errors.js";
import type { Runner } from "./exec.js";
import { PYTHON } from "./apply/render-sls.js";

export async function checkPrerequisites(runner: Runner, release?: string): Promise<void> {
  if (process.platform !== "linux")
    throw new SimulateError("prerequisite", "qwire simulate runs on Linux only (it builds network namespaces)");
  const missing: { what: string; pkg: string }[] = [];
  const probe = async (what: string, pkg: string, file: string, args: string[]) => {
    try {
      const r = await runner.run(file, args, { check: false });
      if (r.exitCode !== 0) missing.push({ what, pkg });
    } catch {
      missing.push({ what, pkg });
    }
  };
  await Promise.all([
    probe("nft", "nftables", "nft", ["--version"]),
    probe("ip (iproute2)", "iproute2", "ip", ["-V"]),
    probe("unshare", "util-linux", "unshare", ["--version"]),
    probe(`${PYTHON} with jinja2 and yaml`, "python3-jinja2 python3-yaml", PYTHON, ["-c", "import jinja2, yaml"]),
    // R4.1 qubes hold iptables base rules (reference §2.1).
    ...(release === "4.1" ? [probe("iptables-restore", "iptables", "iptables-restore", ["--version"])] : []),
  ]);
  const problems: string[] = [];
  if (typeof process.getuid === "function" && process.getuid() !== 0)
    problems.push("root (it creates network namespaces and loads nftables rules): run it with sudo");
  if (missing.length > 0) {
    problems.push(
      `${missing.map((m) => m.what).join(", ")}: install with: sudo apt-get install ${missing.map((m) => m.pkg).join(" ")}`,
    );
  }
  if (problems.length > 0) throw new SimulateError("prerequisite", `qwire simulate needs ${problems.join("; and ")}`);
}
