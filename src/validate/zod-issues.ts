/**
 * Turns zod's issues into qwire diagnostics with positions and plain words.
 * zod checks the document's structure; the wording here is what a Qubes user
 * reads, so no raw "invalid input" reaches them.
 */
import type { z } from "zod";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import type { ParsedDocument, YamlPath } from "../parse/index.js";
import { describe } from "./values.js";

export function reportZodIssues(issues: readonly z.core.$ZodIssue[], doc: ParsedDocument, diag: DiagnosticBag): void {
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = knownKeysAt(issue);
        for (const key of issue.keys) {
          const suggestion = didYouMean(key, known);
          diag.error("QW2001", doc.positions.key([...path, key]), `unknown key '${key}'${where(path)}`, {
            ...(suggestion ? { notes: [{ message: suggestion }] } : {}),
            hint: known.length > 0 ? `known keys here: ${known.join(", ")}` : "remove it",
          });
        }
        break;
      }
      case "invalid_type": {
        const found = valueAt(doc.value, path);
        if (found === undefined) {
          const parent = path.slice(0, -1);
          diag.error("QW2002", doc.positions.value(parent), `missing required key '${String(path[path.length - 1])}'${where(parent)}`, {
            hint: `add '${String(path[path.length - 1])}:'`,
          });
        } else {
          diag.error("QW2002", doc.positions.value(path), `'${pathText(path)}' must be ${article(issue.expected)}, found ${describe(found)}`);
        }
        break;
      }
      case "invalid_value": {
        const choices = issue.values.map((v) => JSON.stringify(v)).join(", ");
        diag.error("QW2002", doc.positions.value(path), `'${pathText(path)}' must be one of ${choices}, found ${describe(valueAt(doc.value, path))}`);
        break;
      }
      default:
        diag.error("QW2002", doc.positions.value(path), `'${pathText(path)}': ${issue.message}`);
    }
  }
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
  root: ["version", "release", "qubes", "forwards", "links", "firewall", "expect"],
  qubes: ["netvm", "provides_network", "uplink", "role", "ip", "ipv6", "custom_persist", "disposable_template", "placement"],
  forwards: ["name", "to", "port", "proto", "external_port", "from", "entry", "interface"],
  links: ["name", "from", "to", "ports", "proto", "both_ways", "via", "local_port"],
  expect: ["from", "to", "port", "proto", "result"],
  firewall: ["policy", "rules"],
};

function knownKeysAt(issue: { path: PropertyKey[] }): readonly string[] {
  const head = issue.path[0];
  return typeof head === "string" && issue.path.length > 0 ? (KNOWN_KEYS[head] ?? []) : KNOWN_KEYS.root!;
}

function valueAt(root: unknown, path: YamlPath): unknown {
  let v = root;
  for (const step of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[step];
  }
  return v;
}

export function pathText(path: YamlPath): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function where(path: YamlPath): string {
  return path.length === 0 ? " at the top level" : ` in '${pathText(path)}'`;
}

function article(expected: string): string {
  switch (expected) {
    case "array":
      return "a list";
    case "object":
    case "record":
      return "a mapping";
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}
