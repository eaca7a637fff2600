/**
 * dom0's states for the qubes qwire.yaml asks to create (`create:`), built
 * as data like the rest of dom0.sls. qvm.present runs `qvm-create` only when
 * the qube is missing and otherwise reports "[SKIP] A VM with the name ...
 * already exists" without touching it (qubes-mgmt-salt-dom0-qvm `present`):
 * an existing qube keeps its class, template and label, and is never
 * deleted or recreated. Every other state about a created qube requires its
 * creation (createRequisites).
 */
import type { Dom0Create, Plan } from "../plan/index.js";
import type { QubeName } from "../validate/index.js";
import { oneCommand, saltShell } from "./salt-shell.js";
import { state, type Requisite, type SaltStates } from "./salt-states.js";

export const createId = (q: QubeName) => `qwire-create-${q}`;
const templateCheckId = (t: QubeName) => `qwire-template-${t}`;

/**
 * For each template a created qube is made from and this bundle does not
 * create: a state that fails, saying which template is missing and for
 * which qubes, unless `qvm-check` finds it. qvm-create's own error would
 * only say "no such domain" in the middle of Salt's output.
 */
function templateChecks(creates: readonly Dom0Create[]): SaltStates {
  const states: SaltStates = {};
  const byTemplate = new Map<QubeName, QubeName[]>();
  for (const c of creates)
    if (!c.templateCreated) byTemplate.set(c.template, [...(byTemplate.get(c.template) ?? []), c.qube]);
  for (const [template, qubes] of byTemplate) {
    states[templateCheckId(template)] = state("cmd.run", {
      name: saltShell("template-missing", {
        message: `qwire: the template ${template} does not exist, so ${qubes.join(", ")} cannot be created: install or create it, or change create.template in qwire.yaml`,
      }),
      unless: oneCommand(["qvm-check", "--quiet", "--", template]),
    });
  }
  return states;
}

export function createStates(plan: Plan): SaltStates {
  const states: SaltStates = templateChecks(plan.creates);
  const prefsOf = new Map(plan.prefs.map((p) => [p.qube, p]));
  for (const c of plan.creates) {
    // A DispVM's template must exist and be a disposable template (template_for_dispvms) first.
    const template: Requisite[] = c.templateCreated
      ? [
          { qvm: createId(c.template) },
          ...(prefsOf.get(c.template)?.templateForDispvms ? [{ qvm: `qwire-prefs-${c.template}` }] : []),
        ]
      : [{ cmd: templateCheckId(c.template) }];
    states[createId(c.qube)] = state("qvm.present", {
      name: c.qube,
      class: c.class,
      template: c.template,
      label: c.label,
      require: template,
    });
  }
  return states;
}

/** The requisites of a state about these qubes: the creation of each one qwire creates. */
export function createRequisites(plan: Plan, qubes: readonly (QubeName | undefined)[]): Requisite[] {
  const created = new Set(plan.creates.map((c) => c.qube));
  return [...new Set(qubes)].flatMap((q) => (q !== undefined && created.has(q) ? [{ qvm: createId(q) }] : []));
}
