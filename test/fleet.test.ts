/**
 * Fleet files: `include:` and the host overlay (`--host NAME` reads
 * hosts/NAME.yaml). One repository, several machines: the merged file builds
 * the same bundle as the one-file version; conflicts, cycles and missing
 * files are errors at the include line; a diagnostic about a value from an
 * included file points into that file (negative goldens in test/errors-fleet/).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { formatText } from "../src/diagnostics/format.js";
import { compile } from "../src/pipeline.js";
import { compileText } from "./helpers/compile.js";
import { ROOT } from "./simulate/helpers.js";

/** Compiles `files["qwire.yaml"]` with the others readable by path, as the CLI does. */
function compileFleet(files: Record<string, string>, host?: string) {
  return compile(
    { name: "qwire.yaml", text: files["qwire.yaml"]! },
    { fleet: { read: (p) => files[p], ...(host ? { host: `hosts/${host}.yaml` } : {}) } },
  );
}

const ONE_FILE = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  dev: { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
links:
  - { name: dev-web, from: dev, to: web, ports: [8080] }
`;

const SPLIT = {
  "qwire.yaml":
    "version: 1\ninclude: [shared/qubes.yaml, shared/intents.yaml]\nqubes:\n  dev: { netvm: sys-firewall }\n",
  "shared/qubes.yaml":
    "qubes:\n  sys-net: { provides_network: true, uplink: ens6 }\n  sys-firewall: { netvm: sys-net, provides_network: true }\n  web: { netvm: sys-firewall }\n",
  "shared/intents.yaml":
    "forwards:\n  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }\nlinks:\n  - { name: dev-web, from: dev, to: web, ports: [8080] }\n",
};

describe("include:", () => {
  it("the merged files build the same bundle as the one-file version", () => {
    const merged = compileFleet(SPLIT);
    expect(merged.diagnostics).toEqual([]);
    const single = compileText(ONE_FILE);
    expect(merged.artifacts!.map((a) => [a.path, a.content])).toEqual(
      single.artifacts!.map((a) => [a.path, a.content]),
    );
  });

  it("the same qube in two files merges by key; the same value twice is no conflict", () => {
    const r = compileFleet({
      ...SPLIT,
      "qwire.yaml": `${SPLIT["qwire.yaml"]}  web: { netvm: sys-firewall, ipv6: false }\n`,
    });
    expect(r.diagnostics).toEqual([]);
  });

  it("without include: and --host, nothing changes (no file is read)", () => {
    const r = compile(
      { name: "qwire.yaml", text: ONE_FILE },
      {
        fleet: {
          read: () => {
            throw new Error("read");
          },
        },
      },
    );
    expect(r.diagnostics).toEqual([]);
  });
});

describe("--host overlays", () => {
  const FLEET = {
    ...SPLIT,
    "hosts/laptop.yaml":
      "qubes:\n  sys-net: { uplink: wlp0s20f3 }\nforwards:\n  - { name: web-https, to: web, port: 443, from: [10.0.0.0/24] }\n",
    "hosts/desktop.yaml": "qubes:\n  sys-net: { uplink: enp3s0 }\n",
  };

  it("the machine's file wins over the shared ones: its uplink, its version of a named forward", () => {
    const laptop = compileFleet(FLEET, "laptop");
    expect(laptop.diagnostics).toEqual([]);
    const script = laptop.artifacts!.find((a) => a.path.endsWith("sys-net/50-qwire"))!.content;
    expect(script).toContain("wlp0s20f3");
    expect(script).toContain("10.0.0.0/24");
    expect(script).not.toContain("192.168.1.0/24");
    const desktop = compileFleet(FLEET, "desktop").artifacts!.find((a) => a.path.endsWith("sys-net/50-qwire"))!.content;
    expect(desktop).toContain("enp3s0");
    expect(desktop).toContain("192.168.1.0/24");
  });

  it("qwire build --host reads hosts/NAME.yaml beside qwire.yaml; an unknown host is an error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qwire-fleet-"));
    try {
      for (const [p, text] of Object.entries(FLEET)) {
        mkdirSync(dirname(join(dir, p)), { recursive: true });
        writeFileSync(join(dir, p), text);
      }
      const cli = (args: string[]) =>
        execa(process.execPath, [join(ROOT, "dist/cli.js"), ...args], { cwd: dir, reject: false });
      const r = await cli(["build", "--host", "laptop", "-o", "out"]);
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(dir, "out/salt/qwire/files/sys-net/50-qwire"), "utf8")).toContain("wlp0s20f3");
      const missing = await cli(["check", "--host", "tablet"]);
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain("error QW1005: cannot read the host file 'hosts/tablet.yaml'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Negative goldens: test/errors-fleet/<case>/qwire.yaml and the files it includes. */
const ERRORS = join(ROOT, "test", "errors-fleet");
const UPDATE = process.env.QWIRE_UPDATE_GOLDEN === "1";

function filesUnder(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) Object.assign(out, filesUnder(dir, rel));
    else if (rel.endsWith(".yaml")) out[rel] = readFileSync(join(dir, rel), "utf8");
  }
  return out;
}

describe("fleet files: negative goldens (test/errors-fleet/)", () => {
  it.each(readdirSync(ERRORS).sort())("%s", (name) => {
    const dir = join(ERRORS, name);
    const files = filesUnder(dir);
    // A case with a file `host` names the overlay, as --host does.
    const host = existsSync(join(dir, "host")) ? readFileSync(join(dir, "host"), "utf8").trim() : undefined;
    const r = compileFleet(files, host);
    expect(r.artifacts).toBeUndefined();
    const text = `${formatText(r.diagnostics, "qwire.yaml", files["qwire.yaml"]!, new Map(Object.entries(files)))}\n`;
    const golden = join(dir, "diagnostics.txt");
    if (UPDATE) writeFileSync(golden, text);
    expect(existsSync(golden)).toBe(true);
    expect(text).toBe(readFileSync(golden, "utf8"));
    expect(r.diagnostics.map((d) => d.code)).toContain(readFileSync(join(dir, "code"), "utf8").trim());
  });
});
