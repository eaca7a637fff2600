/**
 * Fleet files: `include:` of other files and a per-machine overlay, merged
 * into one document before validation (DESIGN.md §2).
 *
 * - Maps merge by key, at every depth (`qubes:`, a qube's settings,
 *   `firewall:`); named intents (`forwards:`, `links:`) merge by name;
 *   intents without a name and `expect:` entries are appended.
 * - Between included files (and the file that includes them) the same key
 *   or intent name with a different value is a conflict, QW1007, naming both
 *   places. The host overlay (`qwire build --host laptop` reads
 *   hosts/laptop.yaml) is different: it is read last and wins.
 * - An include that cannot be read is QW1005, a cycle QW1006, both at the
 *   include line; `include:` that is not a list of file names, or in the
 *   host overlay, is QW1008.
 *
 * Every position keeps its file (Span.file), so a diagnostic about a value
 * that came from an included file points into that file. Reading is done by
 * the caller's `read` (the CLI's file system), so this stays pure.
 */
import { dirname, join } from "node:path";
import { DiagnosticBag, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import { parse, type ParsedDocument, type SourceFile, type YamlPath } from "./index.js";

export interface FleetOptions {
  /** The text of a file, by its path as the user would write it (relative to the working folder); undefined when it cannot be read. */
  readonly read: (path: string) => string | undefined;
  /** The host overlay file, already chosen by the caller (e.g. "hosts/laptop.yaml"). */
  readonly host?: string;
}

/** Positions of the merged document: a path is looked up in the file its value came from. */
export interface Positions {
  value(path: YamlPath): Span;
  key(path: YamlPath): Span;
}

interface Layer {
  readonly doc: ParsedDocument;
  /** undefined for the main file (its spans carry no file, as before). */
  readonly file: string | undefined;
}

interface Origin {
  readonly layer: Layer;
  readonly path: YamlPath;
}

const NAMED_LISTS = new Set(["forwards", "links"]);

export function parseFleet(main: SourceFile, diag: DiagnosticBag, options?: FleetOptions): ParsedDocument | undefined {
  const doc = parse(main, diag);
  if (!doc || !options) return doc;
  const top = doc.value;
  const hasInclude = isMap(top) && "include" in top;
  if (!hasInclude && options.host === undefined) return doc;

  const layers: Layer[] = [];
  let failed = false;
  const load = (layer: Layer, stack: readonly string[]) => {
    const value = layer.doc.value;
    if (isMap(value) && "include" in value) {
      const list = value.include;
      const at = (path: YamlPath) => withFile(layer.doc.positions.value(path), layer.file);
      if (!Array.isArray(list) || list.some((e) => typeof e !== "string" || e === "")) {
        diag.error("QW1008", at(["include"]), "`include:` must be a list of file names", {
          hint: "e.g. include: [shared/qubes.yaml, shared/forwards.yaml]",
        });
        failed = true;
      } else {
        list.forEach((entry: string, i) => {
          const path = join(dirname(layer.file ?? main.name), entry);
          if (stack.includes(path)) {
            diag.error(
              "QW1006",
              at(["include", i]),
              `'${entry}' is already being read: the files include each other (${[...stack, path].join(" -> ")})`,
              {
                hint: "keep shared pieces in files that include nothing that includes them back",
              },
            );
            failed = true;
            return;
          }
          const text = options.read(path);
          if (text === undefined) {
            diag.error("QW1005", at(["include", i]), `cannot read the included file '${path}'`, {
              hint: "paths in include: are relative to the file that includes them",
            });
            failed = true;
            return;
          }
          const child = parseTagged({ name: path, text }, path, diag);
          if (!child) {
            failed = true;
            return;
          }
          load({ doc: child, file: path }, [...stack, path]);
        });
      }
    }
    layers.push(layer);
  };
  load({ doc, file: undefined }, [main.name]);
  let host: Layer | undefined;
  if (options.host !== undefined) {
    const text = options.read(options.host);
    const hostDoc = text === undefined ? undefined : parseTagged({ name: options.host, text }, options.host, diag);
    if (text === undefined) {
      diag.error("QW1005", { line: 1, column: 1, length: 1 }, `cannot read the host file '${options.host}'`, {
        hint: "qwire build --host NAME reads hosts/NAME.yaml beside qwire.yaml",
      });
      failed = true;
    } else if (!hostDoc) failed = true;
    else if (isMap(hostDoc.value) && "include" in hostDoc.value) {
      // An overlay wins over what it overlays: files it included would have to win too, which no one could follow.
      diag.error(
        "QW1008",
        withFile(hostDoc.positions.key(["include"]), options.host),
        "a host overlay cannot include files",
        {
          hint: "list shared files in qwire.yaml's include:, and keep in the host file only what differs on this machine",
        },
      );
      failed = true;
    } else host = { doc: hostDoc, file: options.host };
  }
  if (failed) return undefined;

  const merged = new Merge(diag);
  for (const layer of layers) merged.add(layer, false);
  if (host) merged.add(host, true);
  if (merged.failed) return undefined;
  return { source: main, value: merged.value, positions: merged.positions() };
}

/** Parses an included file; its diagnostics (YAML syntax) name it. */
function parseTagged(source: SourceFile, file: string, diag: DiagnosticBag): ParsedDocument | undefined {
  const own = new DiagnosticBag();
  const doc = parse(source, own);
  for (const d of own.sorted()) copy(diag, d, file);
  return own.hasErrors() ? undefined : doc;
}

function copy(diag: DiagnosticBag, d: Diagnostic, file: string): void {
  const extra = {
    notes: d.notes.map((n) => (n.span ? { ...n, span: withFile(n.span, file) } : n)),
    ...(d.hint === undefined ? {} : { hint: d.hint }),
  };
  if (d.severity === "error") diag.error(d.code, withFile(d.span, file), d.message, extra);
  else diag.warning(d.code, withFile(d.span, file), d.message, extra);
}

function withFile(span: Span, file: string | undefined): Span {
  return file === undefined ? span : { ...span, file };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Merge {
  value: Record<string, unknown> = {};
  failed = false;
  /** Where each merged path came from, by the path's JSON text; looked up by the longest prefix. */
  readonly #origins = new Map<string, Origin>();

  constructor(private readonly diag: DiagnosticBag) {}

  add(layer: Layer, overlay: boolean): void {
    const v = layer.doc.value;
    if (v === undefined || v === null) return;
    if (!isMap(v)) {
      // Not a mapping: the validator reports it for the main file; an included file must be one.
      if (layer.file !== undefined) {
        this.diag.error(
          "QW1008",
          withFile(layer.doc.positions.value([]), layer.file),
          "an included file must be a mapping of qwire.yaml keys",
        );
        this.failed = true;
      }
      return;
    }
    for (const [key, value] of Object.entries(v)) {
      if (key === "include") continue;
      if (NAMED_LISTS.has(key) && Array.isArray(value)) this.#list([key], value, layer, overlay, true);
      else if (key === "expect" && Array.isArray(value)) this.#list([key], value, layer, overlay, false);
      else this.#merge(this.value, key, [key], value, layer, overlay);
    }
  }

  /** Maps merge by key at every depth; anything else is a leaf: equal, or a conflict (or, from the overlay, a replacement). */
  #merge(
    into: Record<string, unknown>,
    key: string,
    path: YamlPath,
    value: unknown,
    layer: Layer,
    overlay: boolean,
  ): void {
    if (!(key in into)) {
      into[key] = value;
      this.#origins.set(JSON.stringify(path), { layer, path });
      return;
    }
    const existing = into[key];
    if (isMap(existing) && isMap(value)) {
      const copyOf = { ...existing };
      into[key] = copyOf;
      for (const [k, v] of Object.entries(value)) this.#merge(copyOf, k, [...path, k], v, layer, overlay);
      return;
    }
    if (same(existing, value)) return;
    if (overlay) {
      into[key] = value;
      this.#origins.set(JSON.stringify(path), { layer, path });
      return;
    }
    this.#conflict(path, `'${path.join(".")}' is given two different values`, layer, path);
  }

  #list(path: YamlPath, items: readonly unknown[], layer: Layer, overlay: boolean, named: boolean): void {
    const key = path[0] as string;
    const list = Array.isArray(this.value[key]) ? [...(this.value[key] as unknown[])] : [];
    if (!(key in this.value)) this.#origins.set(JSON.stringify(path), { layer, path });
    items.forEach((item, i) => {
      const name = named && isMap(item) && typeof item.name === "string" ? item.name : undefined;
      const at = name === undefined ? -1 : list.findIndex((o) => isMap(o) && o.name === name);
      if (at === -1) {
        list.push(item);
        this.#origins.set(JSON.stringify([key, list.length - 1]), { layer, path: [key, i] });
        return;
      }
      if (same(list[at], item)) return;
      if (overlay) {
        list[at] = item;
        this.#origins.set(JSON.stringify([key, at]), { layer, path: [key, i] });
        return;
      }
      this.#conflict([key, at, "name"], `two ${key} are named '${name}'`, layer, [key, i, "name"]);
    });
    this.value[key] = list;
  }

  #conflict(mergedPath: YamlPath, message: string, layer: Layer, layerPath: YamlPath): void {
    const first = this.#originOf(mergedPath);
    const firstSpan = first
      ? withFile(first.layer.doc.positions.value([...first.path, ...mergedPath.slice(first.prefix)]), first.layer.file)
      : undefined;
    this.diag.error(
      "QW1007",
      withFile(
        layerPath.length > 0 ? layer.doc.positions.value(layerPath) : { line: 1, column: 1, length: 1 },
        layer.file,
      ),
      message,
      {
        notes: firstSpan ? [{ message: "the other value is here", span: firstSpan }] : [],
        hint: "keep one of the two, or move the machine-specific value into hosts/<machine>.yaml (read with --host)",
      },
    );
    this.failed = true;
  }

  #originOf(path: YamlPath): (Origin & { prefix: number }) | undefined {
    for (let n = path.length; n >= 1; n--) {
      const o = this.#origins.get(JSON.stringify(path.slice(0, n)));
      if (o) return { ...o, prefix: n };
    }
    return undefined;
  }

  positions(): Positions {
    const main = [...this.#origins.values()].find((o) => o.layer.file === undefined)?.layer;
    const lookup = (path: YamlPath, kind: "value" | "key"): Span => {
      const o = this.#originOf(path);
      if (!o) return main ? main.doc.positions[kind](path) : { line: 1, column: 1, length: 1 };
      return withFile(o.layer.doc.positions[kind]([...o.path, ...path.slice(o.prefix)]), o.layer.file);
    };
    return { value: (p) => lookup(p, "value"), key: (p) => lookup(p, "key") };
  }
}
