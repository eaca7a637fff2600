/**
 * A firewall backend turns one qube's plan into the script that runs inside
 * it, and provides the script that removes what such scripts installed.
 * R4.2/R4.3 use nftables (backends/nft.ts), R4.1 and older iptables base
 * rules (backends/iptables.ts). Where the script is installed and what runs
 * it is not the backend's business but the release's (layout.ts); the script
 * skeleton and its view are shared (templates/_partials/, script-view.ts).
 */
import type { BackendName, QubePlan } from "../plan/index.js";
import type { Release } from "../validate/index.js";

export interface Backend {
  readonly name: BackendName;
  /** The qube's script; `installedAs` is where the layout puts it, `addresses` the file it reads them from. */
  renderScript(qube: QubePlan, release: Release, installedAs: string, addresses: string): string;
  /**
   * The teardown script: its name in the bundle's salt/qwire/ (beside
   * qubes/ and files/, so no qube name can collide with it) and its bytes.
   */
  readonly teardown: { readonly bundleName: string; render(): string };
}
