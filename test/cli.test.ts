/** The built command line (dist/cli.js, built by `npm test`), run as a user would. */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const CLI = new URL("../dist/cli.js", import.meta.url).pathname;
const qwire = (args: string[], cwd: string) => execa("node", [CLI, ...args], { cwd, reject: false });

const GOOD = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  mail: { netvm: sys-firewall }
forwards:
  - { to: web, port: 443, from: [192.168.1.0/24] }
  - { to: mail, port: 587, from: [192.168.1.0/24] }
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "qwire-cli-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("qwire build", () => {
  it("writes the bundle and says what it produced", async () => {
    writeFileSync(join(dir, "qwire.yaml"), GOOD);
    const r = await qwire(["build", "-o", "out"], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("wrote out/");
    expect(r.stdout).toContain("sudo ./install.sh --dry-run");
    for (const f of [
      "README.md",
      "install.sh",
      "plan.json",
      "salt/qwire/init.top",
      "pillar/qwire/init.top",
      "salt/qwire/files/web/50-qwire.rc",
    ]) {
      expect(existsSync(join(dir, "out", f)), f).toBe(true);
    }
    // The count and the digest come from the files as they were written, one by one: they must be the folder's.
    const written = readdirSync(join(dir, "out"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(r.stdout).toContain(`(${written.length} files)`);
    const digest = createHash("sha256")
      .update(readFileSync(join(dir, "out", "plan.json")))
      .digest("hex");
    expect(r.stdout).toContain(`bundle digest: sha256 ${digest} `);
  });

  it("writes nothing and leaves an earlier bundle untouched when qwire.yaml has errors", async () => {
    writeFileSync(join(dir, "qwire.yaml"), GOOD);
    expect((await qwire(["build", "-o", "out"], dir)).exitCode).toBe(0);
    const before = readFileSync(join(dir, "out", "plan.json"), "utf8");
    writeFileSync(join(dir, "qwire.yaml"), GOOD.replace("port: 587", "port: 70000"));
    const r = await qwire(["build", "-o", "out"], dir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/qwire\.yaml:9:\d+: error QW2004: port 70000 is outside 1-65535/);
    expect(readFileSync(join(dir, "out", "plan.json"), "utf8")).toBe(before);
  });

  it("refuses to write into a folder that is not a qwire bundle", async () => {
    writeFileSync(join(dir, "qwire.yaml"), GOOD);
    mkdirSync(join(dir, "notes"));
    writeFileSync(join(dir, "notes", "mine.txt"), "hand-written");
    const r = await qwire(["build", "-o", "notes"], dir);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("will not overwrite");
    expect(readFileSync(join(dir, "notes", "mine.txt"), "utf8")).toBe("hand-written");
  });

  it("after a build killed between its two renames, puts the previous bundle back, says so, and still tears down from its plan.json", async () => {
    writeFileSync(join(dir, "qwire.yaml"), GOOD);
    await qwire(["build", "-o", "out"], dir);
    // What a build killed between `out -> out.qwire-old-<pid>` and `out.qwire-new-<pid> -> out` leaves; the pid is one that has exited.
    const exited = execa("true");
    await exited;
    const dead = exited.pid!;
    renameSync(join(dir, "out"), join(dir, `out.qwire-old-${dead}`));
    mkdirSync(join(dir, `out.qwire-new-${dead}`));
    writeFileSync(join(dir, "qwire.yaml"), GOOD.replace("  - { to: mail, port: 587, from: [192.168.1.0/24] }\n", ""));
    const r = await qwire(["build", "-o", "out"], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(
      `qwire: note: ${join(dir, "out")} was missing after an interrupted build; restored the previous bundle from out.qwire-old-${dead}`,
    );
    expect(r.stderr).toContain(`qwire: note: removed out.qwire-new-${dead}, left by an interrupted build`);
    expect(r.stdout).toContain("mail: teardown");
    expect(readdirSync(dir).sort()).toEqual(["out", "qwire.yaml"]);
  });

  it("tears down a qube that lost its last rule, using the plan.json of the previous build", async () => {
    writeFileSync(join(dir, "qwire.yaml"), GOOD);
    await qwire(["build", "-o", "out"], dir);
    writeFileSync(join(dir, "qwire.yaml"), GOOD.replace("  - { to: mail, port: 587, from: [192.168.1.0/24] }\n", ""));
    const r = await qwire(["build", "-o", "out"], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("mail: teardown");
    const plan = JSON.parse(readFileSync(join(dir, "out", "plan.json"), "utf8")) as {
      teardowns: string[];
      targets: string[];
    };
    expect(plan.teardowns).toEqual(["mail"]);
    expect(plan.targets).toContain("mail");
  });

  it("gives the same bytes when run twice", async () => {
    writeFileSync(join(dir, "qwire.yaml"), GOOD);
    await qwire(["build", "-o", "a"], dir);
    await qwire(["build", "-o", "b"], dir);
    for (const f of ["plan.json", "README.md", "install.sh", "salt/qwire/files/sys-net/50-qwire"]) {
      expect(readFileSync(join(dir, "b", f), "utf8")).toBe(readFileSync(join(dir, "a", f), "utf8"));
    }
  });
});

describe("qwire check", () => {
  it("reports every error with file:line:col, the source line and a caret", async () => {
    writeFileSync(
      join(dir, "qwire.yaml"),
      GOOD.replace("netvm: sys-firewall }\n  mail", "netvm: sys-firewal }\n  mail"),
    );
    const r = await qwire(["check"], dir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("qwire.yaml:5:17: error QW3001: qube 'sys-firewal' is not declared under 'qubes'");
    expect(r.stderr).toContain("did you mean 'sys-firewall'?");
    expect(r.stderr).toMatch(/\|\s+\^~+/);
  });

  it("prints diagnostics as JSON with --format json", async () => {
    writeFileSync(
      join(dir, "qwire.yaml"),
      GOOD.replace("from: [192.168.1.0/24] }\n  - { to: mail", "from: [any] }\n  - { to: mail"),
    );
    const r = await qwire(["check", "--format", "json"], dir);
    expect(r.exitCode).toBe(0);
    const diags = JSON.parse(r.stdout) as unknown[];
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatchObject({ file: "qwire.yaml", code: "QW2010", severity: "warning", span: { line: 8 } });
  });

  it("says ok for a good file", async () => {
    writeFileSync(join(dir, "qwire.yaml"), GOOD);
    const r = await qwire(["check"], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("qwire.yaml: ok");
  });
});

describe("usage", () => {
  it("exits 2 on an unknown option or a missing -o", async () => {
    expect((await qwire(["build", "--frobnicate"], dir)).exitCode).toBe(2);
    expect((await qwire(["build", "qwire.yaml"], dir)).exitCode).toBe(2);
  });

  it("exit 4 is plan's 'changes' and explain's 'closed', said in both commands' help and in README's table", async () => {
    const explain = await qwire(["explain", "--help"], dir);
    expect(explain.stdout.replace(/\s+/g, " ")).toContain(
      "4 closed: an answer that needs attention, not a failure (qwire plan's 4, 'something changes', is the same kind).",
    );
    const plan = await qwire(["plan", "--help"], dir);
    expect(plan.stdout.replace(/\s+/g, " ")).toContain(
      "4 something changes: an answer that needs attention, not a failure (qwire explain's 4, 'closed', is the same kind).",
    );
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(readme).toContain(
      "| 4 | an answer that needs attention, not a failure: `qwire plan` the new bundle would change something; `qwire explain` the packet does not get through (closed) |",
    );
  });

  it("explains the commands in --help", async () => {
    const r = await qwire(["--help"], dir);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("build");
    expect(r.stdout).toContain("check");
    expect(r.stdout).toContain("dom0");
  });
});
