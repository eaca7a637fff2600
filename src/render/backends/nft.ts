/**
 * nftables backend (Qubes R4.2 and R4.3): the view a qube's script template
 * needs, built from its plan without decisions of its own.
 *
 * R4.3 changed only the qubes-firewall table (per-qube chains moved behind
 * `jump qubes-forward`, issue #9340); qwire never touches that table, so the
 * scripts are the same for both releases.
 */
import type { ForwardHop, LinkInput, LinkPass, Placement, QubePlan, Traffic } from "../../plan/index.js";
import type { Release } from "../../validate/index.js";
import type { Backend } from "../backend.js";
import { renderTemplate } from "../handlebars-env.js";

const HOOK_DIRS: Record<Placement, string> = {
  "qubes-firewall.d": "/rw/config/qubes-firewall.d",
  "rc.local.d": "/rw/config/rc.local.d",
};

export const nftBackend: Backend = {
  scriptName: (placement) => (placement === "rc.local.d" ? "50-qwire.rc" : "50-qwire"),
  installPath(placement) {
    return `${HOOK_DIRS[placement]}/${this.scriptName(placement)}`;
  },
  renderScript(qube, release) {
    return renderTemplate("nft/qube-script.sh.hbs", scriptView(qube, release, this.installPath(qube.placement)));
  },
  teardown: { repoFile: "files/teardown-nft", bundleName: "teardown-nft" },
};

function scriptView(q: QubePlan, release: Release, installedAs: string) {
  return {
    qube: q.qube,
    release,
    installedAs,
    isNetQube: q.placement === "qubes-firewall.d",
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
