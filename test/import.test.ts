/**
 * `qwire import`: round trip, the bundle's declared dom0 state -> the dom0
 * command output it would give -> import -> build: the imported qwire.yaml
 * declares the same netvm layout, outbound lists and qrexec policy, on every
 * recipe and golden scenario that import can see whole (R4.1+, no guest net
 * qubes, no outbound list past qubesd's limit). Then the readers: the real
 * qvm-firewall table form, and garbled or truncated output reported at its
 * line with nothing written (negative goldens in test/errors-import/).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import yaml from "js-yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatText } from "../src/diagnostics/format.js";
import { importDom0 } from "../src/import/index.js";
import { compileText, file } from "./helpers/compile.js";
import { ROOT, scenarioFiles } from "./simulate/helpers.js";

type Dom0State = {
  prefs: Record<string, { netvm?: string; providesNetwork: boolean }>;
  firewall: Record<string, string[]>;
  policy: string[];
};

/**
 * What dom0.sls declares: qvm.prefs (netvm, provides-network), qvm.firewall set:, the 30-qwire.policy lines.
 * A netvm reset to '*default*' is the qube qvm-ls shows for it, dom0's default netvm (import cannot tell the two apart).
 */
function declaredState(artifacts: readonly { path: string; content: string }[], defaultNetvm?: string): Dom0State {
  const states = yaml.load(file({ artifacts }, "salt/qwire/dom0.sls")) as Record<
    string,
    Record<string, Record<string, unknown>[]>
  >;
  const state: Dom0State = { prefs: {}, firewall: {}, policy: [] };
  for (const body of Object.values(states)) {
    const [kind, args] = Object.entries(body)[0]!;
    const arg = Object.assign({}, ...args) as Record<string, unknown>;
    const netvm = arg.netvm === "*default*" ? defaultNetvm : (arg.netvm as string | undefined);
    // A created qube without netvm gets `netvm: ''` (qvm-create attached it to the default); like a
    // qube qwire.yaml gives no netvm, it declares no layout.
    if (kind === "qvm.prefs" && (netvm || arg["provides-network"] === true))
      state.prefs[arg.name as string] = {
        ...(netvm ? { netvm } : {}),
        providesNetwork: arg["provides-network"] === true,
      };
    if (kind === "qvm.firewall") state.firewall[arg.name as string] = arg.set as string[];
    if (kind === "file.managed" && arg.name === "/etc/qubes/policy.d/30-qwire.policy")
      state.policy = (arg.contents as string)
        .split("\n")
        .filter((l) => l.startsWith("qubes.ConnectTCP"))
        .sort();
  }
  return state;
}

/** The output of the README's dom0 commands on a machine in that state. */
function dom0Output(qubes: readonly string[], state: Dom0State) {
  const rows = ["debian-12|TemplateVM|-|False|-|black", "dom0|AdminVM|-|False|-|black"];
  for (const q of qubes)
    rows.push(
      `${q}|AppVM|${state.prefs[q]?.netvm ?? "-"}|${state.prefs[q]?.providesNetwork ? "True" : "False"}|debian-12|red`,
    );
  const lists = qubes.flatMap((q) => [`== ${q}`, ...(state.firewall[q] ?? ["action=accept"])]);
  return {
    qvmLs: { name: "qubes.txt", text: `${rows.join("\n")}\n` },
    firewall: { name: "firewall.txt", text: `${lists.join("\n")}\n` },
    policy: { name: "policy.txt", text: state.policy.map((l) => `30-qwire.policy:${l}\n`).join("") },
  };
}

const roundTrip = scenarioFiles(ROOT).filter((f) => {
  const text = readFileSync(join(ROOT, f), "utf8");
  if (!/^release: "4\.[123]"/m.test(text) && /^release:/m.test(text)) return false;
  if (/disposable_template:|placement: template/.test(text)) return false;
  return !compileText(text).diagnostics.some((d) => d.code === "QW2020");
});

describe("qwire import: round trip", () => {
  it("covers most scenarios", () => {
    expect(roundTrip.length).toBeGreaterThan(15);
  });

  it.each(roundTrip)("%s: the imported qwire.yaml declares the same dom0 state", (f) => {
    const original = compileText(readFileSync(join(ROOT, f), "utf8"));
    expect(original.artifacts).toBeDefined();
    const state = declaredState(original.artifacts!, original.plan!.defaultNetvm);
    const qubes = original.topology!.spec.qubes.map((q) => q.name);
    const result = importDom0({ ...dom0Output(qubes, state), release: original.plan!.release });
    expect(result.inputs.flatMap((i) => i.diagnostics)).toEqual([]);
    const imported = compileText(result.yaml!);
    expect(imported.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(declaredState(imported.artifacts!)).toEqual(state);
    expect(imported.topology!.spec.qubes.map((q) => q.name).sort()).toEqual([...qubes].sort());
  });
});

describe("qwire import: reading the outputs", () => {
  const qvmLs = {
    name: "qubes.txt",
    text: "dom0|AdminVM|-|False|-|black\nsys-net|AppVM|-|True|debian-12|red\nsys-firewall|AppVM|sys-net|True|debian-12|green\nweb|AppVM|sys-firewall|False|debian-12|blue\n",
  };

  it("reads qvm-firewall's table form (column -t) and keeps what it cannot express as a comment", () => {
    const table = [
      "== web",
      "NO  ACTION  HOST            PROTOCOL  PORT(S)  SPECIAL TARGET  ICMP TYPE  EXPIRE  COMMENT",
      "0   accept  192.0.2.10/32   tcp       443      -               -          -       mirror site",
      "1   accept  -               -         -        dns             -          -       -",
      "2   accept  198.51.100.0/24 tcp       8000-8010 -              -          -       -",
      "3   accept  203.0.113.5/32  -         -        -               -          +299s   -",
      "4   drop    -               -         -        -               -          -       -",
      "",
    ].join("\n");
    const policy = {
      name: "policy.txt",
      text: "qubes.ConnectTCP * @anyvm @anyvm deny\nqubes.ConnectTCP +22 web @default allow target=sys-firewall\n",
    };
    const r = importDom0({ qvmLs, firewall: { name: "firewall.txt", text: table }, policy, release: "4.2" });
    expect(r.inputs.flatMap((i) => i.diagnostics)).toEqual([]);
    expect(r.yaml).toContain('      - "accept proto=tcp dst4=192.0.2.10/32 dstports=443-443 comment=mirror site"');
    expect(r.yaml).toContain('      - "accept specialtarget=dns"');
    expect(r.yaml).toContain(
      "# not expressed (an expiry time; qwire.yaml rules are permanent): action=accept dsthost=203.0.113.5/32 expire=+299s",
    );
    expect(r.yaml).toContain("    policy: drop");
    expect(r.yaml).toContain(
      "# not expressed ('deny' (qwire writes allow lines only)): qubes.ConnectTCP * @anyvm @anyvm deny",
    );
    expect(r.yaml).toContain("  - { from: web, to: sys-firewall, via: qrexec, ports: [22] }");
    expect(r.yaml).toContain("# left out (dom0 and templates, which qwire does not route through): dom0");
    expect(compileText(r.yaml!).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });

  it("a call and its reverse become one both_ways link with a local port that does not loop back", () => {
    const policy = {
      name: "policy.txt",
      text: "qubes.ConnectTCP +8080 web @default allow target=sys-firewall\nqubes.ConnectTCP +8080 sys-firewall @default allow target=web\n",
    };
    const r = importDom0({ qvmLs, policy, release: "4.2" });
    expect(r.yaml).toContain(
      "  - { from: sys-firewall, to: web, via: qrexec, ports: [8080], local_port: 18080, both_ways: true }",
    );
    expect(compileText(r.yaml!).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
});

/** Negative goldens: test/errors-import/<case>/ holds the inputs and the diagnostics `qwire import` prints. */
const ERRORS = join(ROOT, "test", "errors-import");
const UPDATE = process.env.QWIRE_UPDATE_GOLDEN === "1";

describe("qwire import: negative goldens (test/errors-import/)", () => {
  const cases = readdirSync(ERRORS).sort();
  it.each(cases)("%s: reported at its line, nothing imported", (name) => {
    const dir = join(ERRORS, name);
    const read = (f: string) =>
      existsSync(join(dir, f)) ? { name: f, text: readFileSync(join(dir, f), "utf8") } : undefined;
    const firewall = read("firewall.txt");
    const policy = read("policy.txt");
    const r = importDom0({
      qvmLs: read("qubes.txt")!,
      ...(firewall ? { firewall } : {}),
      ...(policy ? { policy } : {}),
      release: "4.2",
    });
    expect(r.yaml).toBeUndefined();
    const text = `${r.inputs
      .filter((i) => i.diagnostics.length > 0)
      .map((i) => formatText(i.diagnostics, i.source.name, i.source.text))
      .join("\n")}\n`;
    const golden = join(dir, "diagnostics.txt");
    if (UPDATE) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, "utf8"));
    expect(text).toContain(`error ${readFileSync(join(dir, "code"), "utf8").trim()}:`);
  });
});

describe("qwire import on the command line", () => {
  const CLI = join(ROOT, "dist/cli.js");
  const run = (args: string[], cwd: string) =>
    execa(process.execPath, [CLI, "import", ...args], { cwd, reject: false });
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "qwire-import-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a qwire.yaml that passes qwire check, and never over an existing file", async () => {
    writeFileSync(
      join(dir, "qubes.txt"),
      "dom0|AdminVM|-|False|-|black\nsys-net|AppVM|-|True|debian-12|red\nweb|AppVM|sys-net|False|debian-12|blue\n",
    );
    const r = await run(["qubes.txt", "-o", "qwire.yaml"], dir);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, "qwire.yaml"), "utf8")).toContain("  web:     { netvm: sys-net }");
    const again = await run(["qubes.txt", "-o", "qwire.yaml"], dir);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain("import never overwrites a file");
  });

  it("garbled output: the line is reported, nothing is written, exit 1", async () => {
    const src = join(ERRORS, "qvm-ls-truncated", "qubes.txt");
    const r = await run([src, "-o", "qwire.yaml"], dir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/qubes\.txt:3:1: error QW5002: the output ends in the middle of this line/);
    expect(existsSync(join(dir, "qwire.yaml"))).toBe(false);
  });
});
