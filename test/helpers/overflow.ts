/** A qwire.yaml whose qube `web` has an outbound list of 10,000 rules (past qubesd's ~900, Qubes issue #4228). */

/** 10,000 rules: DNS and ICMP first, a drop block, then blocks of accepts with drops between them. */
export function tenThousandRules(): string {
  const rules = [
    "{ action: accept, specialtarget: dns }",
    "accept proto=icmp icmptype=8",
    "drop dst4=192.0.2.0/24",
    "drop proto=tcp dstports=25",
  ];
  for (let i = 0; rules.length < 9_996; i++) {
    const net = `10.${Math.floor(i / 250) % 250}.${i % 250}.${1 + Math.floor(i / 62_500)}`;
    if (i % 1000 === 999) rules.push(`drop dst4=${net}`);
    else if (i % 7 === 0) rules.push(`accept dst4=${net} proto=udp dstports=${1000 + (i % 50)}`);
    else if (i % 11 === 0) rules.push(`accept dst4=${net}`);
    else rules.push(`accept dst4=${net} proto=tcp dstports=${i % 3 === 0 ? "8000-8080" : "443"}`);
  }
  rules.push(
    "accept dst4=198.51.100.0/24 proto=tcp",
    "accept proto=udp dstports=123",
    "drop dst4=203.0.113.0/24",
    "accept 203.0.0.0/8",
  );
  return [
    "version: 1",
    'release: "4.2"',
    "qubes:",
    "  sys-net: { provides_network: true }",
    "  sys-firewall: { netvm: sys-net, provides_network: true }",
    "  web: { netvm: sys-firewall }",
    "firewall:",
    "  web:",
    "    policy: drop",
    "    rules:",
    ...rules.map((r) => `      - ${r.startsWith("{") ? r : JSON.stringify(r)}`),
    "",
  ].join("\n");
}
