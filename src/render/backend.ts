/**
 * A firewall backend turns one qube's plan into the script that runs inside
 * it. R4.2/R4.3 use nftables (backends/nft.ts); the iptables releases will
 * sit behind the same interface.
 */
import type { Placement, QubePlan } from "../plan/index.js";
import type { Release } from "../validate/index.js";

export interface Backend {
  /** File name of the script in its hook directory. */
  scriptName(placement: Placement): string;
  /** Where the qube runs it from. */
  installPath(placement: Placement): string;
  renderScript(qube: QubePlan, release: Release): string;
  /**
   * The hand-written teardown script: its file in the repository's salt/
   * folder, and its name in the bundle's salt/qwire/ (beside qubes/ and
   * files/, so no qube name can collide with it).
   */
  readonly teardown: { readonly repoFile: string; readonly bundleName: string };
}
