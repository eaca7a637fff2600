/**
 * Fail closed, run for real: when /rw/config/qwire/addresses lacks a qube or
 * holds garbage for it, the script installs every rule except those that
 * need that qube, logs why, exits 3, and breaks nothing else.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  NetnsPool,
  baseTableChanges,
  installed,
  listRuleset,
  listTable,
  otherTables,
  qwirePart,
  runInQube,
  tableBlocks,
} from "../helpers/netns.js";
import { addressesFile, scriptOf } from "../helpers/tools.js";
import { LINK_SSH, STUB_IPS, TWO_FORWARDS, build, standUpQube } from "./scenarios.js";

const pool = new NetnsPool();
afterEach(() => pool.deleteAll());

/** What the addresses file says about the qube under test; undefined: no line for it at all. */
const BROKEN: readonly { what: string; line: string | undefined }[] = [
  { what: "missing", line: undefined },
  { what: "an octet above 255", line: "10.137.0.999" },
  { what: "a command substitution", line: "$(reboot)" },
  { what: "empty (qvm-prefs found no such qube)", line: "" },
  { what: "a leading zero", line: "10.137.0.020" },
  { what: "a CIDR", line: "10.137.0.20/24" },
  { what: "nft syntax", line: "10.137.0.20;" },
];

describe("sys-firewall with two forwards, web's address broken", () => {
  const built = build(TWO_FORWARDS.yaml);
  const script = scriptOf(built.artifacts, "sys-firewall");
  const dbOnly = { db: STUB_IPS.db! };

  it.each(BROKEN)("$what: db's forward is installed, web's is not, exit 3", async ({ line }) => {
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const base = await listTable(ns, "qubes");
    const baseRuleset = await listRuleset(ns);
    const addresses = line === undefined ? addressesFile(dbOnly) : `${addressesFile(dbOnly)}web ${line}\n`;

    const run = await runInQube(ns, installed(script), addresses);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("forward web-https: not installed");
    expect(run.logged).toContain("forward web-https: not installed");
    expect(run.rebootCalled).toBe(false);

    const qubes = await listTable(ns, "qubes");
    const blocks = tableBlocks(qubes);
    expect(blocks.get("chain qwire-dnat")).toBe(
      "\t\ttype nat hook prerouting priority filter + 1; policy accept;\n\t\tiifgroup 1 dnat to ip saddr . meta l4proto . th dport map @qwire-dnat-1",
    );
    expect(blocks.get("map qwire-dnat-1")).toBe(
      '\t\ttype ipv4_addr . inet_proto . inet_service : ipv4_addr\n\t\tflags interval\n\t\telements = { 192.168.1.10 . tcp . 5432 comment "db-pg" : 10.137.0.21 }',
    );
    expect(blocks.get("chain qwire-forward")).toContain(
      "ct state new iifgroup 1 ip saddr . ip daddr . meta l4proto . th dport @qwire-fwd-1 accept",
    );
    expect(blocks.get("set qwire-fwd-1")).toBe(
      '\t\ttype ipv4_addr . ipv4_addr . inet_proto . inet_service\n\t\tflags interval\n\t\telements = { 192.168.1.10 . 10.137.0.21 . tcp . 5432 comment "db-pg" }',
    );
    const ours = qwirePart(qubes);
    expect(ours).not.toContain(". 443");
    expect(ours).not.toContain("web-https");
    expect(ours).not.toContain(STUB_IPS.web);
    if (line) expect(ours).not.toContain(line);
    expect(baseTableChanges(base, qubes, true)).toEqual([]);
    expect(otherTables(await listRuleset(ns))).toBe(otherTables(baseRuleset));
  });

  it.each([
    ["dom0's reason", "web - qvm-prefs: error: no such domain: 'web'\n", "qvm-prefs: error: no such domain: 'web'"],
    ["a malformed address", "web 10.137.0.999\n", "malformed address '10.137.0.999'"],
    ["no line", "", "no line for it in /rw/config/qwire/addresses"],
    ["control characters in the reason, shown as '?'", "web - no\u0007such\u001bqube\n", "no?such?qube"],
  ])("logs the intent, the qube and the reason (%s), once per intent", async (_what, line, reason) => {
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const run = await runInQube(ns, installed(script), `${addressesFile(dbOnly)}${line}`);
    expect(run.exitCode).toBe(3);
    const message = `forward web-https: not installed, address of web missing: ${reason}`;
    expect(run.logged.split("\n").filter((l) => l === message)).toHaveLength(1);
    expect(run.stderr.split("\n").filter((l) => l === `qwire: ${message}`)).toHaveLength(1);
    expect(run.stderr).not.toContain("db-pg");
  });

  it("no addresses file at all: qwire's chains are in place but open nothing, exit 3", async () => {
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const base = await listTable(ns, "qubes");
    const run = await runInQube(ns, installed(script), undefined);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("forward web-https: not installed");
    expect(run.stderr).toContain("forward db-pg: not installed");
    const qubes = await listTable(ns, "qubes");
    // The chains jump to the forward maps and sets, which are empty.
    expect(tableBlocks(qubes).get("map qwire-dnat-1")).toBe(
      "\t\ttype ipv4_addr . inet_proto . inet_service : ipv4_addr\n\t\tflags interval",
    );
    expect(qwirePart(qubes)).not.toMatch(/elements|\. (443|5432)\b/);
    expect(baseTableChanges(base, qubes, true)).toEqual([]);
  });

  it("a rule installed earlier is removed when its address goes bad (a stale IP may now be another qube's)", async () => {
    const ns = await standUpQube(pool, built, TWO_FORWARDS.yaml, script);
    const good = await runInQube(ns, installed(script), addressesFile({ db: STUB_IPS.db!, web: STUB_IPS.web! }));
    expect(good.exitCode).toBe(0);
    expect(await listTable(ns, "qubes")).toContain(`443 comment "web-https" : ${STUB_IPS.web}`);

    const bad = await runInQube(ns, installed(script), `${addressesFile(dbOnly)}web \n`);
    expect(bad.exitCode).toBe(3);
    const ours = qwirePart(await listTable(ns, "qubes"));
    expect(ours).not.toContain(STUB_IPS.web);
    expect(ours).toContain(`5432 comment "db-pg" : ${STUB_IPS.db}`);
  });
});

describe("dev, target of a link from work, work's address broken", () => {
  const built = build(LINK_SSH.yaml);
  const script = scriptOf(built.artifacts, "dev");

  it.each(BROKEN)("$what: nothing is let in from work, exit 3", async ({ line }) => {
    const ns = await standUpQube(pool, built, LINK_SSH.yaml, script);
    const base = await listTable(ns, "qubes");
    const run = await runInQube(ns, installed(script), line === undefined ? "" : `work ${line}\n`);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain("link work-dev-tcp-22: not installed");
    expect(run.rebootCalled).toBe(false);
    const qubes = await listTable(ns, "qubes");
    expect(tableBlocks(qubes).get("set qwire-in-ports")).not.toContain("elements");
    expect(baseTableChanges(base, qubes, true)).toEqual([]);
  });
});
