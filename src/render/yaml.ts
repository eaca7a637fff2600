/** Deterministic YAML for Salt states, tops and pillars, under qwire's banner. */
import yaml from "js-yaml";
import { BANNER } from "./artifact.js";

export function dumpYaml(data: unknown, comment: readonly string[] = []): string {
  const body = yaml.dump(data, { lineWidth: -1, noRefs: true, schema: yaml.CORE_SCHEMA, quotingType: "'" });
  return [`# ${BANNER}`, ...comment.map((c) => (c === "" ? "#" : `# ${c}`)), body].join("\n");
}
