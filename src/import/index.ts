/**
 * `qwire import`: a qwire.yaml that declares the layout and policies a Qubes
 * machine has now, from the output of dom0 commands the user copies out
 * (qvm-ls, optionally qvm-firewall lists and qubes.ConnectTCP policy lines).
 * Pure: the CLI reads the files and writes the result. Any line it cannot
 * read is an error at that line of that output, and nothing is produced.
 */
import { DiagnosticBag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../parse/index.js";
import type { Release } from "../validate/index.js";
import { readFirewallLists } from "./firewall-lists.js";
import { readPolicy } from "./policy.js";
import { readQvmLs } from "./qvm-ls.js";
import { writeImportedYaml } from "./write-yaml.js";

export { QVM_LS_FIELDS } from "./qvm-ls.js";

export interface ImportSources {
  readonly qvmLs: SourceFile;
  readonly firewall?: SourceFile;
  readonly policy?: SourceFile;
  readonly release: Release;
}

export interface ImportResult {
  /** Diagnostics per input file, in the order given. */
  readonly inputs: readonly { readonly source: SourceFile; readonly diagnostics: readonly Diagnostic[] }[];
  /** The qwire.yaml text, only when every input was read without error. */
  readonly yaml?: string;
}

export function importDom0(sources: ImportSources): ImportResult {
  const lsBag = new DiagnosticBag();
  const qubes = readQvmLs(sources.qvmLs, lsBag);
  const known = new Set(qubes.map((q) => q.name));
  const inputs = [{ source: sources.qvmLs, bag: lsBag }];
  const fwBag = new DiagnosticBag();
  const lists = sources.firewall ? readFirewallLists(sources.firewall, known, fwBag) : [];
  if (sources.firewall) inputs.push({ source: sources.firewall, bag: fwBag });
  const policyBag = new DiagnosticBag();
  const policy = sources.policy ? readPolicy(sources.policy, known, policyBag) : undefined;
  if (sources.policy) inputs.push({ source: sources.policy, bag: policyBag });
  const result = inputs.map((i) => ({ source: i.source, diagnostics: i.bag.sorted() }));
  if (inputs.some((i) => i.bag.hasErrors())) return { inputs: result };
  const yaml = writeImportedYaml({
    qubes,
    lists,
    ...(policy ? { policy } : {}),
    release: sources.release,
    from: inputs.map((i) => i.source.name),
  });
  return { inputs: result, yaml };
}
