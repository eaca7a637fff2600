/**
 * `qwire graph` on every recipe and golden scenario: the DOT is drawn by the
 * real graphviz `dot` (Debian's graphviz, installed by .ci/run) and the SVG
 * names every qube and every intent; the Mermaid text holds the same names.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { dotToSvg, graphOf, toDot, toMermaid } from "../src/graph/index.js";
import { check } from "../src/pipeline.js";
import { ROOT, scenarioFiles } from "./simulate/helpers.js";

const DOT = "/usr/bin/dot";
const hasDot = existsSync(DOT);
if (!hasDot) console.warn("SKIPPED graph SVG tests: /usr/bin/dot is missing (apt-get install graphviz)");

const files = scenarioFiles(ROOT);

function topologyOf(file: string) {
  const { topology, diagnostics } = check({ name: file, text: readFileSync(join(ROOT, file), "utf8") });
  if (!topology) throw new Error(`${file}: ${diagnostics.map((d) => d.message).join("; ")}`);
  return topology;
}

function namesOf(file: string): string[] {
  const t = topologyOf(file);
  return [...t.graph.names(), ...t.spec.forwards.map((f) => f.name), ...t.spec.links.map((l) => l.name)];
}

/** The text elements of an SVG, XML character references decoded (dot writes '-' as &#45;). */
function svgText(svg: string): string {
  const decode = (s: string) =>
    s
      .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&");
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => decode(m[1]!)).join("\n");
}

describe("qwire graph", () => {
  it("has scenarios to draw", () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files)("%s: Mermaid names every qube and intent", (file) => {
    const mermaid = toMermaid(graphOf(topologyOf(file)));
    expect(mermaid.startsWith("flowchart LR\n")).toBe(true);
    for (const name of namesOf(file)) expect(mermaid).toContain(name);
  });

  describe.skipIf(!hasDot)("drawn by graphviz", () => {
    it.each(files)("%s: dot draws it, and the SVG names every qube and intent", async (file) => {
      const svg = await dotToSvg(toDot(graphOf(topologyOf(file))));
      expect(svg).toContain("<svg");
      const text = svgText(svg);
      for (const name of namesOf(file)) expect(text).toContain(name);
    });
  });

  it("draws a forward hop by hop from its outside network, and a qrexec link dashed", () => {
    const dot = toDot(graphOf(topologyOf("test/golden/vpn-tunnel-forward/qwire.yaml")));
    expect(dot).toMatch(/o0 \[label="outside sys-vpn:tun0"/);
    const forwardEdges = dot.split("\n").filter((l) => l.includes("style=bold"));
    expect(forwardEdges).toHaveLength(3); // outside -> sys-vpn -> sys-firewall-vpn -> seed
    const qrexec = toDot(graphOf(topologyOf("test/golden/qrexec-links/qwire.yaml")));
    expect(qrexec).toMatch(/-> q\d+ \[label="vault-ssh: qrexec tcp\/2222→22", style=dashed/);
  });

  it("says that an uplink: auto is found at run time", () => {
    const mermaid = toMermaid(graphOf(topologyOf("formulas/any-network-card.yaml")));
    expect(mermaid).toContain('[["sys-net<br/>uplink auto (found at run time)"]]');
  });
});

describe("qwire graph on the command line", () => {
  const CLI = join(ROOT, "dist/cli.js");
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [CLI, ...args], { cwd: ROOT, reject: false, env });

  it("prints the diagnostics of a file with errors and exits 1, drawing nothing", async () => {
    const r = await run(["graph", "test/errors/typo-in-netvm-name/qwire.yaml"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/qwire\.yaml:\d+:\d+: error QW3001/);
    expect(r.stdout).toBe("");
  });

  it("says which package to install when svg is asked for and dot is missing", async () => {
    const r = await run(["graph", "--format", "svg", "formulas/lan-web-server.yaml"], { PATH: "/nonexistent" });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain("install Debian's graphviz package");
    expect(r.stdout).toBe("");
  });

  it("writes Mermaid by default and DOT on request", async () => {
    expect((await run(["graph", "formulas/lan-web-server.yaml"])).stdout).toMatch(/^flowchart LR\n/);
    expect((await run(["graph", "--format", "dot", "formulas/lan-web-server.yaml"])).stdout).toMatch(
      /^digraph qwire \{/,
    );
  });
});
