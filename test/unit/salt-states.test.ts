/**
 * src/render/salt-states.ts: a state outside DESIGN.md §3's Salt subset does
 * not compile. The lines marked @ts-expect-error below must each be a type
 * error (an unneeded directive is an error itself); this file is compiled by
 * the TypeScript compiler in the first test, so `npm test` proves it.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { oneCommand, saltShell } from "../../src/render/salt-shell.js";
import { state } from "../../src/render/salt-states.js";

const HERE = fileURLToPath(import.meta.url);

/** Never called: only its types matter. */
export function outsideTheSubset(): unknown[] {
  return [
    // @ts-expect-error pkg.installed is not in the subset
    state("pkg.installed", { name: "nginx" }),
    // @ts-expect-error file.managed takes no 'template' (no Jinja in state files)
    state("file.managed", { name: "/etc/x", source: "salt://x", template: "jinja" }),
    // @ts-expect-error a cmd.run name is Shell (oneCommand or a templates/salt/ template), never a plain string
    state("cmd.run", { name: "rm -rf /tmp/x" }),
    // @ts-expect-error an unless is Shell too
    state("cmd.run", { name: oneCommand(["true"]), unless: "test -e /x" }),
    // @ts-expect-error file.blockreplace always says backup: false
    state("file.blockreplace", { name: "/rw/config/rc.local", marker_start: "# a", marker_end: "# b", content: "" }),
    // @ts-expect-error a requisite names a file, cmd or qvm state
    state("file.absent", { name: "/x", require: [{ pkg: "nginx" }] }),
    // @ts-expect-error prereq is not one of the subset's requisites
    state("file.absent", { name: "/x", prereq: [{ file: "y" }] }),
    // @ts-expect-error a source is a salt:// URL
    state("file.managed", { name: "/x", source: "/srv/x" }),
  ];
}

const STRIPPED = join(dirname(HERE), "salt-states-stripped.ts");

/**
 * Type errors ("line: message") of this file and of a copy without its
 * @ts-expect-error lines (in memory), compiled together with the tests' options.
 */
function typeErrors(): { here: string[]; stripped: string[]; marked: number } {
  const source = ts.sys.readFile(HERE)!;
  const marked = source.split("\n").filter((l) => l.trim().startsWith("// @ts-expect-error")).length;
  const stripped = source.replace(/^\s*\/\/ @ts-expect-error.*\n/gm, "");
  const config = ts.getParsedCommandLineOfConfigFile(
    join(dirname(HERE), "../tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  if (!config) throw new Error("test/tsconfig.json is unreadable");
  const host = ts.createCompilerHost(config.options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, target, ...rest) =>
    name === STRIPPED ? ts.createSourceFile(name, stripped, target) : read(name, target, ...rest);
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => name === STRIPPED || exists(name);
  const program = ts.createProgram([HERE, STRIPPED], { ...config.options, noEmit: true }, host);
  const errors = (file: string) =>
    ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map(
        (d) =>
          `${d.start === undefined ? "?" : d.file!.getLineAndCharacterOfPosition(d.start).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
      );
  return { here: errors(HERE), stripped: errors(STRIPPED), marked };
}

describe("typed Salt states", () => {
  const compiled = typeErrors();

  it("every state outside the subset above is a type error", () => {
    expect(compiled.here).toEqual([]);
  });

  it("the check itself: without the directives, each of those lines fails to compile", () => {
    expect(compiled.marked).toBe(8);
    expect(new Set(compiled.stripped.map((e) => e.split(":")[0])).size).toBe(compiled.marked);
  });

  it("writes arguments in Salt's order whatever the object's order, requisites last, and leaves out what is unset", () => {
    const s = state("file.managed", {
      mode: "0644",
      require: [{ file: "dir" }],
      group: "root",
      name: "/x",
      user: "root",
      source: "salt://qwire/x",
      makedirs: true,
    });
    expect(s).toEqual({
      "file.managed": [
        { name: "/x" },
        { source: "salt://qwire/x" },
        { user: "root" },
        { group: "root" },
        { mode: "0644" },
        { makedirs: true },
        { require: [{ file: "dir" }] },
      ],
    });
  });

  it("shell comes from one command's quoted words or a one-line template", () => {
    expect(oneCommand(["qvm-prefs", "-s", "web", "netvm", "a b"])).toBe("qvm-prefs -s web netvm 'a b'");
    expect(saltShell("any-exists", { paths: ["/a", "/b c"] })).toBe("test -e /a || test -e '/b c'");
    expect(saltShell("both-running", { qube: "web", netvm: "sys-firewall" })).toBe(
      "qvm-check --quiet --running web && qvm-check --quiet --running sys-firewall",
    );
  });
});
