/**
 * R4.1 and older: qwire's lines sit in a marked block of the user's
 * rc.local (R3.2 ProxyVMs: also qubes-firewall-user-script). When a qube
 * carries nothing any more (a teardown, or `install.sh --uninstall`'s
 * qwire.remove), the block goes, markers included, and the file is again
 * byte for byte what the user had. The commands are the bundle's own
 * (name and onlyif of the cmd.run), run with /bin/sh on a copy of the file
 * in a temporary folder (the path in them is the only word replaced); the
 * block is written as Salt's file.blockreplace writes it (start marker
 * line, content lines, end marker line; test/real-stack checks it with real
 * Salt).
 */
import { readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCK_MARKERS } from "../../src/render/layout.js";
import { compileOk, file } from "../helpers/compile.js";
import { removeDir, SYSTEM_PATH, tempDir } from "../helpers/tools.js";
import { LAN_WEB } from "./scenarios.js";

type Args = Record<string, unknown>[];

/** The LAN web scenario for another release. */
const yamlOf = (release: string) => LAN_WEB.yaml.replace("version: 1\n", `version: 1\nrelease: "${release}"\n`);

/** The cmd.run of qwire.remove that takes the block out of `userFile`: its name and onlyif. */
function removal(release: string, userFile: string): { name: string; onlyif: string } {
  const states = yaml.load(file(compileOk(yamlOf(release)), "salt/qwire/remove.sls")) as Record<
    string,
    Record<string, Args>
  >;
  const found = Object.values(states)
    .map((s) => s["cmd.run"])
    .filter((args): args is Args => args !== undefined)
    .map((args) => Object.assign({}, ...args) as Record<string, unknown>)
    .filter((a) => typeof a.name === "string" && a.name.startsWith("sed ") && a.name.endsWith(` -- ${userFile}`));
  expect(found, `one removal of ${userFile}`).toHaveLength(1);
  return { name: found[0]!.name as string, onlyif: found[0]!.onlyif as string };
}

const USER_BEFORE = "#!/bin/sh\n# my own rc.local\necho 'before' >/tmp/mine\n";
const USER_AFTER = "ip route add 192.0.2.0/24 dev eth0 || :\n";
const block = (lines: string[]) => [BLOCK_MARKERS.start, ...lines, BLOCK_MARKERS.end].map((l) => `${l}\n`).join("");

let dir = "";
beforeAll(async () => {
  dir = await tempDir("marked-block");
});
afterAll(async () => {
  await removeDir(dir);
});

/** Runs `onlyif`, then `name` when it passed (what Salt's cmd.run does), on `path` in place of `userFile`. */
async function apply(
  cmd: { name: string; onlyif: string },
  userFile: string,
  path: string,
): Promise<{ ran: boolean; rc: number }> {
  const local = (s: string) => s.split(userFile).join(path);
  const env = { PATH: SYSTEM_PATH };
  const guard = await execa("/bin/sh", ["-c", local(cmd.onlyif)], { reject: false, extendEnv: false, env });
  if (guard.exitCode !== 0) return { ran: false, rc: 0 };
  const r = await execa("/bin/sh", ["-c", local(cmd.name)], { reject: false, extendEnv: false, env });
  return { ran: true, rc: r.exitCode ?? -1 };
}

describe.each([
  ["4.1", "/rw/config/rc.local"],
  ["4.0", "/rw/config/rc.local"],
  ["3.2", "/rw/config/rc.local"],
  ["3.2", "/rw/config/qubes-firewall-user-script"],
])("R%s teardown of the block in %s", (release, userFile) => {
  const cmd = removal(release, userFile);

  it("the user's lines around the block stay, the block and both markers go: the file is as the user had it", async () => {
    const path = join(dir, `${release}-around`);
    await writeFile(
      path,
      USER_BEFORE +
        block(["if [ -x /rw/config/qwire/rules.sh ]; then /rw/config/qwire/rules.sh || :; fi"]) +
        USER_AFTER,
    );
    expect(await apply(cmd, userFile, path)).toEqual({ ran: true, rc: 0 });
    expect(await readFile(path, "utf8")).toBe(USER_BEFORE + USER_AFTER);
  });

  it("an empty block (what earlier bundles left) goes too; a second apply changes nothing", async () => {
    const path = join(dir, `${release}-empty`);
    await writeFile(path, USER_BEFORE + block([]));
    expect(await apply(cmd, userFile, path)).toEqual({ ran: true, rc: 0 });
    expect(await readFile(path, "utf8")).toBe(USER_BEFORE);
    expect(await apply(cmd, userFile, path)).toEqual({ ran: false, rc: 0 });
    expect(await readFile(path, "utf8")).toBe(USER_BEFORE);
  });

  it("a start marker without its end (a hand-edited file) is left alone: nothing is cut to the end of the file", async () => {
    const path = join(dir, `${release}-broken`);
    const text = `${USER_BEFORE}${BLOCK_MARKERS.start}\n${USER_AFTER}`;
    await writeFile(path, text);
    expect(await apply(cmd, userFile, path)).toEqual({ ran: false, rc: 0 });
    expect(await readFile(path, "utf8")).toBe(text);
  });

  it("no file: none is created", async () => {
    const path = join(dir, `${release}-missing`);
    expect(await apply(cmd, userFile, path)).toEqual({ ran: false, rc: 0 });
    expect(existsSync(path)).toBe(false);
  });
});
