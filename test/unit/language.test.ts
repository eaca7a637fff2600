/**
 * The language is defined once (src/validate/sections/): its output is
 * IntentSpec, its keys are what the "known keys" hints offer, and
 * `qwire schema` is generated from it. These tests fail when one of those
 * stops following the schema.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import yaml from "js-yaml";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import {
  intentJsonSchema,
  intentJsonSchemaText,
  PART_SCHEMA_FILE,
  SCHEMA_FILE,
} from "../../src/validate/json-schema.js";
import { language, type IntentSpec } from "../../src/validate/index.js";
import { compileText } from "../helpers/compile.js";

const ROOT = new URL("../../", import.meta.url);
const schema = intentJsonSchema();

describe("IntentSpec is the language's output", () => {
  it("z.output of the document schema is IntentSpec, both ways", () => {
    // Every release's schema has the type language() declares (ReturnType<typeof documentSchema>).
    expectTypeOf<z.output<ReturnType<typeof language>>>().toEqualTypeOf<IntentSpec>();
  });
});

/** Every mapping in the JSON Schema that refuses other keys, with the YAML path to an instance of it. */
function closedMappings(): { path: (string | number)[]; keys: string[]; required: string[] }[] {
  const out: { path: (string | number)[]; keys: string[]; required: string[] }[] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (node === null || typeof node !== "object") return;
    const n = node as Record<string, unknown>;
    if (n.type === "object" && n.additionalProperties === false && n.properties) {
      out.push({ path, keys: Object.keys(n.properties), required: (n.required as string[] | undefined) ?? [] });
      for (const [k, v] of Object.entries(n.properties)) walk(v, [...path, k]);
    }
    if (n.type === "object" && n.additionalProperties && typeof n.additionalProperties === "object")
      walk(n.additionalProperties, [...path, "q"]);
    if (n.type === "array") walk(n.items, [...path, 0]);
    for (const alt of (n.anyOf as unknown[] | undefined) ?? []) walk(alt, path);
  };
  walk(schema, []);
  return out;
}

/** A document with `key: value` added in the mapping at `path` (built from the minimal valid parts). */
function documentWith(path: (string | number)[], key: string): string {
  const base: Record<string, unknown> = {
    version: 1,
    qubes: { q: path[2] === "create" ? { create: { class: "AppVM", template: "t", label: "red" } } : {} },
    forwards: [{ to: "q", port: 1, from: ["10.0.0.0/8"] }],
    links: [{ from: "q", to: "q" }],
    firewall: { q: {} },
    expect: [{ from: "q", to: "q", port: 1, result: "open" }],
  };
  let at: Record<string | number, unknown> = base;
  for (const step of path) at = at[step] as Record<string | number, unknown>;
  at[key] = true;
  return yaml.dump(base);
}

describe("every key the schema accepts is offered in the hints", () => {
  const mappings = closedMappings();

  it("finds the mappings of every section", () => {
    expect(mappings.map((m) => m.path.join("."))).toEqual([
      "",
      "qubes.q",
      "qubes.q.create",
      "forwards.0",
      "links.0",
      "firewall.q",
      "expect.0",
    ]);
  });

  for (const m of mappings) {
    it(`'${m.path.join(".") || "top level"}': an unknown key lists ${m.keys.join(", ")}`, () => {
      const { diagnostics } = compileText(documentWith(m.path, "no_such_key"));
      const unknown = diagnostics.filter((d) => d.code === "QW2001");
      expect(unknown).toHaveLength(1);
      expect(unknown[0]!.hint).toBe(`known keys here: ${m.keys.join(", ")}`);
    });

    for (const key of m.keys) {
      it(`'${m.path.join(".") || "top level"}': '${key}x' is offered '${key}'`, () => {
        const { diagnostics } = compileText(documentWith(m.path, `${key}x`));
        const unknown = diagnostics.find((d) => d.code === "QW2001");
        expect(unknown?.notes.map((n) => n.message)).toEqual([`did you mean '${key}'?`]);
      });
    }
  }
});

describe("qwire schema (JSON Schema, checked with ajv)", () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validates = ajv.compile(schema);
  const inputs = [
    ...readdirSync(new URL("formulas/", ROOT))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => `formulas/${f}`),
    ...readdirSync(new URL("test/golden/", ROOT)).map((d) => `test/golden/${d}/qwire.yaml`),
  ];

  it(`${SCHEMA_FILE} is what 'qwire schema' prints, ${PART_SCHEMA_FILE} what 'qwire schema --part' prints`, () => {
    expect(readFileSync(new URL(SCHEMA_FILE, ROOT), "utf8")).toBe(intentJsonSchemaText());
    expect(readFileSync(new URL(PART_SCHEMA_FILE, ROOT), "utf8")).toBe(intentJsonSchemaText(true));
  });

  describe("fleet files (test/simulate/fleet/): qwire.yaml with include:, its parts against the part schema", () => {
    const validatesPart = ajv.compile(intentJsonSchema(true));
    const load = (path: string) => yaml.load(readFileSync(new URL(path, ROOT), "utf8"), { schema: yaml.CORE_SCHEMA });
    const parts = ["shared/qubes.yaml", "shared/intents.yaml", "hosts/laptop.yaml"].map(
      (p) => `test/simulate/fleet/${p}`,
    );

    it("qwire.yaml, which has include: and no qubes:, is valid", () => {
      const ok = validates(load("test/simulate/fleet/qwire.yaml"));
      expect(ok ? [] : validates.errors).toEqual([]);
    });

    it.each(parts)("%s is a valid part (no version, no qubes needed)", (path) => {
      const ok = validatesPart(load(path));
      expect(ok ? [] : validatesPart.errors).toEqual([]);
      expect(validates(load(path))).toBe(false);
    });

    it("include: must be a list of file names; a part still refuses unknown keys", () => {
      expect(validates({ include: "shared/qubes.yaml" })).toBe(false);
      expect(validates({ include: [""] })).toBe(false);
      expect(validatesPart({ qubes: { web: { netvm: "sys-firewall" } } })).toBe(true);
      expect(validatesPart({ forward: [] })).toBe(false);
      expect(validatesPart({ qubes: { web: { ipv6: "yes" } } })).toBe(false);
    });
  });

  it.each(inputs)("%s is valid against the schema", (path) => {
    const document = yaml.load(readFileSync(new URL(path, ROOT), "utf8"), { schema: yaml.CORE_SCHEMA });
    const ok = validates(document);
    expect(ok ? [] : validates.errors).toEqual([]);
  });

  it.each(readdirSync(new URL("formulas/", ROOT)).filter((f) => f.endsWith(".yaml")))(
    "formulas/%s starts with the yaml-language-server line",
    (name) => {
      const first = readFileSync(new URL(`formulas/${name}`, ROOT), "utf8").split("\n")[0];
      expect(first).toBe("# yaml-language-server: $schema=../schema/qwire.schema.json");
      expect(fileURLToPath(new URL(`../schema/qwire.schema.json`, new URL(`formulas/${name}`, ROOT)))).toBe(
        fileURLToPath(new URL(SCHEMA_FILE, ROOT)),
      );
    },
  );

  it("refuses what qwire refuses as structure: an unknown key, a wrong type, a missing key", () => {
    expect(validates({ version: 1, qubes: {}, forward: [] })).toBe(false);
    expect(validates({ version: 1, qubes: { web: { ipv6: "yes" } } })).toBe(false);
    expect(validates({ version: 1, qubes: {}, forwards: [{ port: 443, from: ["10.0.0.0/8"] }] })).toBe(false);
    expect(validates({ qubes: {} })).toBe(false);
  });

  it("takes 'uplink: auto' alone, and 'auto' as no interface's name", () => {
    expect(validates({ version: 1, qubes: { "sys-net": { provides_network: true, uplink: "auto" } } })).toBe(true);
    expect(validates({ version: 1, qubes: { "sys-net": { provides_network: true, uplink: ["auto", "ens6"] } } })).toBe(
      false,
    );
    expect(
      validates({
        version: 1,
        qubes: {},
        forwards: [{ to: "web", port: 443, from: ["10.0.0.0/8"], interface: "auto" }],
      }),
    ).toBe(false);
  });
});
