/**
 * dom0's qrexec policy (reference/qubes-networking.md §5), as far as
 * qubes.ConnectTCP needs it: every `*.policy` file of policy.d in sorted
 * name order, one rule per line
 * `service +argument|* source destination allow|deny [target=X] ...`, and
 * the first rule that matches decides. A call no rule matches is denied.
 *
 * Tokens matched: a literal qube name, `@anyvm` (any qube but dom0, also as
 * destination, where it matches a call to `@default`, as qrexec's AnyVM
 * does), `@default` (destination only). Everything else that real policy
 * allows (`@tag:`, `@type:`, `@dispvm`, `ask`, `!include`) is refused
 * loudly: the model must never guess what a rule means.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { SimulateError } from "../errors.js";

export interface PolicyRule {
  readonly file: string;
  readonly line: number;
  readonly service: string;
  /** "*" or the argument without its "+". */
  readonly argument: string;
  readonly source: string;
  readonly destination: string;
  readonly action: "allow" | "deny";
  readonly target: string | undefined;
}

export interface QrexecCall {
  readonly source: string;
  /** What the caller asked for: "@default" or a qube name. */
  readonly target: string;
  readonly service: string;
  readonly argument: string;
}

export type Verdict =
  | { readonly allow: true; readonly target: string; readonly rule: string }
  | { readonly allow: false; readonly reason: string };

/** Policy file names qrexec reads: lowercase letters, digits, `_ . -`, ending in .policy. */
const FILE_NAME = /^[a-z0-9_.-]+\.policy$/;

export async function loadPolicy(dir: string): Promise<PolicyRule[]> {
  const files = (await readdir(dir)).filter((f) => FILE_NAME.test(f)).sort();
  const rules: PolicyRule[] = [];
  for (const f of files) rules.push(...parsePolicy(f, await readFile(join(dir, f), "utf8")));
  return rules;
}

export function parsePolicy(file: string, text: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const where = `${file}:${i + 1}`;
    if (line.startsWith("!"))
      throw new SimulateError("unsupported", `${where}: policy directive '${line}' is not modelled`);
    const [service, argument, source, destination, action, ...options] = line.split(/\s+/);
    if (!service || !argument || !source || !destination || !action)
      throw new SimulateError(
        "salt",
        `${where}: a policy rule needs service, argument, source, destination and action: '${line}'`,
      );
    if (argument !== "*" && !argument.startsWith("+"))
      throw new SimulateError("salt", `${where}: argument '${argument}' must be '*' or start with '+'`);
    if (action !== "allow" && action !== "deny")
      throw new SimulateError("unsupported", `${where}: action '${action}' is not modelled (allow and deny are)`);
    for (const token of [source, destination]) {
      if (token.startsWith("@") && token !== "@anyvm" && token !== "@default")
        throw new SimulateError("unsupported", `${where}: token '${token}' is not modelled`);
    }
    if (source === "@default") throw new SimulateError("salt", `${where}: @default is not a valid source`);
    let target: string | undefined;
    for (const o of options) {
      const [k, v] = o.split("=", 2);
      if (k === "target" && v) target = v;
      else if (k !== "user" && k !== "notify" && k !== "autostart")
        throw new SimulateError("unsupported", `${where}: option '${o}' is not modelled`);
    }
    if (target !== undefined && (action === "deny" || target.startsWith("@")))
      throw new SimulateError("salt", `${where}: target=${target} is not valid here`);
    rules.push({
      file,
      line: i + 1,
      service,
      argument: argument === "*" ? "*" : argument.slice(1),
      source,
      destination,
      action,
      target,
    });
  });
  return rules;
}

/** The first matching rule decides; no match is a deny, as qrexec's is. */
export function evaluate(rules: readonly PolicyRule[], call: QrexecCall): Verdict {
  const rule = rules.find(
    (r) =>
      (r.service === "*" || r.service === call.service) &&
      (r.argument === "*" || r.argument === call.argument) &&
      (r.source === "@anyvm" || r.source === call.source) &&
      (r.destination === "@anyvm" || r.destination === call.target),
  );
  const name = `${call.service}+${call.argument} from ${call.source} to ${call.target}`;
  if (!rule) return { allow: false, reason: `${name}: no policy rule matches (denied)` };
  const at = `${rule.file}:${rule.line}`;
  if (rule.action === "deny") return { allow: false, reason: `${name}: denied by ${at}` };
  const target = rule.target ?? call.target;
  if (target === "@default")
    return { allow: false, reason: `${name}: ${at} allows @default without target= (qrexec refuses it)` };
  return { allow: true, target, rule: at };
}

/** What the model puts beside qwire's file: the part of Qubes' 90-default.policy that matters here. */
export const DEFAULT_POLICY = `## qwire simulate: the qubes.ConnectTCP line of Qubes' 90-default.policy
qubes.ConnectTCP * @anyvm @anyvm deny
`;
