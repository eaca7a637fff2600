/**
 * `firewall:` — a qube's outbound policy, keyed by qube: its qvm-firewall
 * rules in order, then the policy for everything else (DESIGN.md §2).
 */
import * as z from "zod";
import { MAX_FIREWALL_RULES, type ReleaseProfile } from "../../release/index.js";
import { parseFirewallRule, type FirewallRule } from "../firewall-rule.js";
import { r32Refusal } from "../firewall-r32.js";
import { isMapping, qubeName, report, warn, type Ctx } from "../grammar.js";
import type { FirewallSpec, QubeName } from "../spec.js";

const RULE_INPUT = {
  description: "a qvm-firewall rule: 'accept dsthost=1.1.1.1 proto=tcp dstports=443', or a mapping of the same keys",
  anyOf: [
    { type: "string" },
    { type: "object", additionalProperties: { anyOf: [{ type: "string" }, { type: "number" }] } },
  ],
};

function rule(warnings: boolean) {
  return z
    .unknown()
    .meta(RULE_INPUT)
    .transform((raw, ctx): FirewallRule => {
      const parsed = parseFirewallRule(raw);
      if (!parsed.ok) {
        report(ctx, "QW2013", parsed.message, { hint: "see 'man qvm-firewall' for the rule syntax" });
        return z.NEVER;
      }
      const r = parsed.value;
      if (warnings && r.dsthost?.kind === "host") {
        warn(
          ctx,
          "QW2014",
          `'${r.dsthost.text}' is resolved once, in the netvm, when the rules are applied, not per connection`,
          {
            hint: "a service whose address changes breaks until the next apply, and if the name does not resolve the netvm blocks all of this qube's traffic; prefer addresses",
          },
        );
      }
      return r;
    });
}

function firewallBody(warnings: boolean) {
  return z.strictObject({
    policy: z.enum(["drop", "accept"]).optional(),
    rules: z.array(rule(warnings)).optional(),
  });
}
type FirewallBody = z.output<ReturnType<typeof firewallBody>>;

/** What the release cannot hold: R3.2's qvm-firewall model (QW4007), too many rules (QW4006). */
function checkFirewall(qube: string, f: Partial<FirewallBody>, profile: ReleaseProfile, ctx: Ctx): void {
  const policy = f.policy === "accept" ? "accept" : "drop";
  const rules = Array.isArray(f.rules) ? f.rules : [];
  if (profile.outbound.model === "exceptions") {
    // R3.2's qvm-firewall is a policy with exceptions and two switches: refuse what it cannot hold.
    rules.forEach((r, i) => {
      const refusal = r === undefined ? undefined : r32Refusal(r, policy);
      if (refusal !== undefined) {
        report(ctx, "QW4007", `outbound rule ${i + 1} of '${qube}' cannot be written on Qubes R${profile.release}`, {
          path: [qube, "rules", i],
          hint: refusal,
        });
      }
    });
  }
  const count = rules.filter((r) => r !== undefined).length;
  if (count > profile.outbound.maxRules) {
    const intoNetvm = profile.outbound.overflow === "netvm";
    report(
      ctx,
      "QW4006",
      intoNetvm
        ? `${count} outbound rules for '${qube}': past ${MAX_FIREWALL_RULES} qwire moves the overflow into the netvm, but only up to ${profile.outbound.maxRules} rules`
        : `${count} outbound rules for '${qube}': qubesd fails somewhere past ${MAX_FIREWALL_RULES} (Qubes issue #4228)`,
      {
        path: [qube, "rules"],
        at: "key",
        hint: intoNetvm
          ? "merge rules into networks or port ranges"
          : "merge rules into networks or port ranges; on Qubes R4.2 and R4.3 qwire moves the rules past the limit into the netvm",
      },
    );
  }
}

/** `firewall:` for one release: FirewallSpec[], sorted by qube. */
export function firewallSection(profile: ReleaseProfile, warnings: boolean) {
  return z
    .record(qubeName(), firewallBody(warnings))
    .superRefine(
      (firewalls, ctx) => {
        if (isMapping(firewalls))
          for (const [qube, body] of Object.entries(firewalls))
            if (isMapping(body)) checkFirewall(qube, body, profile, ctx);
      },
      { when: () => true },
    )
    .transform((firewalls): FirewallSpec[] =>
      Object.entries(firewalls)
        .map(([qube, f]) => ({
          qube: qube as QubeName,
          policy: f.policy ?? "drop",
          rules: f.rules ?? [],
          path: ["firewall", qube],
        }))
        .sort((a, b) => (a.qube < b.qube ? -1 : a.qube > b.qube ? 1 : 0)),
    );
}
