/**
 * The Salt that a bundle may contain, as types: exactly the subset of
 * DESIGN.md §3 (state functions, their arguments, the requisites require,
 * onchanges and watch). A state is built only by `state()`, so a function or
 * an argument outside the subset does not compile
 * (test/unit/salt-states.test.ts proves it), and the shell Salt runs (cmd.run
 * names, onlyif, unless) is a `Shell`: one command from `oneCommand`, or a
 * template under templates/salt/ rendered by `saltShell` (salt-shell.ts),
 * which the shellcheck test checks in every golden bundle.
 *
 * Arguments are written in one fixed order per function (ARG_ORDER), so the
 * YAML of a state does not depend on how the caller spelled the object.
 */
import type { Shell } from "./salt-shell.js";

/** `- file: <id>`, `- cmd: <id>`, `- qvm: <id>`: the module and ID of the state required. */
export type Requisite = { readonly file: string } | { readonly cmd: string } | { readonly qvm: string };

type Requisites = {
  readonly require?: readonly Requisite[];
  readonly onchanges?: readonly Requisite[];
  readonly watch?: readonly Requisite[];
};

/** A file mode as Salt takes it, e.g. "0644". */
export type Mode = `0${number}`;

/** Arguments of each state function of the subset (besides the requisites). */
export interface SaltSubset {
  "file.managed": {
    readonly name: string;
    readonly source?: `salt://${string}`;
    readonly contents?: string;
    readonly contents_pillar?: string;
    /** Only `false`: create the file when it is missing, never rewrite the user's. */
    readonly replace?: false;
    readonly user?: string;
    readonly group?: string;
    readonly mode?: Mode;
    readonly makedirs?: true;
  };
  "file.absent": { readonly name: string };
  "file.directory": {
    readonly name: string;
    readonly user?: string;
    readonly group?: string;
    readonly mode?: Mode;
    readonly makedirs?: true;
  };
  /** R4.1 and older only; Salt keeps a .bak of the user's file on every change unless backup is false. */
  "file.blockreplace": {
    readonly name: string;
    readonly marker_start: string;
    readonly marker_end: string;
    readonly content: string;
    readonly append_if_not_found?: true;
    readonly prepend_if_not_found?: true;
    readonly backup: false;
  };
  "cmd.run": {
    readonly name: Shell;
    /** Salt's stateful protocol: the command's last stdout line says whether it changed anything. */
    readonly stateful?: readonly [{ readonly test_name: Shell }];
    readonly onlyif?: Shell;
    readonly unless?: Shell;
  };
  "qvm.prefs": {
    readonly name: string;
    readonly "provides-network"?: true;
    readonly netvm?: string;
    readonly ip?: string;
    /** A disposable template qwire creates. */
    readonly "template-for-dispvms"?: true;
  };
  "qvm.features": {
    readonly name: string;
    readonly enable?: readonly string[];
    readonly disable?: readonly string[];
  };
  /** R4.1+: the whole outbound list, in qvm-firewall's rule syntax. */
  "qvm.firewall": { readonly name: string; readonly set: readonly string[] };
  /** Only for qubes that qwire.yaml asks to create; never changes an existing qube. */
  "qvm.present": {
    readonly name: string;
    readonly class?: string;
    readonly template?: string;
    readonly label?: string;
  };
  /** Only for qubes that qwire.yaml asks to create: actions, each a list of one-key options. */
  "qvm.vm": {
    readonly name: string;
    readonly present?: readonly Readonly<Record<"class" | "template" | "label", string>>[];
    readonly prefs?: readonly Readonly<Record<string, string | boolean>>[];
    readonly features?: readonly Readonly<Record<"enable" | "disable", readonly string[]>>[];
  };
}

export type StateFunction = keyof SaltSubset;
export type StateArgs<F extends StateFunction> = SaltSubset[F] & Requisites;

const REQUISITE_ORDER = ["require", "onchanges", "watch"] as const;

/** The order arguments are written in, per function; the requisites follow. */
const ARG_ORDER: { readonly [F in StateFunction]: readonly (keyof SaltSubset[F])[] } = {
  "file.managed": ["name", "source", "contents", "contents_pillar", "replace", "user", "group", "mode", "makedirs"],
  "file.absent": ["name"],
  "file.directory": ["name", "user", "group", "mode", "makedirs"],
  "file.blockreplace": [
    "name",
    "marker_start",
    "marker_end",
    "content",
    "append_if_not_found",
    "prepend_if_not_found",
    "backup",
  ],
  "cmd.run": ["name", "stateful", "onlyif", "unless"],
  "qvm.prefs": ["name", "provides-network", "netvm", "ip", "template-for-dispvms"],
  "qvm.features": ["name", "enable", "disable"],
  "qvm.firewall": ["name", "set"],
  "qvm.present": ["name", "class", "template", "label"],
  "qvm.vm": ["name", "present", "prefs", "features"],
};

/** Every argument of every function has its place in ARG_ORDER (a compile error names the one missing). */
type Unordered = { [F in StateFunction]: Exclude<keyof SaltSubset[F], (typeof ARG_ORDER)[F][number]> }[StateFunction];
const everyArgumentOrdered: [Unordered] extends [never] ? true : Unordered = true;
void everyArgumentOrdered;

declare const stateBrand: unique symbol;

/** One state's body, `{ "file.managed": [{ name: ... }, ...] }`: made only by `state()`. */
export type StateBody = { readonly [fn: string]: readonly Readonly<Record<string, unknown>>[] } & {
  readonly [stateBrand]: true;
};

/** An SLS file: state IDs to their bodies, in the order Salt reads them. */
export type SaltStates = Record<string, StateBody>;

/** Each function's arguments and then the requisites, in writing order (made once: states are made by the thousand). */
const WRITE_ORDER = new Map<string, readonly string[]>(
  Object.entries(ARG_ORDER).map(([fn, args]) => [fn, [...(args as readonly string[]), ...REQUISITE_ORDER]]),
);

/** A state of the subset, its arguments as Salt's list of one-key mappings. */
export function state<F extends StateFunction>(fn: F, args: StateArgs<F>): StateBody {
  const given: Readonly<Record<string, unknown>> = args;
  const list: Readonly<Record<string, unknown>>[] = [];
  for (const k of WRITE_ORDER.get(fn)!) if (given[k] !== undefined) list.push({ [k]: given[k] });
  return { [fn]: list } as unknown as StateBody;
}

/** The top files: which SLS (states) or pillar files apply to which minion, in saltenv `user`. */
export interface Top {
  readonly user: Readonly<Record<string, readonly string[]>>;
}

/** `qwire:addresses` (a qube's own pillar) or `qwire:guests:<qube>:addresses` (its host's). */
export type Pillar =
  | { readonly qwire: { readonly addresses: string } }
  | { readonly qwire: { readonly guests: Readonly<Record<string, { readonly addresses: string }>> } };
