/**
 * iptables backend (Qubes R4.1, R4.0 and R3.2: iptables base rules,
 * reference/qubes-networking.md §2.1). qwire owns the chains QWIRE-DNAT
 * (nat), QWIRE-FWD and QWIRE-IN (filter); each script rebuilds them with one
 * `iptables-restore --noflush` and inserts each jump once, at the documented
 * position: FORWARD before the vif-to-vif drop, INPUT before the final
 * rejects, PREROUTING at the end (after Qubes' DNS DNAT). IPv4 only, like
 * the rest of qwire (QW4004), so no ip6tables rules.
 */
import type { Backend } from "../backend.js";
import { renderTemplate } from "../handlebars-env.js";
import { scriptView } from "../script-view.js";

export const iptablesBackend: Backend = {
  name: "iptables",
  renderScript: (qube, release, installedAs, addresses) =>
    renderTemplate("iptables/qube-script.sh.hbs", scriptView(qube, release, installedAs, "iptables", addresses)),
  teardown: { bundleName: "teardown-iptables", render: () => renderTemplate("teardown/iptables.sh.hbs", {}) },
};
