/**
 * The view every backend's qube script template gets: the same data for nft
 * and iptables, built from a qube's plan without decisions of its own. Only
 * the rule text differs between backends, and that lives in their templates
 * (templates/<backend>/qube-script.sh.hbs); the skeleton is in
 * templates/_partials/.
 */
import type { ForwardHop, LinkInput, LinkPass, Placement, QubePlan, Traffic } from "../plan/index.js";
import type { Release } from "../validate/index.js";

/** When the qube runs the script, one comment line each. */
const RUNS: Record<Placement, readonly string[]> = {
  "qubes-firewall.d": ["qubes-firewall runs it when it starts; qubesctl runs it on every apply."],
  "rc.local.d": ["The qube runs it at boot; qubesctl runs it on every apply."],
  "rc.local": ["The qube runs it at boot (a marked block in /rw/config/rc.local calls it);", "qubesctl runs it on every apply."],
  "qubes-firewall-user-script": [
    "qubes-firewall runs it after every reload (a marked block in",
    "/rw/config/qubes-firewall-user-script calls it); qubesctl on every apply.",
  ],
};

export function scriptView(q: QubePlan, release: Release, installedAs: string, family: string) {
  return {
    qube: q.qube,
    release,
    family,
    installedAs,
    runs: RUNS[q.placement],
    summary: q.summary,
    forwardInputs: q.forwardInputs.map((i) => ({ ...i, label: `forward ${i.intent}` })),
    forwardHops: q.forwardHops.map(hopView),
    linkPasses: q.linkPasses.map((p: LinkPass) => ({ label: `link ${p.intents.join(", ")}`, from: p.from, to: p.to, traffic: p.traffic.map(trafficView) })),
    linkInputs: q.linkInputs.map((i: LinkInput) => ({ label: `link ${i.intents.join(", ")}`, from: i.from, traffic: i.traffic.map(trafficView) })),
  };
}

function hopView(h: ForwardHop) {
  const translated = h.translateTo !== undefined;
  return {
    label: `forward ${h.intent}`,
    arrival: h.arrival,
    sources: h.sources,
    proto: h.proto,
    dport: h.dport,
    next: h.next,
    translated,
    targetPort: h.translateTo ?? h.dport.first,
    // After DNAT the forward chain sees the translated port.
    acceptPort: translated ? { first: h.translateTo!, last: h.translateTo! } : h.dport,
  };
}

/** Templates run in strict mode: every field exists in both shapes. */
function trafficView(t: Traffic) {
  return t.kind === "all" ? { all: true, proto: "", ports: [] } : { all: false, proto: t.proto, ports: t.ports };
}
