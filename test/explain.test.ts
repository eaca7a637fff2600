/**
 * `qwire explain` agrees with the flows simulate checks: on every derived
 * flow of every recipe and golden scenario, explain's verdict (and who
 * answers) equals the flow's expectation, which the simulate tests prove in
 * network namespaces (and test/simulate/*.test.ts compares explain with the
 * observed verdicts directly). A closed flow names the hop that drops it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { explainFlow } from "../src/explain/index.js";
import { check } from "../src/pipeline.js";
import { deriveFlows } from "../src/simulate/flows/derive.js";
import { dialLabel, sourceLabel } from "../src/simulate/flows/flow.js";
import { ROOT, scenarioFiles } from "./simulate/helpers.js";

const files = scenarioFiles(ROOT);

function topologyOf(file: string) {
  const { topology, diagnostics } = check({ name: file, text: readFileSync(join(ROOT, file), "utf8") });
  if (!topology) throw new Error(`${file}: ${diagnostics.map((d) => d.message).join("; ")}`);
  return topology;
}

describe("qwire explain against the derived flows", () => {
  it.each(files)("%s: same verdict on every derived flow", (file) => {
    const topology = topologyOf(file);
    const { flows } = deriveFlows(topology);
    expect(flows.length).toBeGreaterThan(0);
    const disagree = flows.flatMap((f) => {
      const e = explainFlow(topology, f.from, f.dial, f.proto, f.port, f.to);
      const got = e.open ? "open" : "closed";
      const reaches =
        e.open && e.reaches !== "the internet" && e.reaches !== f.to ? ` (reaches ${e.reaches}, not ${f.to})` : "";
      return got !== f.expect || reaches !== ""
        ? [
            `${sourceLabel(f.from)} -> ${dialLabel(f.dial)} ${f.proto}/${f.port}: explain ${got}${reaches}, flow ${f.expect} (${f.origin}: ${f.why})`,
          ]
        : [];
    });
    expect(disagree).toEqual([]);
  });

  it.each(files)("%s: a closed flow names the hop that drops it", (file) => {
    const topology = topologyOf(file);
    for (const f of deriveFlows(topology).flows) {
      const e = explainFlow(topology, f.from, f.dial, f.proto, f.port, f.to);
      if (e.open) expect(e.hops.every((h) => h.passes)).toBe(true);
      else expect(e.hops.find((h) => !h.passes)?.at).toBe(e.droppedAt);
    }
  });
});

describe("qwire explain on the command line", () => {
  const CLI = join(ROOT, "dist/cli.js");
  const run = (args: string[]) => execa(process.execPath, [CLI, "explain", ...args], { cwd: ROOT, reject: false });

  it("an open path: every hop with its rule, the intent by name, exit 0", async () => {
    const r = await run(["outside:192.168.1.50", "web", "443", "formulas/lan-web-server.yaml"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/sys-net +pass +qwire-dnat: forward web-https/);
    expect(r.stdout).toMatch(/web +pass +qwire-input: forward web-https accepts tcp\/443 from 192\.168\.1\.50/);
    expect(r.stdout).toContain("verdict: open, by forward web-https");
  });

  it("a closed path: the first dropping hop, the Qubes base rule, the intent that would open it, exit 4", async () => {
    const r = await run(["build", "work", "22", "formulas/vpn-chain.yaml"]);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toMatch(/sys-firewall-vpn +DROP +Qubes base rule: forward chain 'oifgroup 2 drop'/);
    expect(r.stdout).toContain("verdict: closed, dropped at sys-firewall-vpn");
    expect(r.stdout).toContain("- { from: build, to: work, ports: [22] }");
  });

  it("uplink: auto: the outside interface found at run time, in words", async () => {
    const r = await run(["outside:192.168.1.50", "web", "443", "formulas/any-network-card.yaml"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /sys-net +pass +qwire-dnat: forward web-https \(tcp\/443 on the outside interface found at run time \(uplink: auto\)\) sends it to sys-firewall/,
    );
    const out = await run(["web", "1.1.1.1", "443", "formulas/any-network-card.yaml"]);
    expect(out.stdout).toMatch(
      /sys-net +pass +masquerades it out of the outside interface found at run time \(uplink: auto\)/,
    );
  });

  it("qrexec and outbound questions", async () => {
    const q = await run(["personal", "vault", "22", "formulas/qrexec-ssh.yaml", "--via", "qrexec"]);
    expect(q.exitCode).toBe(4);
    expect(q.stdout).toMatch(/dom0 +DROP +no line of 30-qwire\.policy allows qubes\.ConnectTCP \+22 from personal/);
    const o = await run(["media", "1.1.1.1", "443", "formulas/media-server.yaml"]);
    expect(o.exitCode).toBe(4);
    expect(o.stdout).toMatch(
      /sys-firewall +DROP +qubes-firewall: media's outbound policy, no rule matches, policy drop/,
    );
  });

  it("suggests the nearest qube and the nearest port", async () => {
    const typo = await run(["wrok", "build", "22", "formulas/vpn-chain.yaml"]);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain("FROM 'wrok' is not a qube of this qwire.yaml: did you mean 'work'?");
    const port = await run(["outside:192.168.1.23", "dev", "2223", "formulas/ssh-into-qube.yaml"]);
    expect(port.exitCode).toBe(4);
    expect(port.stdout).toContain("did you mean 2222/tcp? forward dev-ssh opens it");
    expect((await run(["work", "build", "22x", "formulas/vpn-chain.yaml"])).exitCode).toBe(2);
  });

  it("prints the diagnostics of a file with errors and exits 1", async () => {
    const r = await run(["web", "sys-firewall", "22", "test/errors/typo-in-netvm-name/qwire.yaml"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error QW3001/);
    expect(r.stdout).toBe("");
  });
});
