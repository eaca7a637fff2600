/**
 * qwire.yaml as a whole: `version`, `release` and the sections, each defined
 * in its own file here. `IntentSpec` is what this schema puts out
 * (test/unit/language.test.ts proves the types equal), and `qwire schema`
 * prints what it takes in.
 */
import * as z from "zod";
import { DEFAULT_RELEASE, RELEASES, releaseNamed, type Release, type ReleaseProfile } from "../../release/index.js";
import type { YamlPath } from "../../parse/index.js";
import { isMapping, qubeName, report } from "../grammar.js";
import type { IntentSpec, QubeSpec } from "../spec.js";
import { expectSchema } from "./expect.js";
import { firewallSection } from "./firewall.js";
import { forwardSchema } from "./forwards.js";
import { linkSchema } from "./links.js";
import { qubesSection, salvageQubes } from "./qubes.js";

const version = z
  .unknown()
  .meta({ const: 1, description: "the qwire.yaml format: 1" })
  .transform((v, ctx): 1 => {
    if (v === 1) return 1;
    report(ctx, "QW2007", `qwire.yaml version ${JSON.stringify(v)} is not supported`, {
      hint: "this qwire reads 'version: 1'",
    });
    return z.NEVER;
  });

const release = z
  .unknown()
  .meta({
    description: `the Qubes release the bundle is for (default ${DEFAULT_RELEASE})`,
    // `release: 4.2` unquoted is a YAML number; qwire takes it as the user meant it.
    anyOf: [{ enum: [...RELEASES] }, { enum: RELEASES.map(Number) }],
  })
  .transform((v, ctx): Release => {
    const found = releaseNamed(v);
    if (found !== undefined) return found;
    report(ctx, "QW2008", `unknown Qubes release ${JSON.stringify(v)}`, {
      hint: `use one of ${RELEASES.map((r) => `"${r}"`).join(", ")}`,
    });
    return z.NEVER;
  });

/** The release a document is built for: as written, or the default when it is missing or unknown (QW2008 says so). */
export function releaseOf(document: Record<string, unknown>): Release {
  return document.release === undefined ? DEFAULT_RELEASE : (releaseNamed(document.release) ?? DEFAULT_RELEASE);
}

/** A list section: each item gets its YAML path, `[key, index]`. */
function list<T extends object>(key: string, item: z.ZodType<T>) {
  return z
    .array(item)
    .optional()
    .transform((items) => (items ?? []).map((x, i) => ({ ...x, path: [key, i] as YamlPath })));
}

export interface LanguageOptions {
  readonly profile: ReleaseProfile;
  /** Report warnings (QW2010, QW2014) as issues; off for the second parse of a document that only had warnings. */
  readonly warnings: boolean;
}

function sections({ profile, warnings }: LanguageOptions) {
  return {
    qubes: qubesSection(profile),
    forwards: list("forwards", forwardSchema(warnings)),
    links: list("links", linkSchema(profile)),
    firewall: firewallSection(profile, warnings)
      .optional()
      .transform((f) => f ?? []),
    expect: list("expect", expectSchema),
  };
}

const defaultNetvm = qubeName().describe(
  "dom0's default netvm (qubes-prefs default_netvm), which 'netvm: default' follows; dom0 checks it",
);

/** `netvm: default` qubes get the name `default_netvm` gives; the topology stage checks the reference once, at `default_netvm`. */
function followDefault(qubes: readonly QubeSpec[], name: QubeSpec["name"] | undefined): QubeSpec[] {
  return qubes.map((q) => (q.followsDefaultNetvm && name !== undefined ? { ...q, netvm: name } : q));
}

export function documentSchema(options: LanguageOptions) {
  const s = sections(options);
  return z
    .strictObject({
      version,
      release: release.optional(),
      default_netvm: defaultNetvm.optional(),
      qubes: s.qubes,
      forwards: s.forwards,
      links: s.links,
      firewall: s.firewall,
      expect: s.expect,
    })
    .transform((d): IntentSpec => ({
      version: d.version,
      release: d.release ?? DEFAULT_RELEASE,
      qubes: followDefault(d.qubes, d.default_netvm),
      forwards: d.forwards,
      links: d.links,
      firewall: d.firewall,
      expect: d.expect,
      ...(d.default_netvm === undefined ? {} : { defaultNetvm: { name: d.default_netvm, path: ["default_netvm"] } }),
    }));
}

/**
 * The spec of a document some of whose values were refused: every item that
 * is valid on its own, so that the topology stage can still report wrong
 * references in the same run. Never planned.
 */
export function salvage(
  document: Record<string, unknown>,
  options: LanguageOptions,
): { spec: IntentSpec; rejectedQubes: ReadonlySet<string> } {
  const quiet = { ...options, warnings: false };
  const s = sections(quiet);
  const one = <T extends { path: YamlPath }>(key: string, schema: z.ZodType<readonly T[]>): T[] => {
    const raw = document[key];
    if (!Array.isArray(raw)) return [];
    return raw.flatMap((item, i) => {
      const parsed = schema.safeParse([item]);
      return parsed.success ? parsed.data.map((x) => ({ ...x, path: [key, i] })) : [];
    });
  };
  const entries = <T extends { qube: string }>(key: string, schema: z.ZodType<readonly T[]>): T[] => {
    const raw = document[key];
    if (!isMapping(raw)) return [];
    return Object.entries(raw).flatMap(([name, body]) => {
      const parsed = schema.safeParse({ [name]: body });
      return parsed.success ? [...parsed.data] : [];
    });
  };
  const { qubes, rejected } = salvageQubes(document.qubes, options.profile);
  const fallback = defaultNetvm.safeParse(document.default_netvm);
  const spec: IntentSpec = {
    version: 1,
    release: options.profile.release,
    qubes: followDefault(qubes, fallback.data) satisfies QubeSpec[],
    forwards: one("forwards", s.forwards),
    links: one("links", s.links),
    firewall: entries("firewall", s.firewall).sort((a, b) => (a.qube < b.qube ? -1 : a.qube > b.qube ? 1 : 0)),
    expect: one("expect", s.expect),
    ...(fallback.data === undefined ? {} : { defaultNetvm: { name: fallback.data, path: ["default_netvm"] } }),
  };
  return { spec, rejectedQubes: rejected };
}

/** Compile-time proof that the language puts out exactly IntentSpec (checked by `npm run build`). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const outputIsIntentSpec: Equal<z.output<ReturnType<typeof documentSchema>>, IntentSpec> = true;
void outputIsIntentSpec;
