/**
 * QW1003 comes from the CLI (reading the file), not from the pipeline: run the
 * built binary. Builds dist/ once before the tests.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "dist", "cli.js");
let work: string;

beforeAll(async () => {
  // tsc emits dist/ even when another part of src/ has a type error (that is
  // the typecheck's job); these tests need the JavaScript only.
  const build = await execa("npm", ["run", "build", "--silent"], { cwd: ROOT, reject: false });
  if (!existsSync(CLI)) throw new Error(`npm run build wrote no ${CLI}:\n${build.stdout}\n${build.stderr}`);
  work = mkdtempSync(join(tmpdir(), "qwire-cli-errors-"));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const qwire = (...args: string[]) => execa("node", [CLI, ...args], { cwd: work, reject: false });

describe("qwire check: diagnostics from the command line", () => {
  it("QW1003: a file that does not exist exits 1 and names the file", async () => {
    const r = await qwire("check", "/nonexistent.yaml");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("QW1003");
    expect(r.stderr).toContain("/nonexistent.yaml");
    expect(r.stdout).toBe("");
  });

  it("QW1003: the default ./qwire.yaml missing", async () => {
    const r = await qwire("check");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("QW1003");
  });

  it("QW1003: build writes nothing when the file cannot be read", async () => {
    const r = await qwire("build", "/nonexistent.yaml", "-o", join(work, "out"));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("QW1003");
  });

  it("errors: exit 1, GNU-style line with caret on stderr", async () => {
    const file = join(work, "bad.yaml");
    writeFileSync(file, "version: 1\nqubes:\n  web: { netvm: sys-nett }\n");
    const r = await qwire("check", file);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${file}:3:17: error QW3001: qube 'sys-nett' is not declared under 'qubes'`);
    expect(r.stderr).toContain("^~~~~~~~");
  });

  it("--format json prints parseable diagnostics on stdout", async () => {
    const file = join(work, "bad-json.yaml");
    writeFileSync(file, "version: 2\nqubes: {}\n");
    const r = await qwire("check", file, "--format", "json");
    expect(r.exitCode).toBe(1);
    const parsed = JSON.parse(r.stdout) as { code: string; span: { line: number } }[];
    expect(parsed.map((d) => d.code)).toEqual(["QW2007"]);
  });

  it("warnings only: exit 0", async () => {
    const file = join(work, "warn.yaml");
    writeFileSync(
      file,
      "version: 1\nqubes:\n  sys-net: { provides_network: true, uplink: ens6 }\n  web: { netvm: sys-net }\nforwards:\n  - to: web\n    port: 443\n    from: [any]\n",
    );
    const r = await qwire("check", file);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("warning QW2010");
  });
});

describe("qwire build: a diagnostic about the previous plan.json names that file", () => {
  it("QW1004 points into out/plan.json, with its line, in text and in JSON", async () => {
    mkdirSync(join(work, "out"), { recursive: true });
    writeFileSync(join(work, "qwire.yaml"), "version: 1\nqubes:\n  sys-net: { provides_network: true }\n");
    writeFileSync(
      join(work, "out", "plan.json"),
      '{\n  "generator": "qwire",\n  "format": 1,\n  "qubes": [{ "name": "x y" }]\n}\n',
    );
    const text = await qwire("build", "qwire.yaml", "-o", "out");
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toContain("out/plan.json:4:23: error QW1004:");
    expect(text.stderr).toContain('   4 |   "qubes": [{ "name": "x y" }]');
    const json = await qwire("build", "qwire.yaml", "-o", "out", "--format", "json");
    const parsed = JSON.parse(json.stdout) as { file: string; code: string; span: { line: number } }[];
    expect(parsed).toEqual([
      expect.objectContaining({ file: "out/plan.json", code: "QW1004", span: { line: 4, column: 23, length: 5 } }),
    ]);
  });
});
