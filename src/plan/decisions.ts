/**
 * What a qube does for each intent, as typed decisions: one per line of the
 * qube's part of the bundle README and of its script header, and what
 * plan.json records. The plan decides; render/words.ts says them in English,
 * so a change of wording never changes the machine-readable plan.
 */
import type { IntentName, OutsideInterface, PortRange, Proto, QubeName } from "../validate/index.js";
import type { Traffic } from "./plan.js";

/** "v4": table ip qubes; "v6": table ip6 qubes. */
export type Family = "v4" | "v6";

export type IntentDecision =
  /** A net qube on a forward's way in: DNAT to the next qube and let it through. */
  | {
      readonly kind: "forward-hop";
      readonly intent: IntentName;
      readonly family: Family;
      readonly proto: Proto;
      /** The port(s) as the packet arrives (the forward's external port). */
      readonly port: PortRange;
      /** CIDR texts. */
      readonly sources: readonly string[];
      /** On the entry qube's outside interfaces, or on the uplink from the qube before. */
      readonly arrival: { readonly interfaces: readonly OutsideInterface[] } | { readonly uplinkFrom: QubeName };
      readonly next: QubeName;
      /** Set when this hop translates a single port. */
      readonly translateTo?: number;
    }
  /** A forward's target accepts it. */
  | {
      readonly kind: "forward-accept";
      readonly intent: IntentName;
      readonly family: Family;
      readonly proto: Proto;
      readonly port: PortRange;
      readonly sources: readonly string[];
      /** On its own outside interfaces (it is the entry), or through these qubes, entry first. */
      readonly arrival:
        { readonly interfaces: readonly OutsideInterface[] } | { readonly through: readonly QubeName[] };
    }
  /** The firewall qube of a network link lets one direction through. */
  | {
      readonly kind: "link-pass";
      readonly intent: IntentName;
      readonly family: Family;
      readonly from: QubeName;
      readonly to: QubeName;
      readonly traffic: readonly Traffic[];
    }
  /** The target of a network link accepts it. */
  | {
      readonly kind: "link-accept";
      readonly intent: IntentName;
      readonly family: Family;
      readonly from: QubeName;
      readonly traffic: readonly Traffic[];
    }
  /** The connecting qube of a qrexec link listens on 127.0.0.1:localPort. */
  | {
      readonly kind: "qrexec-connect";
      readonly intent: IntentName;
      readonly localPort: number;
      readonly to: QubeName;
      readonly port: number;
    }
  /** R3.2: the qube enforces its own outbound list (past qvm-firewall's limit). */
  | {
      readonly kind: "outbound-in-qube";
      readonly exceptions: number;
      /** deny policy: the exceptions allow ("allow-list"); allow policy: they deny. */
      readonly list: "allow-list" | "deny-list";
    }
  /** R4.2/R4.3: this netvm enforces a downstream qube's outbound list (past qubesd's limit). */
  | {
      readonly kind: "outbound-for-downstream";
      readonly qube: QubeName;
      readonly rules: number;
      readonly chain: string;
      readonly steps: number;
      readonly policy: "accept" | "drop";
    };
