/**
 * The qvm-prefs commands that re-attach qubes, in the syntax of the release:
 * R3.2 needs `-s` to set; R4.x takes `qvm-prefs QUBE netvm NETVM` (and only
 * ignores `-s` for compatibility).
 */
import type { Reattach } from "../plan/reconnect.js";
import { profileOf, type Release } from "../release/index.js";
import { command } from "./helpers.js";

/**
 * The commands as words, each quoted when it is rendered. Setting the netvm,
 * even to the same qube, re-attaches a running qube; a qube that follows
 * the default netvm is then reset to it (`--default` fires no re-attach when
 * the value stays the same, qubes/vm/mix/net.py), so it is not left pinned.
 */
export function reconnectWords(release: Release, r: Reattach): string[][] {
  if (profileOf(release).salt.prefs === "qvm-prefs -s") return [["qvm-prefs", "-s", r.qube, "netvm", r.netvm]];
  const set = ["qvm-prefs", r.qube, "netvm", r.netvm];
  return r.followsDefault ? [set, ["qvm-prefs", "--default", r.qube, "netvm"]] : [set];
}

export function reconnectCommand(release: Release, r: Reattach): string {
  return reconnectWords(release, r)
    .map((words) => command(words))
    .join(" && ");
}

/** A script to paste into a dom0 terminal. */
export function reconnectScript(release: Release, steps: readonly Reattach[]): string {
  const lines = [
    `# Re-attach qubes to their netvms (Qubes R${release}), upstream first.`,
    "# Run in dom0 after a net qube was restarted and its clients lost the network.",
    ...(steps.length === 0
      ? ["# qwire.yaml declares no netvm: nothing to re-attach."]
      : steps.map((s) => reconnectCommand(release, s))),
  ];
  return `${lines.join("\n")}\n`;
}
