/**
 * The plan's decisions in words: one sentence per decision, for the bundle
 * README, the script headers and the CLI. The only place these sentences
 * are written; plan.json keeps the decisions themselves.
 */
import type { IntentDecision, QubePlan, Traffic } from "../plan/index.js";
import { formatPortRange } from "../validate/values.js";
import { AUTO_UPLINK, type OutsideInterface } from "../validate/index.js";

export function sentence(d: IntentDecision): string {
  const ip = "family" in d && d.family === "v6" ? " (IPv6)" : "";
  switch (d.kind) {
    case "forward-hop": {
      const arriving =
        "interfaces" in d.arrival ? outside(d.arrival.interfaces) : `the uplink from ${d.arrival.uplinkFrom}`;
      const translate = d.translateTo === undefined ? "" : ` port ${d.translateTo}`;
      return `forward ${d.intent}${ip}: ${d.proto} ${formatPortRange(d.port)} from ${d.sources.join(", ")}, arriving on ${arriving}: DNAT to ${d.next}${translate} and let it through`;
    }
    case "forward-accept": {
      const arriving =
        "interfaces" in d.arrival
          ? `on ${outside(d.arrival.interfaces)}`
          : `coming in through ${d.arrival.through.join(" -> ")}`;
      return `forward ${d.intent}${ip}: accept ${d.proto} ${formatPortRange(d.port)} from ${d.sources.join(", ")}, ${arriving}`;
    }
    case "link-pass":
      return `link ${d.intent}${ip}: let ${d.from} reach ${d.to} (${trafficWords(d.traffic)})`;
    case "link-accept":
      return `link ${d.intent}${ip}: accept ${trafficWords(d.traffic)} from ${d.from}`;
    case "qrexec-connect":
      return `qrexec link ${d.intent}: 127.0.0.1:${d.localPort} here reaches ${d.to} port ${d.port} (qubes.ConnectTCP)`;
    case "outbound-in-qube":
      return `outbound policy: ${d.exceptions} exceptions, past R3.2's qvm-firewall limit, enforced here (${d.list} in chain QWIRE-OUT)`;
    case "outbound-for-downstream":
      return `outbound policy of ${d.qube}: ${d.rules} rules, past qubesd's limit (Qubes #4228): enforced here for ${d.qube}'s address in chain ${d.chain} (${d.steps} steps), then policy ${d.policy}`;
  }
}

/** An entry qube's outside interface in words: its name, or what `uplink: auto` stands for. */
export function interfaceWords(name: string): string {
  return name === AUTO_UPLINK ? "the outside interface found at run time (uplink: auto)" : name;
}

function outside(interfaces: readonly OutsideInterface[]): string {
  return interfaces.map(interfaceWords).join(", ");
}

/** Sentences already said, per decision list: a qube's script header and the bundle README both say them. */
const said = new WeakMap<QubePlan["decisions"], readonly string[]>();

/** A qube's decisions, one sentence each, in the plan's order. */
export function sentences(q: Pick<QubePlan, "decisions">): readonly string[] {
  let words = said.get(q.decisions);
  if (words === undefined) {
    words = q.decisions.map(sentence);
    said.set(q.decisions, words);
  }
  return words;
}

function trafficWords(traffic: readonly Traffic[]): string {
  return traffic
    .map((t) => (t.kind === "all" ? "all traffic" : `${t.proto} ${t.ports.map(formatPortRange).join(", ")}`))
    .join(", ");
}
