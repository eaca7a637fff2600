/** Deterministic YAML for Salt states, tops and pillars, under qwire's banner. */
import yaml from "js-yaml";
import { BANNER } from "./artifact.js";
import type { Pillar, SaltStates, Top } from "./salt-states.js";
import { blockYaml } from "./yaml-block.js";

/** js-yaml's options for every file: block style, no line folding, no anchors, no YAML 1.1 types, 'single' quotes. */
const DUMP_OPTIONS: yaml.DumpOptions = { lineWidth: -1, noRefs: true, schema: yaml.CORE_SCHEMA, quotingType: "'" };

export function dumpYaml(data: SaltStates | Top | Pillar, comment: readonly string[] = []): string {
  // The same bytes as js-yaml, written faster for the values states are made of (yaml-block.ts).
  const body = blockYaml(data) ?? yaml.dump(data, DUMP_OPTIONS);
  return [`# ${BANNER}`, ...comment.map((c) => (c === "" ? "#" : `# ${c}`)), body].join("\n");
}

/** js-yaml alone, for the test that holds blockYaml to it. */
export function jsYamlDump(data: unknown): string {
  return yaml.dump(data, DUMP_OPTIONS);
}
