/**
 * The shell that Salt runs for qwire (cmd.run names, onlyif, unless): one
 * command given as words, or a template under templates/salt/, whose values
 * pass the typed helpers like every other template's. Each renders to one
 * line: Salt gets it as a YAML string and runs it with /bin/sh -c.
 * test/real-tools/shellcheck.test.ts checks every such line of every golden
 * bundle with the real shellcheck.
 */
import type { R32Firewall } from "../validate/index.js";
import { renderTemplate } from "./handlebars-env.js";
import { command } from "./helpers.js";

declare const shellBrand: unique symbol;

/** Shell text for Salt to run: made only here. */
export type Shell = string & { readonly [shellBrand]: true };

/** The templates under templates/salt/ and the view each one reads. */
export interface SaltShellViews {
  /** R3.2: whether `qube`'s netvm already is `netvm`. */
  "netvm-is": { readonly qube: string; readonly netvm: string };
  /** dom0's default_netvm is the qube qwire.yaml says (the qubes that follow it were planned behind it). */
  "default-netvm-is": { readonly netvm: string };
  /** Fails naming both qubes: what dom0's default_netvm is, and what qwire.yaml says. */
  "default-netvm-mismatch": { readonly netvm: string };
  /** Each command (its words) in order, stopping at the first that fails. */
  "all-of": { readonly commands: readonly (readonly string[])[] };
  /** Fails saying that `template` does not exist, so the qubes made from it cannot be created. */
  "template-missing": { readonly message: string };
  /** Whether both qubes are running. */
  "both-running": { readonly qube: string; readonly netvm: string };
  /** Whether any of the paths exists. */
  "any-exists": { readonly paths: readonly string[] };
  /** R4.0: reset the outbound list, drop the default rule, add every rule in order (each one's words). */
  "r40-firewall-set": { readonly qube: string; readonly rules: readonly (readonly string[])[] };
  /** R4.0: whether `qvm-firewall --raw list` prints exactly the rules. */
  "r40-firewall-is": { readonly qube: string; readonly rules: readonly string[] };
  /** R3.2: policy and switches, every exception deleted, then added in order (each one's words). */
  "r32-firewall-set": {
    readonly qube: string;
    readonly set: R32Firewall;
    readonly exceptions: readonly (readonly string[])[];
  };
  /** R3.2: whether the tool's listing equals the expected one (both normalised). */
  "r32-firewall-is": { readonly qube: string; readonly listing: readonly string[] };
  /** A host: remove qwire's guest files other than those of its current guests. */
  "remove-stale-guests": StaleGuestsView;
  "any-stale-guests": StaleGuestsView;
  /** R4.0: remove qwire's block from the policy files of ports no longer used (and the files it leaves empty). */
  "remove-stale-policy-blocks": StalePolicyView;
  "stale-policy-files": StalePolicyView;
}

export interface StaleGuestsView {
  /** Per kind of guest: where its scripts and data folders are, and the names to keep there. */
  readonly kinds: readonly {
    readonly hookDir: string;
    readonly scriptGlob: string;
    readonly keepScripts: readonly string[];
    readonly dataDir: string;
    readonly keepData: readonly string[];
  }[];
}

export interface StalePolicyView {
  readonly dir: string;
  readonly endMarker: string;
  /** The policy files qwire writes now; '' first, so grep -v always has a pattern. */
  readonly keep: readonly string[];
}

/** One command from its words, each quoted by the `sh` helper. */
export function oneCommand(words: readonly string[]): Shell {
  return command(words) as Shell;
}

/** templates/salt/<name>.sh.hbs, as the one line Salt runs. */
export function saltShell<K extends keyof SaltShellViews>(name: K, view: SaltShellViews[K]): Shell {
  const text = renderTemplate(`salt/${name}.sh.hbs`, view).replace(/\n$/, "");
  if (text.includes("\n") || text === "")
    throw new Error(`templates/salt/${name}.sh.hbs rendered ${JSON.stringify(text)}, not one line`);
  return text as Shell;
}
