/**
 * `create:` against the other qubes of qwire.yaml (QW3030): the template a
 * created qube is made from must be able to be one. qwire.yaml does not
 * say what class an undeclared or plain qube has, so only what it does say
 * is held against the template:
 *
 * - an AppVM or StandaloneVM is made from a TemplateVM: a qube qwire creates
 *   (AppVM, StandaloneVM, DispVM: never a template), a net qube, or a qube
 *   another qube names as its disposable template is not one;
 * - a DispVM is made from a disposable template (an AppVM or StandaloneVM
 *   with template_for_dispvms): a qube qwire creates without
 *   `template_for_dispvms: true`, or one another qube uses as its template
 *   (`placement: template`: a TemplateVM), is not one;
 * - no qube is made from itself.
 *
 * The rest (a template that does not exist) is only known in dom0: its
 * state says so when the bundle is applied.
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { ParsedDocument } from "../parse/index.js";
import type { IntentSpec, QubeName, QubeSpec } from "../validate/index.js";
import type { NetvmGraph } from "./graph.js";

export function checkCreates(
  spec: IntentSpec,
  graph: NetvmGraph,
  doc: ParsedDocument,
  diag: DiagnosticBag,
  declaredAt: (q: QubeName) => ReturnType<ParsedDocument["positions"]["key"]>,
): void {
  const hostsAs = (kind: "disposable" | "template") =>
    new Set(spec.qubes.flatMap((q) => (q.guestOf?.kind === kind ? [q.guestOf.host] : [])));
  const disposableTemplates = hostsAs("disposable");
  const templates = hostsAs("template");
  for (const q of spec.qubes) {
    const c = q.create;
    if (c === undefined) continue;
    const at = doc.positions.value([...c.path, "template"]);
    if (c.template === q.name) {
      diag.error("QW3030", at, `'create:' makes '${q.name}' from itself`, {
        hint: "name the template it is made from (qvm-ls --class TemplateVM lists them)",
      });
      continue;
    }
    const t = graph.get(c.template);
    if (t === undefined) continue;
    const why = c.class === "DispVM" ? notADisposableTemplate(t, templates) : notATemplate(t, disposableTemplates);
    if (why === undefined) continue;
    diag.error(
      "QW3030",
      at,
      `'create:' makes '${q.name}' (${c.class}) from '${t.name}', but qwire.yaml declares '${t.name}' as ${why}`,
      {
        notes: [{ message: `'${t.name}' is declared here`, span: declaredAt(t.name) }],
        hint:
          c.class === "DispVM"
            ? `a DispVM starts from a disposable template: give '${t.name}' 'create: { class: AppVM, template_for_dispvms: true, ... }', or name another one`
            : `class ${c.class} is made from a TemplateVM (qvm-ls --class TemplateVM lists them): name one of those`,
      },
    );
  }
}

/** Why `t` cannot be the TemplateVM of an AppVM or StandaloneVM, or undefined when qwire.yaml does not say. */
function notATemplate(t: QubeSpec, disposableTemplates: ReadonlySet<QubeName>): string | undefined {
  if (t.create !== undefined)
    return `a qube it creates with class ${t.create.class}${t.create.templateForDispvms ? " (a disposable template)" : ""}, not a template`;
  if (t.providesNetwork) return "a net qube (provides_network), not a template";
  if (disposableTemplates.has(t.name)) return "the disposable template of a net qube (an AppVM), not a template";
  return undefined;
}

/** Why `t` cannot be the disposable template of a DispVM, or undefined when qwire.yaml does not say. */
function notADisposableTemplate(t: QubeSpec, templates: ReadonlySet<QubeName>): string | undefined {
  if (t.create !== undefined && (t.create.class === "DispVM" || !t.create.templateForDispvms)) {
    return `a qube it creates with class ${t.create.class} ${t.create.class === "DispVM" ? "(a disposable cannot be a disposable template)" : "without 'template_for_dispvms: true'"}`;
  }
  if (templates.has(t.name))
    return "the template of a 'placement: template' qube (a TemplateVM), not a disposable template";
  return undefined;
}
