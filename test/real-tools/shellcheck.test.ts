/**
 * Every shell script qwire ships, checked by the real shellcheck as POSIX sh
 * (dom0 and the qubes run them with /bin/sh, which may be dash): the
 * generated qube scripts of every scenario (nft, and iptables for the R4.1,
 * R4.0 and R3.2 goldens), install.sh, both backends' teardown scripts, and
 * the shell Salt runs (cmd.run names, onlyif, unless, the stateful test
 * command; the marked blocks written into rc.local) in every state file of
 * every golden bundle: src/render/salt-states.ts lets that shell come only
 * from templates/salt/ or one command's quoted words.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import yaml from "js-yaml";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iptablesBackend } from "../../src/render/backends/iptables.js";
import { nftBackend } from "../../src/render/backends/nft.js";
import { compileOk } from "../helpers/compile.js";
import { listFiles, scenarios } from "../helpers/golden.js";
import { SHELLCHECK, removeDir, tempDir, writeBundle } from "../helpers/tools.js";
import { PINNED_DOTTED, SCENARIOS } from "./scenarios.js";

const LEGACY = scenarios().filter((s) => /-r(41|40|32)$/.test(s.name));

async function shellcheck(paths: readonly string[]): Promise<{ exitCode: number; findings: string }> {
  const r = await execa(SHELLCHECK, ["-s", "sh", "-f", "gcc", ...paths], { reject: false });
  return { exitCode: r.exitCode ?? -1, findings: `${r.stdout}${r.stderr}` };
}

let root = "";
beforeAll(async () => {
  root = await tempDir("shellcheck");
});
afterAll(async () => {
  await removeDir(root);
});

describe.each([...SCENARIOS, PINNED_DOTTED, ...LEGACY].map((s, i) => ({ ...s, i })))("$name", ({ yaml, i }) => {
  it("its qube scripts and install.sh have no shellcheck finding", async () => {
    const { artifacts } = compileOk(yaml);
    const dir = join(root, `bundle-${i}`);
    await writeBundle(artifacts, dir);
    const scripts = artifacts
      .filter((a) => a.path === "install.sh" || a.path.startsWith("salt/qwire/files/"))
      .map((a) => join(dir, a.path));
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    expect(await shellcheck(scripts)).toEqual({ exitCode: 0, findings: "" });
  });
});

describe.each([nftBackend, iptablesBackend])("the $name teardown script", (backend) => {
  it("has no shellcheck finding", async () => {
    const path = join(root, backend.teardown.bundleName);
    await writeFile(path, backend.teardown.render());
    expect(await shellcheck([path])).toEqual({ exitCode: 0, findings: "" });
  });
});

/** Each piece of shell in a state file: where it is, and its text. */
function saltShellOf(sls: string): { where: string; text: string }[] {
  const found: { where: string; text: string }[] = [];
  const doc = (yaml.load(sls, { schema: yaml.CORE_SCHEMA }) ?? {}) as Record<
    string,
    Record<string, Record<string, unknown>[]>
  >;
  for (const [id, body] of Object.entries(doc)) {
    for (const [fn, args] of Object.entries(body)) {
      for (const arg of args) {
        const [key, value] = Object.entries(arg)[0]!;
        if (fn === "cmd.run" && ["name", "onlyif", "unless"].includes(key))
          found.push({ where: `${id} ${key}`, text: String(value) });
        if (fn === "cmd.run" && key === "stateful")
          found.push({ where: `${id} stateful`, text: String((value as { test_name: string }[])[0]!.test_name) });
        // A marked block of the user's rc.local or qubes-firewall-user-script (not a qrexec policy).
        if (fn === "file.blockreplace" && key === "content" && args.some((a) => /^\/rw\/config\//.test(String(a.name))))
          found.push({ where: `${id} content`, text: String(value) });
      }
    }
  }
  return found;
}

describe("the shell Salt runs, in every golden bundle's state files", () => {
  // Plain-YAML state files (vm.sls is the Jinja dispatch, pillars hold Jinja lookups).
  const files = scenarios().flatMap((s) =>
    listFiles(join(s.dir, "expected"))
      .filter((f) => f.startsWith("salt/qwire/") && f.endsWith(".sls") && f !== "salt/qwire/vm.sls")
      .map((f) => ({ scenario: s.name, file: f, text: readFileSync(join(s.dir, "expected", f), "utf8") })),
  );
  const pieces = files.flatMap((f) =>
    saltShellOf(f.text).map((p) => ({ ...p, where: `${f.scenario}/${f.file}: ${p.where}` })),
  );

  it("covers every kind of shell qwire gives Salt", () => {
    const kinds = pieces.map((p) => p.where.replace(/^.*: /, "").replace(/^\S+ /, ""));
    expect(new Set(kinds)).toEqual(new Set(["name", "onlyif", "unless", "stateful", "content"]));
    // One of each template under templates/salt/: a word only that template writes.
    for (const mark of [
      "qvm-prefs -g",
      "qvm-check --quiet",
      "test -e",
      "qvm-firewall --raw",
      "del --rule-no 0",
      "--force-root -P",
      "tr -s",
      "rm -rf --",
      "test -n",
      "sed -i",
      "grep -l -F",
      'test "$(qubes-prefs default_netvm)"',
      ">&2; exit 1",
      "&& qvm-prefs --default",
    ]) {
      expect(
        pieces.some((p) => p.text.includes(mark)),
        mark,
      ).toBe(true);
    }
  });

  it("has no shellcheck finding", async () => {
    const dir = join(root, "salt-shell");
    const paths: string[] = [];
    const seen = new Set<string>();
    for (const p of pieces) {
      if (seen.has(p.text)) continue;
      seen.add(p.text);
      const path = join(dir, `${paths.length}.sh`);
      await writeBundle(
        [{ path: `${paths.length}.sh`, content: `#!/bin/sh\n# ${p.where}\n${p.text}\n`, mode: 0o644 }],
        dir,
      );
      paths.push(path);
    }
    expect(paths.length).toBeGreaterThan(20);
    const r = await shellcheck(paths);
    // Name the state of each finding: "<file>:<line>:..." -> the comment line of that file.
    const findings = r.findings.replace(
      /^(\S+?\.sh):/gm,
      (_m, path: string) => `${readFileSync(path, "utf8").split("\n")[1]} (${path}):`,
    );
    expect({ exitCode: r.exitCode, findings }).toEqual({ exitCode: 0, findings: "" });
  });
});

describe("the check itself", () => {
  it("reports a bashism, so a clean result means something", async () => {
    const path = join(root, "bashism.sh");
    await writeFile(path, '#!/bin/sh\nif [[ -n "$1" ]]; then echo $1; fi\n');
    const r = await shellcheck([path]);
    expect(r.exitCode).not.toBe(0);
    expect(r.findings).toMatch(/SC3010/);
  });
});
