/**
 * The Qubes base rules that decide a packet when no qwire rule does, in the
 * words of each firewall family (reference qubes-networking.md §1.1, §2.1),
 * and the names of qwire's own chains there. One table per backend, so
 * explain speaks the release the user builds for.
 */
import { profileOf, type Release } from "../release/index.js";

export interface RuleWords {
  /** A downstream vif (group 2) as the output: the base forward chain drops it. */
  readonly intoVif: string;
  /** New traffic for the qube itself on its uplink: the input chain's policy. */
  readonly inputPolicy: string;
  /** New traffic for a net qube from one of its downstream qubes. */
  readonly inputFromVif: string;
  /** Upward traffic of a downstream qube: the base forward chain passes it on. */
  readonly upward: string;
  /** How an inner net qube's rules match traffic arriving from its netvm. */
  readonly fromUplink: string;
  readonly dnat: string;
  readonly forward: string;
  readonly input: string;
  /** The qube's outbound policy in its netvm. */
  readonly outbound: string;
}

const NFT: RuleWords = {
  intoVif:
    "Qubes base rule: forward chain 'oifgroup 2 drop' (nothing new goes into a qube's vif unless custom-forward accepts it)",
  inputPolicy: "Qubes base rule: input chain policy drop (nothing accepts new traffic for this qube)",
  inputFromVif:
    "Qubes base rule: input chain 'iifgroup 2 reject' (a downstream qube may not open connections to its netvm)",
  upward: "Qubes base rule: forward chain policy accept (upward, out of a downstream vif)",
  fromUplink: "on its uplink (iifgroup 1)",
  dnat: "qwire-dnat",
  forward: "qwire-forward",
  input: "qwire-input",
  outbound: "qubes-firewall",
};

const IPTABLES: RuleWords = {
  intoVif:
    "Qubes base rule: FORWARD '-i vif+ -o vif+ DROP' / policy DROP (nothing new goes into a qube's vif unless a rule before it accepts)",
  inputPolicy: "Qubes base rule: INPUT policy DROP (nothing accepts new traffic for this qube)",
  inputFromVif: "Qubes base rule: INPUT '-i vif+ REJECT' (a downstream qube may not open connections to its netvm)",
  upward: "Qubes base rule: FORWARD '-i vif+ ACCEPT' (upward, out of a downstream vif)",
  fromUplink: "on its uplink (-i eth0)",
  dnat: "QWIRE-DNAT",
  forward: "QWIRE-FWD",
  input: "QWIRE-IN",
  outbound: "qubes-firewall (QBS-FORWARD)",
};

export function ruleWords(release: Release): RuleWords {
  return profileOf(release).backend === "nft" ? NFT : IPTABLES;
}
