/**
 * nftables backend (Qubes R4.2 and R4.3).
 *
 * R4.3 changed only the qubes-firewall table (per-qube chains moved behind
 * `jump qubes-forward`, issue #9340); qwire never touches that table, so the
 * scripts are the same for both releases.
 */
import type { Backend } from "../backend.js";
import { renderTemplate } from "../handlebars-env.js";
import { scriptView } from "../script-view.js";

export const nftBackend: Backend = {
  name: "nft",
  renderScript: (qube, release, installedAs, addresses) =>
    renderTemplate("nft/qube-script.sh.hbs", scriptView(qube, release, installedAs, "nftables", addresses)),
  teardown: { bundleName: "teardown-nft", render: () => renderTemplate("teardown/nft.sh.hbs", {}) },
};
