/**
 * Every YAML file Salt reads from a bundle, checked by real tools: the
 * states and tops as written, and the pillars after real Jinja rendering
 * (vm.sls is Jinja that renders to YAML; pillars-jinja.test.ts covers it).
 * python3-yaml must load them and yamllint --strict (test/yamllint.yaml)
 * must find nothing.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";
import { scenarios } from "../helpers/golden.js";
import { renderSls, yamlErrors } from "../helpers/jinja.js";
import { YAMLLINT, removeDir, tempDir, writeBundle } from "../helpers/tools.js";
import { PINNED_DOTTED, SCENARIOS, STUB_IPS, TWO_FORWARDS_QUBES, TWO_FORWARDS_V2_YAML } from "./scenarios.js";

const CONFIG = new URL("../yamllint.yaml", import.meta.url).pathname;

/** The Salt YAML of a bundle: states except the Jinja vm.sls, per-qube states and both tops. */
const isSaltYaml = (path: string) =>
  (/^salt\/qwire\/[^/]+\.sls$/.test(path) && path !== "salt/qwire/vm.sls") ||
  /^salt\/qwire\/qubes\/[^/]+\.sls$/.test(path) ||
  path.endsWith(".top");

async function yamllint(paths: readonly string[]): Promise<{ exitCode: number; output: string }> {
  const r = await execa(YAMLLINT, ["--strict", "-c", CONFIG, "-f", "parsable", ...paths], { reject: false });
  return { exitCode: r.exitCode ?? -1, output: `${r.stdout}${r.stderr}` };
}

const bundles = [
  ...[...SCENARIOS, PINNED_DOTTED].map((s) => ({ name: s.name, artifacts: compileOk(s.yaml).artifacts })),
  // R4.1, R4.0 and R3.2: marked blocks, qvm-firewall and qvm-prefs -s commands, R4.0 policy blocks, a teardown.
  ...scenarios()
    .filter((s) => /-r(41|40|32)$/.test(s.name))
    .map((s) => ({ name: s.name, artifacts: compileOk(s.yaml, { previousQubes: s.previousQubes }).artifacts })),
  {
    // Carries a teardown state (db dropped from qwire.yaml).
    name: "two forwards, db's forward deleted since the previous build",
    artifacts: compileOk(TWO_FORWARDS_V2_YAML, { previousQubes: TWO_FORWARDS_QUBES }).artifacts,
  },
];

let root = "";
beforeAll(async () => {
  root = await tempDir("yaml");
});
afterAll(async () => {
  await removeDir(root);
});

describe.each(bundles.map((b, i) => ({ ...b, i })))("$name", ({ artifacts, i }) => {
  it("states and tops load with python yaml and pass yamllint --strict", async () => {
    const dir = join(root, `bundle-${i}`);
    await writeBundle(artifacts, dir);
    const paths = artifacts.filter((a) => isSaltYaml(a.path)).map((a) => join(dir, a.path));
    expect(paths.length).toBeGreaterThanOrEqual(3);
    expect(await yamlErrors(paths)).toEqual([]);
    expect(await yamllint(paths)).toEqual({ exitCode: 0, output: "" });
  });

  it("pillars, rendered by Jinja with dom0's answers, load with python yaml and pass yamllint --strict", async () => {
    const dir = join(root, `rendered-${i}`);
    await mkdir(dir);
    const paths: string[] = [];
    // Salt renders every pillar file, the top included, with Jinja first.
    for (const a of artifacts.filter((x) => x.path.startsWith("pillar/"))) {
      const rendered = await renderSls(a.content, { ips: STUB_IPS });
      const path = join(dir, a.path.replaceAll("/", "_"));
      await writeFile(path, rendered.text);
      paths.push(path);
    }
    expect(await yamlErrors(paths)).toEqual([]);
    expect(await yamllint(paths)).toEqual({ exitCode: 0, output: "" });
  });
});

describe("the yamllint configuration", () => {
  it("still catches what it should (a truthy 'yes', bad indentation, trailing spaces)", async () => {
    const path = join(root, "bad.sls");
    await writeFile(path, "# comment\nqwire-x:\n  file.managed:\n     - name: /x \n     - makedirs: yes\n");
    const r = await yamllint([path]);
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(/trailing-spaces/);
    expect(r.output).toMatch(/truthy/);
    expect(r.output).toMatch(/indentation/);
  });
});
