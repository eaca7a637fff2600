/**
 * Applies a bundle to the model the way install.sh and qubesctl do
 * (reference/qubes-salt.md §2.2): the dom0 state first (qwire.dom0), then,
 * for every target in plan.json, the pillar rendered in dom0 for that id
 * (pillar/qwire/init.top), and `state.apply qwire.vm` with that pillar.
 * Targets run one after the other (qubesctl runs them in a pool).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join, normalize } from "node:path";
import { SimulateError } from "../errors.js";
import type { Runner } from "../exec.js";
import type { QubesModel } from "../model/network.js";
import { qvmFirewallToNft } from "../model/qvm-firewall.js";
import type { QubeShell } from "./qube-shell.js";
import { renderSls, type RenderJob } from "./render-sls.js";
import { compileChunks, runStates, type StateResult, type StateTarget } from "./salt-subset.js";
import { writeDom0Db, type StubPaths } from "./stubs.js";

export interface TargetApply {
  readonly target: string;
  readonly ok: boolean;
  readonly states: readonly StateResult[];
}

export interface ApplyReport {
  readonly ok: boolean;
  readonly targets: readonly TargetApply[];
}

export interface ApplyEnv {
  readonly runner: Runner;
  readonly model: QubesModel;
  readonly shell: QubeShell;
  readonly stubs: StubPaths;
  /** Where dom0's files (e.g. qrexec policy) land. */
  readonly dom0Root: string;
}

export async function applyBundle(bundle: string, env: ApplyEnv): Promise<ApplyReport> {
  const { model, stubs } = env;
  const planJson = JSON.parse(await readFile(join(bundle, "plan.json"), "utf8")) as {
    targets?: unknown;
    dom0?: { creates?: unknown };
  };
  if (!Array.isArray(planJson.targets)) throw new SimulateError("salt", "plan.json has no targets list");
  const targets = planJson.targets.map(String);
  const saltRoot = join(bundle, "salt");
  const pillarRoot = join(bundle, "pillar");
  const saltFile = (url: string) => {
    const rel = normalize(url.slice("salt://".length));
    if (rel.startsWith("..")) throw new SimulateError("salt", `salt URL ${url} leaves the file roots`);
    return join(saltRoot, rel);
  };
  await writeDom0Db(stubs, model);
  await addTemplates(stubs, planJson);
  const reports: TargetApply[] = [];

  // dom0: state.apply qwire.dom0
  if (existsSync(join(saltRoot, "qwire", "dom0.sls"))) {
    const [rendered] = await renderSls(env.runner, [
      {
        kind: "dom0",
        salt_root: saltRoot,
        sls: "qwire.dom0",
        shell_env: env.shell.dom0Env(),
        qubes_pillar: { type: "admin" },
      },
    ]);
    const target: StateTarget = {
      label: "dom0",
      pillar: {},
      saltFile,
      hostPath: (p) => join(env.dom0Root, absolute(p)),
      qvm: dom0Qvm(model, stubs),
      // dom0's checks (qwire-default-netvm) run against the stubs, as the pillars' lookups do.
      run: (command) => env.shell.dom0Sh(command),
    };
    const states = await runStates(compileChunks(rendered!.docs), target);
    reports.push({ target: "dom0", ok: states.every((s) => s.result), states });
  }

  // VM phase: qubesctl --skip-dom0 --targets=... state.apply qwire.vm
  for (const t of targets) {
    if (!model.has(t))
      throw new SimulateError(
        "model",
        `plan.json targets '${t}', which is not declared in qwire.yaml, so the model has no such qube`,
      );
  }
  const jobs: RenderJob[] = targets.map((t) => {
    const q = model.qube(t as never);
    return {
      kind: "target",
      id: t,
      salt_root: saltRoot,
      pillar_root: pillarRoot,
      pillar_top: "qwire/init.top",
      sls: "qwire.vm",
      shell_env: env.shell.dom0Env(),
      qubes_pillar: { type: "app", netvm: q.netvm ?? "None", features: {}, tags: [] },
    };
  });
  const rendered = existsSync(join(pillarRoot, "qwire", "init.top")) ? await renderSls(env.runner, jobs) : [];
  for (const [i, t] of targets.entries()) {
    const q = model.qube(t as never);
    const r = rendered[i];
    if (!r) throw new SimulateError("salt", "the bundle has no pillar/qwire/init.top");
    const target: StateTarget = {
      label: t,
      pillar: r.pillar,
      saltFile,
      hostPath: (p) => {
        const abs = absolute(p);
        // /run: volatile by design (the teardown script, Salt-mode notes).
        if (abs.startsWith("/run/")) return join(q.runDir, abs.slice(4));
        if (abs !== "/rw" && !abs.startsWith("/rw/")) {
          throw new SimulateError(
            "salt",
            `the state for ${t} writes ${p}, outside /rw and /run: an AppVM loses it at the next reboot, and the model only has /rw and /run`,
          );
        }
        return join(q.rwDir, abs.slice(3));
      },
      run: (command) => env.shell.sh(q, command),
    };
    const states = await runStates(compileChunks(r.docs), target);
    reports.push({ target: t, ok: states.every((s) => s.result), states });
  }
  return { ok: reports.every((r) => r.ok), targets: reports };
}

/**
 * The templates the qubes qwire creates are made from: the model's machine has
 * them (as it has every qube qwire.yaml declares), so dom0's check that a
 * template exists (qvm-check) finds them.
 */
async function addTemplates(stubs: StubPaths, planJson: { dom0?: { creates?: unknown } }): Promise<void> {
  const creates = Array.isArray(planJson.dom0?.creates) ? (planJson.dom0.creates as { template?: unknown }[]) : [];
  for (const c of creates) {
    if (
      typeof c.template !== "string" ||
      !/^[A-Za-z][A-Za-z0-9_.-]{0,30}$/.test(c.template) ||
      existsSync(join(stubs.db, c.template))
    )
      continue;
    await mkdir(join(stubs.db, c.template, "prefs"), { recursive: true });
    await writeFile(join(stubs.db, c.template, "prefs", "name"), `${c.template}\n`);
  }
}

function absolute(p: string): string {
  if (!p.startsWith("/")) throw new SimulateError("salt", `state path ${p} is not absolute`);
  return normalize(p);
}

function dom0Qvm(model: QubesModel, stubs: StubPaths): NonNullable<StateTarget["qvm"]> {
  return {
    async prefs(vm, key, value) {
      if (!model.has(vm)) return { changed: false, error: `no such domain: '${vm}'` };
      const q = model.qube(vm as never);
      const k = key.replace(/-/g, "_");
      const modelled: Record<string, string> = {
        netvm: q.netvm ?? "",
        provides_network: String(q.providesNetwork),
        ip: q.ip,
      };
      // '*default*' resets the property: for netvm, dom0's default_netvm.
      const reset = value === "*default*" && k === "netvm" ? (model.defaultNetvm ?? "") : value;
      const wanted =
        reset === null || reset === undefined || reset === "None"
          ? ""
          : typeof reset === "string"
            ? reset
            : JSON.stringify(reset);
      if (k in modelled) {
        if (modelled[k] !== wanted) {
          return {
            changed: false,
            error: `qvm.prefs sets ${vm} ${key} to '${wanted}', but qwire.yaml (and the model built from it) says '${modelled[k]}'`,
          };
        }
        return { changed: false };
      }
      const file = join(stubs.db, vm, "prefs", k);
      const before = existsSync(file) ? (await readFile(file, "utf8")).trim() : undefined;
      await writeFile(file, `${wanted}\n`);
      return { changed: before !== wanted };
    },
    async firewall(vm, rules) {
      if (!model.has(vm)) return { changed: false, error: `no such domain: '${vm}'` };
      const q = model.qube(vm as never);
      const nft = qvmFirewallToNft(rules);
      const nft6 = qvmFirewallToNft(rules, 6);
      const changed = JSON.stringify([q.firewallRules, q.firewallRules6]) !== JSON.stringify([nft, nft6]);
      if (changed) await model.setFirewallRules(q.name, nft, nft6);
      return { changed };
    },
    present(vm) {
      // The model holds every qube of qwire.yaml, so each one qwire creates exists already (what qvm.present says then).
      if (!model.has(vm))
        return Promise.resolve({
          changed: false,
          comment: "",
          error: `qvm.present names '${vm}', which qwire.yaml does not declare, so the model has no such qube`,
        });
      return Promise.resolve({ changed: false, comment: `[SKIP] A VM with the name '${vm}' already exists.` });
    },
    async features(vm, feature, value) {
      const dir = join(stubs.db, vm, "features");
      await mkdir(dir, { recursive: true });
      const file = join(dir, feature);
      const before = existsSync(file) ? await readFile(file, "utf8") : undefined;
      if (value === undefined) {
        await rm(file, { force: true });
        return before !== undefined;
      }
      await writeFile(file, value);
      return before !== value;
    },
  };
}

/** Every file of a qube's /rw, for reports and tests. */
export async function listRw(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  await walk("");
  return out.sort();
}
