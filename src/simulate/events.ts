/**
 * The events a bundle must survive (issue #3), in this order:
 *
 * 1. apply            the bundle applied once, as install.sh does;
 * 2. reapply          applied again: every qube's ruleset byte-identical;
 * 3. firewall-reload  qubes-firewall restarted in every net qube;
 * 4. restart          every qube carrying qwire files shut down and started;
 * 5. recreate         the target of the first intent deleted and created
 *                     again with a new address and an empty /rw, then the
 *                     bundle re-applied: flows follow the new address;
 * 6. delete-intent    the last intent removed from qwire.yaml, the new
 *                     bundle applied: its port is closed afterwards.
 *
 * Flows are checked after every event.
 */
import type { QubeName } from "../validate/index.js";
import type { ApplyReport } from "./apply/bundle.js";
import type { HookRun, Lifecycle } from "./apply/lifecycle.js";
import type { QubesModel } from "./model/network.js";
import type { Namespaces } from "./model/namespaces.js";

export const EVENT_NAMES = ["apply", "reapply", "firewall-reload", "restart", "recreate", "delete-intent"] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

export interface EventContext {
  readonly model: QubesModel;
  readonly lifecycle: Lifecycle;
  readonly namespaces: Namespaces;
  apply(bundle: "initial" | "after-delete"): Promise<ApplyReport>;
  /** Qubes that carry qwire files, in boot order. */
  readonly carriers: readonly QubeName[];
  /** The qube `recreate` recreates, or why there is none. */
  readonly victim: QubeName | { readonly none: string };
  /** The intent `delete-intent` removes, or why there is none. */
  readonly deleted: string | { readonly none: string };
}

export interface EventStep {
  readonly title: string;
  readonly checks: readonly Check[];
  /** Which flows hold afterwards. */
  readonly flows: "initial" | "after-delete" | "none";
}

export async function runEvent(name: EventName, ctx: EventContext): Promise<EventStep> {
  switch (name) {
    case "apply": {
      const report = await ctx.apply("initial");
      return {
        title: "bundle applied (install.sh: qwire.dom0, then qwire.vm on every target)",
        checks: [applyCheck("apply", report)],
        flows: "initial",
      };
    }
    case "reapply": {
      const before = await snapshot(ctx);
      const report = await ctx.apply("initial");
      const after = await snapshot(ctx);
      const checks: Check[] = [applyCheck("apply again", report)];
      const fileChanges = report.targets.flatMap((t) =>
        t.states.filter((s) => s.changed && s.function.startsWith("file.")).map((s) => `${t.target}: ${s.id}`),
      );
      checks.push({
        name: "no file changed",
        pass: fileChanges.length === 0,
        detail:
          fileChanges.length === 0
            ? "every file state was already in the right state"
            : `changed on the second apply: ${fileChanges.join(", ")}`,
      });
      for (const [qube, text] of before) {
        const diff = firstDifference(text, after.get(qube) ?? "");
        checks.push({
          name: `ruleset of ${qube} identical`,
          pass: diff === undefined,
          detail: diff ?? "nft list ruleset is byte-identical (counters aside)",
        });
      }
      return { title: "bundle applied a second time (idempotency)", checks, flows: "initial" };
    }
    case "firewall-reload": {
      const net = ctx.model.qubes().filter((q) => q.providesNetwork && q.ns);
      for (const q of net) await ctx.lifecycle.reloadFirewall(q.name);
      return {
        title: `qubes-firewall restarted in ${net.map((q) => q.name).join(", ") || "no qube"} (table rebuilt, hooks re-run)`,
        checks: [],
        flows: "initial",
      };
    }
    case "restart": {
      for (const q of ctx.carriers) await ctx.lifecycle.restart(q);
      return {
        title: `qubes restarted: ${ctx.carriers.join(", ") || "none"} (fresh network stack, /rw kept, boot hooks run)`,
        checks: [],
        flows: "initial",
      };
    }
    case "recreate": {
      if (typeof ctx.victim !== "string")
        return { title: `recreate skipped: ${ctx.victim.none}`, checks: [], flows: "none" };
      const q = ctx.model.qube(ctx.victim);
      const old = q.ip;
      await ctx.lifecycle.recreate(ctx.victim);
      const report = await ctx.apply("initial");
      return {
        title: `${ctx.victim} recreated with a new address (${old} -> ${q.ip}) and an empty /rw, bundle re-applied`,
        checks: [
          applyCheck("re-apply", report),
          { name: "new address", pass: q.ip !== old, detail: `${old} -> ${q.ip}` },
        ],
        flows: "initial",
      };
    }
    case "delete-intent": {
      if (typeof ctx.deleted !== "string")
        return { title: `delete-intent skipped: ${ctx.deleted.none}`, checks: [], flows: "none" };
      const report = await ctx.apply("after-delete");
      return {
        title: `${ctx.deleted} removed from qwire.yaml, new bundle applied`,
        checks: [applyCheck("apply", report)],
        flows: "after-delete",
      };
    }
  }
}

function applyCheck(name: string, report: ApplyReport): Check {
  const failed = report.targets.flatMap((t) =>
    t.states.filter((s) => !s.result).map((s) => `${t.target}: ${s.id} (${s.function}): ${s.comment}`),
  );
  return {
    name,
    pass: report.ok,
    detail: report.ok
      ? `${report.targets.length} target(s), every state succeeded`
      : `failed states: ${failed.join("; ")}`,
  };
}

async function snapshot(ctx: EventContext): Promise<Map<QubeName, string>> {
  const out = new Map<QubeName, string>();
  for (const q of ctx.model.qubes()) {
    if (q.ns) out.set(q.name, normalizeRuleset(await ctx.namespaces.listRuleset(q.ns)));
  }
  return out;
}

/** Counters change with every probe; everything else must not. */
export function normalizeRuleset(text: string): string {
  return text.replace(/counter packets \d+ bytes \d+/g, "counter");
}

function firstDifference(a: string, b: string): string | undefined {
  if (a === b) return undefined;
  const la = a.split("\n");
  const lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i])
      return `line ${i + 1}: before ${JSON.stringify((la[i] ?? "<end>").trim())}, after ${JSON.stringify((lb[i] ?? "<end>").trim())}`;
  }
  return "differs";
}

export type { HookRun };
