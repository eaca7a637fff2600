/**
 * nftables backend (Qubes R4.2 and R4.3): the view a qube's script template
 * needs, built from its plan without decisions of its own.
 *
 * R4.3 changed only the qubes-firewall table (per-qube chains moved behind
 * `jump qubes-forward`, issue #9340); qwire never touches that table, so the
 * scripts are the same for both releases.
 */
import type { FamilyRules, ForwardHop, LinkInput, LinkPass, Placement, QubePlan, Traffic } from "../../plan/index.js";
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
  const families = [familyView("ip", q)];
  if (q.ipv6) families.push(familyView("ip6", q.v6));
  return {
    qube: q.qube,
    release,
    installedAs,
    isNetQube: q.placement === "qubes-firewall.d",
    summary: q.summary,
    ipv6: q.ipv6,
    families,
  };
}

/** One address family: table ip qubes (IPv4) or ip6 qubes (IPv6). */
function familyView(table: "ip" | "ip6", rules: FamilyRules) {
  const suffix = table === "ip6" ? " (IPv6)" : "";
  return {
    table,
    addrType: table === "ip" ? "ipv4_addr" : "ipv6_addr",
    lookup: table === "ip" ? "address_of" : "address6_of",
    // nft writes an IPv6 address with a port as [addr]:port.
    bracketed: table === "ip6",
    forwardInputs: rules.forwardInputs.map((i) => ({ ...i, label: `forward ${i.intent}${suffix}` })),
    forwardHops: rules.forwardHops.map((h) => ({ ...hopView(h), label: `forward ${h.intent}${suffix}` })),
    linkPasses: rules.linkPasses.map((p: LinkPass) => ({ label: `link ${p.intents.join(", ")}${suffix}`, from: p.from, to: p.to, traffic: p.traffic.map(trafficView) })),
    linkInputs: rules.linkInputs.map((i: LinkInput) => ({ label: `link ${i.intents.join(", ")}${suffix}`, from: i.from, traffic: i.traffic.map(trafficView) })),
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
