/**
 * `install.sh --uninstall` leaves the user's layout (netvms, outbound lists)
 * and prints how to reset it, in the commands of the bundle's own release:
 * R3.2's qvm-prefs -s and qvm-firewall -P/-d (qubes-core-admin release3.2
 * qvm-tools), R4's qvm-prefs --default and qvm-firewall reset. Run with
 * /bin/sh in a fake dom0 (test/helpers/fake-dom0.ts) where none of the
 * qubes exists any more, so the qube phase is skipped and only dom0's part
 * and the words run (the qube phase is tested with the twin in
 * test/real-stack/install-lifecycle.test.ts).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";
import { inDom0 } from "../helpers/fake-dom0.js";
import { GOLDEN_DIR } from "../helpers/golden.js";
import { removeDir, tempDir, writeBundle } from "../helpers/tools.js";

/** qvm-prefs of a dom0 where no qube exists: what `exists` in install.sh asks. */
const NO_QUBES = "#!/bin/sh\necho \"qvm-prefs: error: no such domain: '$*'\" >&2\nexit 1\n";

let root = "";
beforeAll(async () => {
  root = await tempDir("uninstall-hints");
});
afterAll(async () => {
  await removeDir(root);
});

async function uninstall(golden: string, release: string) {
  const dir = join(root, golden);
  await writeBundle(compileOk(await readFile(join(GOLDEN_DIR, golden, "qwire.yaml"), "utf8")).artifacts, dir);
  const r = await inDom0(dir, 'sh "$BUNDLE/install.sh" --uninstall', { release, bin: { "qvm-prefs": NO_QUBES } });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^ {2}db +skipped +qube does not exist: nothing to remove$/m);
  return r.stdout.slice(r.stdout.indexOf("Left as they are"));
}

describe("install.sh --uninstall: what it leaves, in the release's own commands", () => {
  it("R3.2: qvm-prefs -s ... netvm default, qvm-firewall's policy and switches; nothing about provides_network (a VM type there)", async () => {
    const left = await uninstall("outbound-policy-r32", "3.2");
    expect(left).toMatch(
      /^ {2}netvm of web is sys-firewall: qvm-prefs -s web netvm default {3}\(back to the default netvm\)$/m,
    );
    expect(left).toMatch(/^ {2}netvm of sys-firewall is sys-net: qvm-prefs -s sys-firewall netvm default /m);
    expect(left).toMatch(
      /^ {2}outbound list of web: qvm-firewall -P allow -i allow -D allow web, then qvm-firewall -d web 1 once per exception qvm-firewall -n web -l lists /m,
    );
    expect(left).toMatch(/^ {2}outbound list of mail: qvm-firewall -P allow -i allow -D allow mail,/m);
    // R4 syntax R3.2's tools do not have.
    expect(left).not.toMatch(/--default|--unset|qvm-firewall \S+ reset|provides_network/);
  });

  it("R4.2: qvm-prefs --default, qvm-prefs provides_network False, qvm-firewall reset", async () => {
    const left = await uninstall("outbound-policy", "4.2");
    expect(left).toMatch(
      /^ {2}netvm of web is sys-firewall: qvm-prefs --default web netvm {3}\(back to the default netvm\)$/m,
    );
    expect(left).toMatch(/^ {2}sys-firewall provides network: qvm-prefs sys-firewall provides_network False /m);
    expect(left).toMatch(/^ {2}outbound list of web: qvm-firewall web reset {3}\(back to accept everything\)$/m);
    expect(left).not.toMatch(/qvm-prefs -s|-P allow/);
  });
});
