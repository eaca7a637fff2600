/**
 * js-yaml's dump (the options of yaml.ts: block style, indent 2, no line
 * width, no references, CORE_SCHEMA, single quotes), written out for the
 * values Salt states, tops and pillars are made of: mappings, sequences,
 * ASCII strings, integers and booleans. It exists for speed: a bundle of
 * 2,000 qubes dumps ~4,000 files, and js-yaml's general-purpose writer (a
 * per-character style scan of every string, type detection of every node)
 * was a tenth of a 10,000-intent build.
 *
 * It writes exactly the bytes js-yaml writes, or refuses: `blockYaml`
 * returns undefined for any value it is not certain about (another type,
 * a non-ASCII or control character, a key too long for an implicit key),
 * and yaml.ts then asks js-yaml. Each rule below names the js-yaml function
 * (lib/dumper.js) whose behaviour it copies; test/unit/yaml-block.test.ts
 * compares the two on generated values, and every golden bundle was written
 * by js-yaml.
 */
import yaml from "js-yaml";

/** Thrown inside the writer to give the value back to js-yaml (one instance: a refusal is not an error). */
const REFUSED = new Error("blockYaml: left to js-yaml");

/**
 * The implicit types of CORE_SCHEMA (null, bool, int, float), in the order
 * js-yaml tries them: a string one of them would read as something else is
 * quoted (testImplicitResolving). Read from the schema itself, so the two
 * cannot disagree; should a js-yaml release drop this internal property,
 * every value goes to js-yaml.
 */
const IMPLICIT = (yaml.CORE_SCHEMA as unknown as { compiledImplicit?: readonly { resolve(s: string): boolean }[] })
  .compiledImplicit;

/** YAML 1.1 booleans and base-60 numbers: js-yaml quotes them (compat mode, writeScalar), without escaping. */
const DEPRECATED_BOOLEANS = new Set([
  ...["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"],
  ...["n", "N", "no", "No", "NO", "off", "Off", "OFF"],
]);
const DEPRECATED_BASE60 = /^[-+]?[0-9_]+(?::[0-9_]+)+(?:\.[0-9_]*)?$/;

/** Printable ASCII (isPrintable, restricted to ASCII), one line / with line feeds. */
const PRINTABLE_LINE = /^[\x20-\x7e]*$/;
const PRINTABLE_LINES = /^[\x20-\x7e\n]*$/;

/** Characters a plain scalar cannot start with (isPlainSafeFirst: whitespace and c-indicators). */
const NOT_PLAIN_FIRST = new Set([..." -?:,[]{}#&*!|=>'\"%@`"]);

/** The YAML text of `data` as js-yaml's dump writes it (with its final newline), or undefined. */
export function blockYaml(data: unknown): string | undefined {
  if (IMPLICIT === undefined) return undefined;
  try {
    return `${node(data, 0, true)}\n`;
  } catch (e) {
    if (e === REFUSED) return undefined;
    throw e;
  }
}

/** generateNextLine: a line feed and the indentation of `level`. */
const NEXT_LINES: string[] = [];
function nextLine(level: number): string {
  return (NEXT_LINES[level] ??= `\n${"  ".repeat(level)}`);
}

/**
 * writeNode for a value in block context at `level`; `compact` as js-yaml
 * passes it: the first pair or item of a nested collection continues the
 * line of its `- `.
 */
function node(value: unknown, level: number, compact: boolean): string {
  if (typeof value === "string") return scalar(value, level, false);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    // The int type's decimal style; -0 and fractions are floats, left to js-yaml.
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw REFUSED;
    return String(value);
  }
  if (Array.isArray(value)) return value.length === 0 ? "[]" : sequence(value, level, compact);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.keys(value).length === 0 ? "{}" : mapping(value as Record<string, unknown>, level, compact);
  }
  throw REFUSED; // null, undefined, functions, class instances: js-yaml's own rules
}

/** writeBlockSequence: `- item` lines at `level`; an item's own block continues after its `- `. */
function sequence(items: readonly unknown[], level: number, compact: boolean): string {
  let out = "";
  for (const item of items) {
    if (!compact || out !== "") out += nextLine(level);
    const text = node(item, level + 1, true);
    out += text.charCodeAt(0) === 10 ? `-${text}` : `- ${text}`;
  }
  return out;
}

/** writeBlockMapping: `key: value` lines at `level`; a nested collection starts on the next line. */
function mapping(object: Readonly<Record<string, unknown>>, level: number, compact: boolean): string {
  let out = "";
  for (const key of Object.keys(object)) {
    if (!compact || out !== "") out += nextLine(level);
    const k = scalar(key, level + 1, true);
    // Past 1,024 characters js-yaml writes an explicit `? key`.
    if (k.length > 1024) throw REFUSED;
    const text = node(object[key], level + 1, false);
    out += text.charCodeAt(0) === 10 ? `${k}:${text}` : `${k}: ${text}`;
  }
  return out;
}

/**
 * One-line scalars already written: the same keys and values ("name",
 * "root", "'0644'", paths) recur in every state. Cleared when it grows past
 * a bound, so memory stays small whatever the bundle.
 */
const lines = new Map<string, string>();

/** writeScalar and chooseScalarStyle for ASCII strings in block context (keys: one line only). */
function scalar(s: string, level: number, isKey: boolean): string {
  const known = lines.get(s);
  if (known !== undefined) return known;
  if (PRINTABLE_LINE.test(s)) {
    if (lines.size >= 50_000) lines.clear();
    const text = oneLine(s);
    lines.set(s, text);
    return text;
  }
  // A key with a line feed, a tab or any other character is double-quoted (escaped) by js-yaml.
  if (isKey || !PRINTABLE_LINES.test(s)) throw REFUSED;
  return literal(s, 2 * Math.max(1, level));
}

/** A line of printable ASCII: plain, or single-quoted when YAML would misread it plain. */
function oneLine(s: string): string {
  if (s.length === 0) return "''";
  if (DEPRECATED_BOOLEANS.has(s) || DEPRECATED_BASE60.test(s)) return `'${s}'`;
  return plainSafe(s) && !IMPLICIT!.some((t) => t.resolve(s)) ? s : `'${s.replace(/'/g, "''")}'`;
}

/**
 * isPlainSafeFirst, isPlainSafeLast and isPlainSafe (block context) for a
 * line of printable ASCII: no indicator first, no space or ':' last, no
 * ': ' and no ' #' inside.
 */
function plainSafe(s: string): boolean {
  const last = s[s.length - 1]!;
  if (NOT_PLAIN_FIRST.has(s[0]!) || last === " " || last === ":") return false;
  return !s.includes(": ") && !s.includes(" #");
}

/** The literal block style (`|`, blockHeader, indentString, dropEndingNewline) of a multi-line string. */
function literal(s: string, indent: number): string {
  const indicator = /^\n* /.test(s) ? "2" : "";
  const clip = s.endsWith("\n");
  const keep = clip && (s[s.length - 2] === "\n" || s === "\n");
  const chomp = keep ? "+" : clip ? "" : "-";
  const pad = " ".repeat(indent);
  // Every line but an empty one is indented; the last line feed is the dump's own.
  const body = s.replace(/^(?=[^\n])/gm, pad);
  return `|${indicator}${chomp}\n${body.endsWith("\n") ? body.slice(0, -1) : body}`;
}
