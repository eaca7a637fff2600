/** Deterministic YAML for Salt states, tops and pillars, under qwire's banner. */
import yaml from "js-yaml";
import { BANNER } from "./artifact.js";
import type { Pillar, SaltStates, Top } from "./salt-states.js";

export function dumpYaml(data: SaltStates | Top | Pillar, comment: readonly string[] = []): string {
  const body = yaml.dump(data, { lineWidth: -1, noRefs: true, schema: yaml.CORE_SCHEMA, quotingType: "'" });
  return [`# ${BANNER}`, ...comment.map((c) => (c === "" ? "#" : `# ${c}`)), body].join("\n");
}
