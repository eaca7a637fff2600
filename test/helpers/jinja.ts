/**
 * Renders Salt SLS text the way dom0's Salt would, with the real Jinja2 of
 * Debian's python3-jinja2 (/usr/bin/python3), then parses the result with
 * python3-yaml (the YAML loader Salt uses). `salt['cmd.shell']` really runs
 * the command with /bin/sh, with a stub `qvm-prefs` first on PATH that
 * answers from a table and records every call.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
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
 * - cmd.run_all: like Salt's from Jinja: no shell (python_shell is off), a
 *   dict of retcode, stdout, stderr (right-stripped).
 * - cp.list_states: the state names given as "states" (salt-ssh lists them
 *   from the master's file roots).
 */
const DRIVER = String.raw`
import json, shlex, subprocess, sys
import jinja2, yaml

req = json.load(sys.stdin)

def cmd_shell(cmd, **_kwargs):
    p = subprocess.run(["/bin/sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.stdout.rstrip()

def cmd_run_all(cmd, ignore_retcode=False):
    p = subprocess.run(shlex.split(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return {"retcode": p.returncode, "stdout": p.stdout.rstrip(), "stderr": p.stderr.rstrip()}

salt = {"cmd.shell": cmd_shell, "cmd.run_all": cmd_run_all, "cp.list_states": lambda saltenv="base": req["states"]}
env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
text = env.from_string(req["template"]).render(salt=salt, grains=req["grains"], pillar={}, saltenv="user")
try:
    print(json.dumps({"text": text, "data": yaml.safe_load(text)}))
except yaml.YAMLError as e:
    print(json.dumps({"text": text, "yaml_error": str(e)}))
`;

/**
 * A POSIX sh `case` arm per qube; unknown qubes fail like qvm-prefs does.
 * A qube in $QWT_STATE/answers/ answers with the stdout, stderr and exit
 * code stored there instead (any bytes: error texts under test).
 */
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
answer=$QWT_STATE/answers/$2
if [ -d "$answer" ]; then
	cat "$answer/stdout"
	cat "$answer/stderr" >&2
	exit "$(cat "$answer/code")"
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

/** What the stub qvm-prefs prints and exits with for one qube, whatever the property. */
export interface QvmPrefsAnswer {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/**
 * Renders one SLS/top text; `ips` is what the stub qvm-prefs knows, `answers`
 * overrides it per qube, `states` is what cp.list_states returns.
 */
export async function renderSls(
  template: string,
  opts: {
    ips?: Readonly<Record<string, string>>;
    answers?: Readonly<Record<string, QvmPrefsAnswer>>;
    grains?: Readonly<Record<string, unknown>>;
    states?: readonly string[];
  } = {},
): Promise<Rendered> {
  const state = await tempDir("jinja");
  try {
    await writeExecutable(join(state, "bin", "qvm-prefs"), qvmPrefsStub(opts.ips ?? {}));
    for (const [qube, a] of Object.entries(opts.answers ?? {})) {
      const dir = join(state, "answers", qube);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "stdout"), a.stdout);
      await writeFile(join(dir, "stderr"), a.stderr);
      await writeFile(join(dir, "code"), `${a.code}\n`);
    }
    const driver = join(state, "driver.py");
    await writeFile(driver, DRIVER);
    const r = await execa(PYTHON, [driver], {
      input: JSON.stringify({ template, grains: opts.grains ?? {}, states: opts.states ?? [] }),
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
