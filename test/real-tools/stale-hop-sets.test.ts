/**
 * Forwards arrive in sys-net on two cards, then the next bundle drops one:
 * its script, run for real over the first one's rules, deletes the maps and
 * set of the dropped card (qwire-dnat-2, qwire-dnat-port-2, qwire-fwd-2) and
 * leaves the same ruleset as a first load of the new bundle. The script learns
 * what exists from one listing without set contents (qwire_present), so this
 * also checks that listing. Needs root, ip, unshare and nft.
 */
import { afterEach, describe, expect, it } from "vitest";
import { NetnsPool, installed, listTable, runInQube, tableBlocks } from "../helpers/netns.js";
import { scriptOf } from "../helpers/tools.js";
import { build, standUpQube, stubAddresses } from "./scenarios.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

const TWO_CARDS = `version: 1
release: "4.2"
qubes:
  sys-net: { provides_network: true, uplink: [ens6, wlp0s1] }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
forwards:
  - { name: web-lan, to: web, port: 443, interface: ens6, from: [192.168.1.0/24] }
  - { name: web-wifi, to: web, port: 8443, interface: wlp0s1, from: [192.168.7.0/24] }
`;
const ONE_CARD = TWO_CARDS.replace("uplink: [ens6, wlp0s1]", "uplink: ens6").replace(
  /^ {2}- \{ name: web-wifi.*\n/m,
  "",
);

const qwireObjects = (listing: string) => [...tableBlocks(listing).keys()].filter((k) => / qwire-/.test(k)).sort();

describe("nft (R4.2): a card dropped from sys-net's uplink", () => {
  it("leaves no map or set of its forwards behind, and the ruleset of a first load", async () => {
    const before = build(TWO_CARDS);
    const after = build(ONE_CARD);
    const [script1, script2] = [scriptOf(before.artifacts, "sys-net"), scriptOf(after.artifacts, "sys-net")];
    const addresses = stubAddresses(before, "sys-net");

    const ns = await standUpQube(pool, before, TWO_CARDS, script1);
    const first = await runInQube(ns, installed(script1), addresses);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(qwireObjects(await listTable(ns, "qubes"))).toEqual(
      expect.arrayContaining(["map qwire-dnat-2", "map qwire-dnat-port-2", "set qwire-fwd-2"]),
    );

    const second = await runInQube(ns, installed(script2), addresses);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.nftChecks).toBe(1);
    const upgraded = await listTable(ns, "qubes");
    expect(qwireObjects(upgraded)).not.toEqual(expect.arrayContaining(["set qwire-fwd-2"]));
    expect(upgraded).not.toMatch(/qwire-(dnat|dnat-port|fwd)-2\b/);

    const fresh = await standUpQube(pool, after, ONE_CARD, script2);
    expect((await runInQube(fresh, installed(script2), addresses)).exitCode).toBe(0);
    // The same objects with the same content (a listing orders sets by when they were made).
    const blocks = (listing: string) => [...tableBlocks(listing)].sort(([a], [b]) => a.localeCompare(b));
    expect(blocks(upgraded)).toEqual(blocks(await listTable(fresh, "qubes")));
  });
});
