/**
 * A small interpreter of exactly the Salt subset of DESIGN.md §3:
 * file.managed, file.absent, file.directory, file.blockreplace (R4.1 and
 * older), cmd.run, qvm.prefs, qvm.features, qvm.firewall and qvm.present, with the requisites require, onchanges and watch. Anything
 * else (another state function, an unknown argument, a requisite that names
 * no state) is a SimulateError: the bundle left the subset qwire promises.
 *
 * Order follows Salt: states run in the order they are declared, each after
 * what it requires; a state whose requisite failed does not run; an
 * onchanges state runs only if one of the states it names changed something.
 */
import { chmod, lstat, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { SimulateError } from "../errors.js";
import type { RunResult } from "../exec.js";
import type { SlsDoc } from "./render-sls.js";

const REQUISITES = ["require", "onchanges", "watch"] as const;
type Requisite = (typeof REQUISITES)[number];

/** Arguments each function accepts (besides the requisites). */
const ALLOWED: Record<string, readonly string[] | "any"> = {
  "file.managed": ["name", "source", "contents", "contents_pillar", "mode", "user", "group", "makedirs", "replace"],
  // R4.1 and older only (DESIGN.md §3): qwire's marked block in the user's rc.local.
  "file.blockreplace": [
    "name",
    "marker_start",
    "marker_end",
    "content",
    "append_if_not_found",
    "prepend_if_not_found",
    "backup",
  ],
  "file.absent": ["name"],
  "file.directory": ["name", "user", "group", "mode", "makedirs"],
  "cmd.run": ["name", "onlyif", "unless", "stateful"],
  "qvm.prefs": "any",
  "qvm.firewall": ["name", "set"],
  "qvm.features": ["name", "set", "enable", "disable", "default", "unset"],
  // Qubes qwire.yaml asks dom0 to create when missing (`create:`).
  "qvm.present": ["name", "class", "template", "label"],
};

export interface Chunk {
  readonly id: string;
  readonly sls: string;
  readonly module: string;
  readonly fun: string;
  readonly name: string;
  readonly args: ReadonlyMap<string, unknown>;
  readonly requisites: readonly { readonly kind: Requisite; readonly module: string; readonly ref: string }[];
}

export interface StateResult {
  readonly id: string;
  readonly function: string;
  readonly name: string;
  /** false = failed; true = succeeded or nothing to do. */
  readonly result: boolean;
  readonly changed: boolean;
  readonly comment: string;
}

/** What the states act on: a qube's files and shell, or dom0's qvm-* database. */
export interface StateTarget {
  readonly label: string;
  readonly pillar: Record<string, unknown>;
  /** A salt:// URL to a host path. */
  saltFile(url: string): string;
  /** An absolute path in the target to a host path; throws SimulateError when the model has no such place. */
  hostPath(path: string): string;
  run?(command: string): Promise<RunResult>;
  qvm?: {
    prefs(vm: string, key: string, value: unknown): Promise<{ changed: boolean; error?: string }>;
    features(vm: string, feature: string, value: string | undefined): Promise<boolean>;
    firewall(vm: string, rules: readonly string[]): Promise<{ changed: boolean; error?: string }>;
    /** qvm.present: create `vm` unless it exists. */
    present(vm: string): Promise<{ changed: boolean; comment: string; error?: string }>;
  };
}

/** A YAML value as text: a scalar as String() writes it, anything else as JSON (never "[object Object]"). */
function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  return JSON.stringify(v);
}

/** Rendered SLS documents to ordered chunks, refusing anything outside the subset. */
export function compileChunks(docs: readonly SlsDoc[]): Chunk[] {
  const chunks: Chunk[] = [];
  for (const doc of docs) {
    for (const [id, body] of Object.entries(doc.data)) {
      if (body === null || typeof body !== "object" || Array.isArray(body))
        throw refuse(`state '${id}' in ${doc.sls} is not a mapping of state functions`);
      for (const [key, rawArgs] of Object.entries(body as Record<string, unknown>)) {
        if (!Array.isArray(rawArgs))
          throw refuse(`state '${id}' in ${doc.sls}: '${key}' does not hold a list of arguments`);
        const [module, named] = key.split(".", 2) as [string, string | undefined];
        let fun = named;
        const args = new Map<string, unknown>();
        for (const item of rawArgs as unknown[]) {
          if (typeof item === "string" && fun === undefined) fun = item;
          else if (
            item !== null &&
            typeof item === "object" &&
            !Array.isArray(item) &&
            Object.keys(item).length === 1
          ) {
            const [k, v] = Object.entries(item as Record<string, unknown>)[0]!;
            args.set(k, v);
          } else throw refuse(`state '${id}' in ${doc.sls}: argument ${JSON.stringify(item)} is not a one-key mapping`);
        }
        const fn = `${module}.${fun}`;
        const allowed = ALLOWED[fn];
        if (!allowed)
          throw refuse(`state '${id}' in ${doc.sls} uses ${fn}, which is not in qwire's Salt subset (DESIGN.md §3)`);
        const requisites: Chunk["requisites"][number][] = [];
        for (const [k, v] of args) {
          if ((REQUISITES as readonly string[]).includes(k)) {
            if (!Array.isArray(v)) throw refuse(`state '${id}': ${k} must be a list`);
            for (const r of v as unknown[]) {
              if (r === null || typeof r !== "object" || Object.keys(r).length !== 1)
                throw refuse(`state '${id}': ${k} entry ${JSON.stringify(r)} is not '- module: id'`);
              const [m, ref] = Object.entries(r as Record<string, unknown>)[0]!;
              requisites.push({ kind: k as Requisite, module: m, ref: String(ref) });
            }
            continue;
          }
          if (allowed !== "any" && !allowed.includes(k))
            throw refuse(`state '${id}' (${fn}) has the argument '${k}', which is not in qwire's Salt subset`);
          if (allowed === "any" && /^(onchanges|watch|require)_in$|^(prereq|use|listen|onfail)/.test(k))
            throw refuse(`state '${id}': requisite '${k}' is not in qwire's Salt subset`);
        }
        for (const k of REQUISITES) args.delete(k);
        chunks.push({ id, sls: doc.sls, module, fun: fun!, name: text(args.get("name") ?? id), args, requisites });
      }
    }
  }
  return chunks;
}

/** Runs the chunks in Salt's order; never throws for a failed state, only for a bundle outside the subset. */
export async function runStates(chunks: readonly Chunk[], target: StateTarget): Promise<StateResult[]> {
  const results = new Map<Chunk, StateResult>();
  const running = new Set<Chunk>();
  const find = (from: Chunk, module: string, ref: string): Chunk[] => {
    const hits =
      module === "sls"
        ? chunks.filter((c) => c.sls === ref)
        : chunks.filter((c) => c.module === module && (c.id === ref || c.name === ref));
    if (hits.length === 0)
      throw refuse(
        `state '${from.id}' requires ${module}: ${ref}, which no state in ${target.label}'s highstate declares`,
      );
    return hits;
  };
  const visit = async (c: Chunk): Promise<StateResult> => {
    const done = results.get(c);
    if (done) return done;
    if (running.has(c)) throw refuse(`requisite loop through state '${c.id}'`);
    running.add(c);
    const deps: { kind: Requisite; result: StateResult }[] = [];
    for (const r of c.requisites)
      for (const d of find(c, r.module, r.ref)) deps.push({ kind: r.kind, result: await visit(d) });
    let result: StateResult;
    const base = { id: c.id, function: `${c.module}.${c.fun}`, name: c.name };
    if (deps.some((d) => !d.result.result)) {
      result = { ...base, result: false, changed: false, comment: "one or more requisite failed" };
    } else if (
      c.requisites.some((r) => r.kind === "onchanges") &&
      !deps.some((d) => d.kind === "onchanges" && d.result.changed)
    ) {
      result = { ...base, result: true, changed: false, comment: "no changes in its onchanges requisites: not run" };
    } else {
      result = { ...base, ...(await execute(c, target)) };
    }
    running.delete(c);
    results.set(c, result);
    return result;
  };
  for (const c of chunks) await visit(c);
  return chunks.map((c) => results.get(c)!);
}

type Outcome = { result: boolean; changed: boolean; comment: string };

async function execute(c: Chunk, t: StateTarget): Promise<Outcome> {
  const fn = `${c.module}.${c.fun}`;
  switch (fn) {
    case "file.managed":
      return fileManaged(c, t);
    case "file.directory":
      return fileDirectory(c, t);
    case "file.blockreplace":
      return fileBlockreplace(c, t);
    case "file.absent": {
      const path = t.hostPath(c.name);
      const existed = await exists(path);
      await rm(path, { recursive: true, force: true });
      return { result: true, changed: existed, comment: existed ? "removed" : "already absent" };
    }
    case "cmd.run":
      return cmdRun(c, t);
    case "qvm.prefs": {
      if (!t.qvm) throw refuse(`qvm.prefs in '${c.id}' targets ${t.label}; it only works in dom0`);
      let changed = false;
      for (const [k, v] of c.args) {
        if (k === "name") continue;
        const r = await t.qvm.prefs(c.name, k, v);
        if (r.error) return { result: false, changed, comment: r.error };
        changed ||= r.changed;
      }
      return { result: true, changed, comment: changed ? "prefs set" : "prefs already as wanted" };
    }
    case "qvm.firewall": {
      if (!t.qvm) throw refuse(`qvm.firewall in '${c.id}' targets ${t.label}; it only works in dom0`);
      const set = c.args.get("set");
      if (!Array.isArray(set) || set.some((r) => typeof r !== "string"))
        throw refuse(`'${c.id}': qvm.firewall needs 'set:' with a list of rule strings`);
      const r = await t.qvm.firewall(c.name, set as string[]);
      return r.error
        ? { result: false, changed: false, comment: r.error }
        : { result: true, changed: r.changed, comment: r.changed ? "rules set" : "all requested rules already set" };
    }
    case "qvm.present": {
      if (!t.qvm) throw refuse(`qvm.present in '${c.id}' targets ${t.label}; it only works in dom0`);
      const r = await t.qvm.present(c.name);
      return r.error
        ? { result: false, changed: false, comment: r.error }
        : { result: true, changed: r.changed, comment: r.comment };
    }
    case "qvm.features": {
      if (!t.qvm) throw refuse(`qvm.features in '${c.id}' targets ${t.label}; it only works in dom0`);
      let changed = false;
      const list = (k: string) => (c.args.get(k) ?? []) as unknown[];
      for (const item of list("set"))
        for (const [k, v] of Object.entries(item as Record<string, unknown>))
          changed = (await t.qvm.features(c.name, k, String(v))) || changed;
      for (const f of list("enable")) changed = (await t.qvm.features(c.name, String(f), "1")) || changed;
      for (const f of list("disable")) changed = (await t.qvm.features(c.name, String(f), "")) || changed;
      for (const f of [...list("default"), ...list("unset")])
        changed = (await t.qvm.features(c.name, String(f), undefined)) || changed;
      return { result: true, changed, comment: "features" };
    }
  }
  throw refuse(`${fn} is not in qwire's Salt subset`);
}

async function fileManaged(c: Chunk, t: StateTarget): Promise<Outcome> {
  owner(c);
  const sources = ["source", "contents", "contents_pillar"].filter((k) => c.args.has(k));
  if (sources.length !== 1)
    return {
      result: false,
      changed: false,
      comment: `file.managed needs exactly one of source, contents, contents_pillar (got ${sources.join(", ") || "none"})`,
    };
  let content: string;
  if (c.args.has("source")) {
    const url = c.args.get("source");
    if (typeof url !== "string" || !url.startsWith("salt://"))
      throw refuse(`'${c.id}': source ${JSON.stringify(url)} is not a single salt:// URL`);
    try {
      content = await readFile(t.saltFile(url), "utf8");
    } catch {
      return { result: false, changed: false, comment: `source file not found: ${url}` };
    }
  } else if (c.args.has("contents")) {
    content = String(c.args.get("contents"));
  } else {
    const key = String(c.args.get("contents_pillar"));
    const value = lookup(t.pillar, key);
    if (value === undefined) return { result: false, changed: false, comment: `pillar key ${key} is not set` };
    content = text(value);
  }
  // file.managed's contents_newline (default True) ends non-empty contents with a newline.
  if (!c.args.has("source") && content !== "" && !content.endsWith("\n")) content += "\n";
  const path = t.hostPath(c.name);
  const parent = dirname(path);
  if (!(await exists(parent))) {
    if (c.args.get("makedirs") !== true)
      return {
        result: false,
        changed: false,
        comment: `parent directory of ${c.name} does not exist (and makedirs is not set)`,
      };
    await mkdir(parent, { recursive: true });
  }
  const before = (await exists(path)) ? await readFile(path, "utf8") : undefined;
  // replace: False only creates a missing file; an existing one keeps its content (mode still applies).
  if (c.args.get("replace") === false && before !== undefined) content = before;
  let changed = before !== content;
  if (changed) await writeFile(path, content);
  changed = (await applyMode(c, path)) || changed;
  return { result: true, changed, comment: changed ? "file updated" : "file is in the correct state" };
}

/**
 * Salt's file.blockreplace: the lines between the line holding marker_start
 * and the next line holding marker_end become `content`; markers missing
 * means append (or prepend) the whole block when asked to, else failure.
 */
async function fileBlockreplace(c: Chunk, t: StateTarget): Promise<Outcome> {
  const path = t.hostPath(c.name);
  if (!(await exists(path))) return { result: false, changed: false, comment: `${c.name}: file not found` };
  const start = String(c.args.get("marker_start"));
  const end = String(c.args.get("marker_end"));
  let body = text(c.args.get("content") ?? "");
  if (body !== "" && !body.endsWith("\n")) body += "\n";
  const before = await readFile(path, "utf8");
  const lines = before.split("\n");
  const first = lines.findIndex((l) => l.includes(start));
  const last = first === -1 ? -1 : lines.findIndex((l, i) => i > first && l.includes(end));
  let after: string;
  if (first !== -1 && last !== -1) {
    after = [
      ...lines.slice(0, first + 1),
      ...(body === "" ? [] : body.slice(0, -1).split("\n")),
      ...lines.slice(last),
    ].join("\n");
  } else if (c.args.get("append_if_not_found") === true) {
    after = `${before === "" || before.endsWith("\n") ? before : `${before}\n`}${start}\n${body}${end}\n`;
  } else if (c.args.get("prepend_if_not_found") === true) {
    after = `${start}\n${body}${end}\n${before}`;
  } else {
    return { result: false, changed: false, comment: `${c.name}: markers not found` };
  }
  if (after !== before) await writeFile(path, after);
  return {
    result: true,
    changed: after !== before,
    comment: after !== before ? "block updated" : "block is in the correct state",
  };
}

async function fileDirectory(c: Chunk, t: StateTarget): Promise<Outcome> {
  owner(c);
  const path = t.hostPath(c.name);
  let changed = false;
  if (!(await exists(path))) {
    if (!(await exists(dirname(path))) && c.args.get("makedirs") !== true)
      return { result: false, changed: false, comment: `parent directory of ${c.name} does not exist` };
    await mkdir(path, { recursive: true });
    changed = true;
  } else if (!(await stat(path)).isDirectory()) {
    return { result: false, changed: false, comment: `${c.name} exists and is not a directory` };
  }
  changed = (await applyMode(c, path)) || changed;
  return { result: true, changed, comment: changed ? "directory updated" : "directory is in the correct state" };
}

async function cmdRun(c: Chunk, t: StateTarget): Promise<Outcome> {
  if (!t.run) throw refuse(`cmd.run in '${c.id}' targets ${t.label}; the simulator runs commands only inside qubes`);
  const list = (k: string) => {
    const v = c.args.get(k);
    return v === undefined ? [] : Array.isArray(v) ? v.map(text) : [text(v)];
  };
  const onlyif = list("onlyif");
  for (const cmd of onlyif)
    if ((await t.run(cmd)).exitCode !== 0)
      return { result: true, changed: false, comment: `onlyif condition is false: ${cmd}` };
  const unless = list("unless");
  if (unless.length > 0) {
    let all = true;
    for (const cmd of unless) if ((await t.run(cmd)).exitCode !== 0) all = false;
    if (all) return { result: true, changed: false, comment: "unless condition is true" };
  }
  const r = await t.run(c.name);
  if (c.args.has("stateful")) return { ...statefulOutcome(c, r.stdout), result: r.exitCode === 0 };
  const output = `${r.stdout}${r.stderr}`.trim();
  return { result: r.exitCode === 0, changed: true, comment: `exit ${r.exitCode}${output ? `: ${output}` : ""}` };
}

/**
 * Salt's `stateful: True` protocol (salt/states/cmd.py): the last line of
 * stdout is `name=value` pairs split like a shell would; `changed` says
 * whether anything changed and `comment` becomes the state's comment. A
 * line that does not parse fails the state, as in Salt. (test_name only
 * matters under test=True, which the simulator does not run.)
 */
function statefulOutcome(c: Chunk, stdout: string): Outcome {
  const stateful = c.args.get("stateful");
  if (
    stateful !== true &&
    !(
      Array.isArray(stateful) &&
      stateful.length === 1 &&
      typeof (stateful[0] as Record<string, unknown>)?.test_name === "string"
    )
  ) {
    throw refuse(`'${c.id}': stateful must be True or [{test_name: COMMAND}]`);
  }
  const last = stdout.trimEnd().split("\n").pop() ?? "";
  if (last === "") return { result: true, changed: false, comment: "" };
  const pairs = new Map<string, string>();
  for (const word of shellWords(last) ?? [""]) {
    const parts = word.split("=");
    if (parts.length !== 2)
      return {
        result: false,
        changed: false,
        comment: "Failed parsing script output! Stdout must be JSON or a line of name=value pairs.",
      };
    pairs.set(parts[0]!, parts[1]!);
  }
  const changed = ["yes", "true", "1"].includes((pairs.get("changed") ?? "no").toLowerCase());
  return { result: true, changed, comment: pairs.get("comment") ?? "" };
}

/** Words of one line as a POSIX shell splits them (quotes and backslashes); undefined for an unclosed quote. */
function shellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'" || ch === '"') {
      const close = line.indexOf(ch, i + 1);
      if (close === -1) return undefined;
      word = (word ?? "") + line.slice(i + 1, close);
      i = close;
    } else if (ch === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Ownership is not modelled (everything belongs to root); the value must at least be a name. */
function owner(c: Chunk): void {
  for (const k of ["user", "group"]) {
    const v = c.args.get(k);
    if (v !== undefined && (typeof v !== "string" || !/^[a-z_][a-z0-9_-]*$/.test(v)))
      throw refuse(`'${c.id}': ${k} ${JSON.stringify(v)} is not a user or group name`);
  }
}

async function applyMode(c: Chunk, path: string): Promise<boolean> {
  const raw = c.args.get("mode");
  if (raw === undefined) return false;
  const digits = text(raw);
  if (!/^0?[0-7]{3,4}$/.test(digits)) throw refuse(`'${c.id}': mode ${JSON.stringify(raw)} is not an octal mode`);
  const mode = parseInt(digits, 8);
  const current = (await stat(path)).mode & 0o7777;
  if (current === mode) return false;
  await chmod(path, mode);
  return true;
}

function lookup(pillar: Record<string, unknown>, key: string): unknown {
  let cur: unknown = pillar;
  for (const part of key.split(":")) {
    if (cur === null || typeof cur !== "object" || !(part in cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

function refuse(message: string): SimulateError {
  return new SimulateError("salt", message);
}
