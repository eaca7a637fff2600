/**
 * How the language files speak: a value grammar (values.ts) becomes a zod
 * schema that reports qwire's own diagnostic code, and a check reports a
 * diagnostic as a zod issue. issues.ts turns these issues back into
 * diagnostics at the right place in the user's file.
 *
 * Our issues are `continue: true`, so an object's checks still run when one
 * of its values was refused: the user sees every mistake of a mapping at once.
 */
import * as z from "zod";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import { releasesWith, type ReleaseProfile } from "../release/index.js";
import type { YamlPath } from "../parse/index.js";
import {
  parseCidr,
  parseIntentName,
  parseInterfaceName,
  parseIpv4,
  parsePortRange,
  parseQubeName,
  type CidrParse,
  type Parsed,
} from "./values.js";
import type { IntentName, InterfaceName, PortRange, QubeName } from "./spec.js";

/** What a qwire issue carries in zod's `params`: the diagnostic it becomes. */
export interface QwireIssueParams {
  readonly qwire: {
    readonly code: DiagnosticCode;
    readonly severity: "error" | "warning";
    /** Underline the key that introduces the path, or its value (default). */
    readonly at: "key" | "value";
    readonly hint?: string;
  };
}

export interface ReportOptions {
  /** Relative to the value being checked; [] = the value itself. */
  readonly path?: YamlPath;
  readonly at?: "key" | "value";
  readonly hint?: string;
}

export function report(ctx: Ctx, code: DiagnosticCode, message: string, options: ReportOptions = {}): void {
  issue(ctx, "error", code, message, options);
}

export function warn(ctx: Ctx, code: DiagnosticCode, message: string, options: ReportOptions = {}): void {
  issue(ctx, "warning", code, message, options);
}

function issue(
  ctx: Ctx,
  severity: "error" | "warning",
  code: DiagnosticCode,
  message: string,
  options: ReportOptions,
): void {
  const params: QwireIssueParams = {
    qwire: { code, severity, at: options.at ?? "value", ...(options.hint === undefined ? {} : { hint: options.hint }) },
  };
  ctx.addIssue({ code: "custom", message, path: [...(options.path ?? [])], params, continue: true });
}

export function qwireParams(issue: z.core.$ZodIssue): QwireIssueParams["qwire"] | undefined {
  return issue.code === "custom" ? (issue.params as Partial<QwireIssueParams> | undefined)?.qwire : undefined;
}

/** The JSON Schema an editor gets for a value (`qwire schema`, input side). */
export type InputSchema = Readonly<Record<string, unknown>>;

/**
 * A value with a grammar of its own: any YAML value goes in (so a wrong type
 * gets the grammar's wording and code, not zod's), the parsed value comes out.
 */
export function grammar<T>(
  code: DiagnosticCode,
  parse: (value: unknown) => Parsed<T>,
  input: InputSchema,
  hint?: string,
) {
  return z
    .unknown()
    .meta(input)
    .transform((value, ctx): T => {
      if (value === undefined) {
        // A required key that is missing: zod's own wording ("missing required key").
        ctx.addIssue({ code: "invalid_type", expected: "nonoptional", input: value });
        return z.NEVER;
      }
      const parsed = parse(value);
      if (parsed.ok) return parsed.value;
      report(ctx, code, parsed.message, hint === undefined ? {} : { hint });
      return z.NEVER;
    });
}

const QUBE_NAME_INPUT = {
  type: "string",
  pattern: "^[A-Za-z][A-Za-z0-9_.-]{0,30}$",
  not: { enum: ["dom0", "none", "default"] },
};
const INTERFACE_INPUT = { type: "string", pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$", not: { const: "auto" } };
export const PORT_INPUT = {
  anyOf: [
    { type: "integer", minimum: 1, maximum: 65535 },
    { type: "string", pattern: "^\\d{1,5}(-\\d{1,5})?$", description: 'a port range, e.g. "8000-8010"' },
  ],
};

export const qubeName = () =>
  grammar<QubeName>("QW2003", parseQubeName, { ...QUBE_NAME_INPUT, description: "a qube name" });
export const interfaceName = () =>
  grammar<InterfaceName>("QW2006", parseInterfaceName, { ...INTERFACE_INPUT, description: "a network interface name" });
export const intentName = () =>
  grammar<IntentName>("QW2011", parseIntentName, {
    type: "string",
    pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
    description: "a name for this intent",
  });
export const portRange = () => grammar<PortRange>("QW2004", parsePortRange, PORT_INPUT);
export const ipv4 = (hint: string) =>
  grammar<string>("QW2005", parseIpv4, { type: "string", description: "an IPv4 address" }, hint);
export const cidr = () =>
  grammar<CidrParse>("QW2005", parseCidr, { type: "string", description: "an IPv4 or IPv6 address or network" });

export { QUBE_NAME_INPUT, INTERFACE_INPUT };

export type Ctx = z.core.$RefinementCtx<unknown>;

export function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** "R4.2 and R4.3": the releases with a capability, oldest first, as the hints say it. */
export function releaseList(capability: keyof ReleaseProfile["capabilities"]): string {
  const names = releasesWith(capability)
    .reverse()
    .map((r) => `R${r}`);
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
