/**
 * Renders Salt SLS text the way dom0's Salt would, with the real Jinja2 of
 * Debian's python3-jinja2 (/usr/bin/python3), then parses the result with
 * python3-yaml (the YAML loader Salt uses). `salt['cmd.shell']` really runs
 * the command with /bin/sh, with a stub `qvm-prefs` first on PATH that
 * answers from a table and records every call.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { PYTHON, SYSTEM_PATH, removeDir, tempDir, writeExecutable } from "./tools.js";

/**
 * The Python side. Reads {template, grains} as JSON on stdin, prints
 * {text, data} or {text, yaml_error} as JSON.
 * - StrictUndefined, as Salt renders SLS with it: a typo in a variable fails.
 * - keep_trailing_newline: Salt puts back the template's final newline.
 * - cmd.shell: like Salt's cmd.run, stderr is merged into stdout and the
 *   result is right-stripped; the exit code is ignored.
 */
const DRIVER = String.raw`
import json, subprocess, sys
import jinja2, yaml

req = json.load(sys.stdin)

def cmd_shell(cmd, **_kwargs):
    p = subprocess.run(["/bin/sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.stdout.rstrip()

env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
text = env.from_string(req["template"]).render(salt={"cmd.shell": cmd_shell}, grains=req["grains"], pillar={})
try:
    print(json.dumps({"text": text, "data": yaml.safe_load(text)}))
except yaml.YAMLError as e:
    print(json.dumps({"text": text, "yaml_error": str(e)}))
`;

/** A POSIX sh `case` arm per qube; unknown qubes fail like qvm-prefs does. */
function qvmPrefsStub(ips: Readonly<Record<string, string>>): string {
  const arms = Object.entries(ips).map(([qube, ip]) => `'${qube}') echo '${ip}' ;;`);
  return `#!/bin/sh
printf '%s\\n' "$*" >>"$QWT_STATE/qvm-prefs-calls"
# R3.2's get form: qvm-prefs -g -- NAME ip
if [ "$#" -eq 4 ] && [ "$1" = -g ]; then
	shift
fi
if [ "$#" -ne 3 ] || [ "$1" != -- ] || [ "$3" != ip ]; then
	echo "qvm-prefs stub: only 'qvm-prefs [-g] -- NAME ip' is known, got: $*" >&2
	exit 2
fi
case $2 in
${arms.join("\n")}
*)
	echo "qvm-prefs: error: no such domain: '$2'" >&2
	exit 1
	;;
esac
`;
}

export interface Rendered {
  /** The text Jinja produced. */
  readonly text: string;
  /** What yaml.safe_load made of it (absent when it did not parse). */
  readonly data?: unknown;
  readonly yamlError?: string;
  /** Arguments of each `qvm-prefs` call, in order ("-- web ip"). */
  readonly qvmPrefsCalls: readonly string[];
}

/** Renders one SLS/top text; `ips` is what the stub qvm-prefs knows. */
export async function renderSls(template: string, opts: { ips?: Readonly<Record<string, string>>; grains?: Readonly<Record<string, unknown>> } = {}): Promise<Rendered> {
  const state = await tempDir("jinja");
  try {
    await writeExecutable(join(state, "bin", "qvm-prefs"), qvmPrefsStub(opts.ips ?? {}));
    const driver = join(state, "driver.py");
    await writeFile(driver, DRIVER);
    const r = await execa(PYTHON, [driver], {
      input: JSON.stringify({ template, grains: opts.grains ?? {} }),
      extendEnv: false,
      env: { PATH: `${join(state, "bin")}:${SYSTEM_PATH}`, QWT_STATE: state },
    });
    const out = JSON.parse(r.stdout) as { text: string; data?: unknown; yaml_error?: string };
    const calls = await readFile(join(state, "qvm-prefs-calls"), "utf8").catch(() => "");
    return {
      text: out.text,
      ...(out.yaml_error === undefined ? { data: out.data } : { yamlError: out.yaml_error }),
      qvmPrefsCalls: calls.split("\n").filter(Boolean),
    };
  } finally {
    await removeDir(state);
  }
}

/**
 * Parses each file with python3-yaml's safe_load; returns "<path>: <error>"
 * for each file that does not parse (empty when all do).
 */
export async function yamlErrors(paths: readonly string[]): Promise<string[]> {
  const script = String.raw`
import json, sys, yaml
errors = []
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            yaml.safe_load(f)
    except Exception as e:
        errors.append(path + ": " + str(e))
print(json.dumps(errors))
`;
  const r = await execa(PYTHON, ["-c", script, ...paths]);
  return JSON.parse(r.stdout) as string[];
}
