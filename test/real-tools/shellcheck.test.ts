/**
 * Every shell script qwire ships, checked by the real shellcheck as POSIX sh
 * (dom0 and the qubes run them with /bin/sh, which may be dash): the
 * generated qube scripts of every scenario (nft, and iptables for the R4.1,
 * R4.0 and R3.2 goldens), install.sh, and both backends' teardown scripts.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iptablesBackend } from "../../src/render/backends/iptables.js";
import { nftBackend } from "../../src/render/backends/nft.js";
import { compileOk } from "../helpers/compile.js";
import { scenarios } from "../helpers/golden.js";
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
    const scripts = artifacts.filter((a) => a.path === "install.sh" || a.path.startsWith("salt/qwire/files/")).map((a) => join(dir, a.path));
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

describe("the check itself", () => {
  it("reports a bashism, so a clean result means something", async () => {
    const path = join(root, "bashism.sh");
    await writeFile(path, '#!/bin/sh\nif [[ -n "$1" ]]; then echo $1; fi\n');
    const r = await shellcheck([path]);
    expect(r.exitCode).not.toBe(0);
    expect(r.findings).toMatch(/SC3010/);
  });
});
