/**
 * The qvm-prefs commands that re-attach qubes, in the syntax of the release:
 * R3.2 needs `-s` to set; R4.x takes `qvm-prefs QUBE netvm NETVM` (and only
 * ignores `-s` for compatibility).
 */
import type { Reattach } from "../plan/reconnect.js";
import { profileOf, type Release } from "../release/index.js";
import { command } from "./helpers.js";

/** The command as words, each quoted when it is rendered. */
export function reconnectWords(release: Release, r: Reattach): string[] {
  return profileOf(release).salt.prefs === "qvm-prefs -s" ? ["qvm-prefs", "-s", r.qube, "netvm", r.netvm] : ["qvm-prefs", r.qube, "netvm", r.netvm];
}

export function reconnectCommand(release: Release, r: Reattach): string {
  return command(reconnectWords(release, r));
}

/** A script to paste into a dom0 terminal. */
export function reconnectScript(release: Release, steps: readonly Reattach[]): string {
  const lines = [
    `# Re-attach qubes to their netvms (Qubes R${release}), upstream first.`,
    "# Run in dom0 after a net qube was restarted and its clients lost the network.",
    ...(steps.length === 0 ? ["# qwire.yaml declares no netvm: nothing to re-attach."] : steps.map((s) => reconnectCommand(release, s))),
  ];
  return `${lines.join("\n")}\n`;
}
