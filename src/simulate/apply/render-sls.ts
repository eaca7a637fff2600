/**
 * Renders the bundle's SLS and top files the way Salt does (Jinja, then
 * YAML), with Debian's python3-jinja2 and python3-yaml run by
 * /usr/bin/python3, in one process per call:
 *
 * - a pillar is rendered in dom0 for one minion id, so `salt['cmd.shell']`
 *   runs there, against the stub qvm-prefs/qvm-check/qvm-features;
 * - a state is rendered with the target's grains (`grains['id']`) and its
 *   pillar; of `salt[...]` only `cp.list_states` is modelled (the states
 *   under the bundle's salt root, as salt-ssh's wrapper lists them from the
 *   master), which vm.sls asks before including a qube's state.
 *
 * Anything outside that (another salt function, a match: entry in a top
 * file, an undefined variable) fails loudly.
 */
import type { Runner } from "../exec.js";
import { SimulateError } from "../errors.js";

export const PYTHON = "/usr/bin/python3";

const RENDERER = String.raw`
import fnmatch, json, os, shlex, subprocess, sys
import jinja2, yaml

req = json.load(sys.stdin)

class Refused(Exception):
    pass

def get_path(data, key, default=""):
    cur = data
    for part in key.split(":"):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return default
    return cur

def list_states(root):
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if not f.endswith(".sls"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f[:-4]), root).replace(os.sep, ".")
            found.append(rel[:-5] if rel.endswith(".init") else rel)
    return sorted(found)

class Salt(dict):
    def __init__(self, shell_env, pillar, grains, root):
        super().__init__()
        self.shell_env = shell_env
        self["cp.list_states"] = lambda saltenv="base": list_states(root)
        self["pillar.get"] = lambda key, default="": get_path(pillar, key, default)
        self["grains.get"] = lambda key, default="": get_path(grains, key, default)
        if shell_env is not None:
            self["cmd.shell"] = self.shell
            self["cmd.run"] = self.shell
            self["cmd.run_all"] = self.run_all
    def shell(self, cmd, *args, **kwargs):
        if args or kwargs:
            raise Refused("salt['cmd.shell'] with arguments besides the command is not modelled")
        p = subprocess.run(["/bin/sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.shell_env)
        return p.stdout.decode().rstrip()
    def run_all(self, cmd, ignore_retcode=False):
        # Salt's cmd.run_all from Jinja: no shell (python_shell is off), output right-stripped.
        p = subprocess.run(shlex.split(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.shell_env)
        return {"retcode": p.returncode, "stdout": p.stdout.decode().rstrip(), "stderr": p.stderr.decode().rstrip()}
    def __missing__(self, key):
        if self.shell_env is None and key in ("cmd.shell", "cmd.run"):
            raise Refused("salt['%s'] in a state rendered for a qube runs in that qube at render time; the simulator does not model it" % key)
        raise Refused("salt['%s'] is not in the subset the simulator models" % key)

def render(root, relpath, grains, pillar, shell_env):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(root), undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    text = env.get_template(relpath).render(salt=Salt(shell_env, pillar, grains, root), grains=grains, pillar=pillar, saltenv="user", sls=relpath)
    return yaml.safe_load(text) or {}

def sls_file(root, name):
    base = name.replace(".", "/")
    for cand in (base + ".sls", base + "/init.sls"):
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    raise Refused("no SLS file for '%s' under %s" % (name, root))

def render_sls(root, name, grains, pillar, shell_env, seen, out):
    if name in seen:
        return
    seen.add(name)
    data = render(root, sls_file(root, name), grains, pillar, shell_env)
    if not isinstance(data, dict):
        raise Refused("%s does not render to a mapping" % name)
    includes = data.pop("include", [])
    for inc in includes:
        if not isinstance(inc, str):
            raise Refused("include entry %r in %s is not modelled" % (inc, name))
        render_sls(root, inc, grains, pillar, shell_env, seen, out)
    out.append({"sls": name, "data": data})

def merge(a, b):
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            merge(a[k], v)
        else:
            a[k] = v
    return a

def pillar_for(job):
    grains = {"id": job["id"]}
    top = render(job["pillar_root"], job["pillar_top"], grains, {}, job["shell_env"])
    pillar = {}
    for saltenv, targets in (top or {}).items():
        for pattern, entries in (targets or {}).items():
            if not fnmatch.fnmatchcase(job["id"], pattern):
                continue
            for entry in entries:
                if not isinstance(entry, str):
                    raise Refused("pillar top entry %r (a match: or other option) is not modelled" % (entry,))
                out = []
                render_sls(job["pillar_root"], entry, grains, {}, job["shell_env"], set(), out)
                for doc in out:
                    merge(pillar, doc["data"])
    merge(pillar, {"qubes": job["qubes_pillar"]})
    return pillar

results = []
for job in req:
    try:
        if job["kind"] == "target":
            pillar = pillar_for(job)
            out = []
            render_sls(job["salt_root"], job["sls"], {"id": job["id"]}, pillar, None, set(), out)
            results.append({"ok": True, "pillar": pillar, "docs": out})
        else:
            out = []
            render_sls(job["salt_root"], job["sls"], {"id": "dom0"}, {"qubes": job["qubes_pillar"]}, job["shell_env"], set(), out)
            results.append({"ok": True, "pillar": {}, "docs": out})
    except (Refused, jinja2.TemplateError, yaml.YAMLError, OSError) as e:
        results.append({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
json.dump(results, sys.stdout, default=str)
`;

export interface SlsDoc {
  readonly sls: string;
  readonly data: Record<string, unknown>;
}

export interface Rendered {
  readonly pillar: Record<string, unknown>;
  readonly docs: readonly SlsDoc[];
}

export type RenderJob =
  | {
      readonly kind: "target";
      readonly id: string;
      readonly salt_root: string;
      readonly pillar_root: string;
      readonly pillar_top: string;
      readonly sls: string;
      readonly shell_env: Record<string, string>;
      readonly qubes_pillar: Record<string, unknown>;
    }
  | {
      readonly kind: "dom0";
      readonly salt_root: string;
      readonly sls: string;
      readonly shell_env: Record<string, string>;
      readonly qubes_pillar: Record<string, unknown>;
    };

/** Renders every job in one python process; a job that cannot render becomes a SimulateError naming it. */
export async function renderSls(runner: Runner, jobs: readonly RenderJob[]): Promise<Rendered[]> {
  if (jobs.length === 0) return [];
  const r = await runner.run(PYTHON, ["-c", RENDERER], { input: JSON.stringify(jobs), check: false });
  if (r.exitCode !== 0) throw new SimulateError("salt", `rendering the bundle's Jinja failed: ${r.stderr.trim()}`);
  const results = JSON.parse(r.stdout) as (
    { ok: true; pillar: Record<string, unknown>; docs: SlsDoc[] } | { ok: false; error: string }
  )[];
  return results.map((res, i) => {
    if (!res.ok) {
      const job = jobs[i]!;
      throw new SimulateError(
        "salt",
        `rendering ${job.sls} for ${job.kind === "target" ? job.id : "dom0"} failed: ${res.error}`,
      );
    }
    return { pillar: res.pillar, docs: res.docs };
  });
}
