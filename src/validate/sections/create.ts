/**
 * `create:` inside a qube of `qubes:` — dom0 creates the qube when it is
 * missing (Salt's qvm.present, i.e. `qvm-create --class C --template T
 * --label L`), and never changes or deletes one that exists. What the
 * checks here rest on (qubes-mgmt-salt-dom0-qvm `create`, qubes-core-admin-
 * client `qvm-create`, reference qubes-salt.md §4.1):
 *
 * - `qvm-create` refuses a qube without `--label`, and knows the labels
 *   red orange yellow green gray blue purple black;
 * - qwire creates AppVM, StandaloneVM and DispVM, each from a template it
 *   names: an AppVM without one would take whatever dom0's default template
 *   is on the day of the reinstall, a StandaloneVM without one is an empty
 *   disk, a DispVM needs a disposable template. A TemplateVM created by
 *   qvm-create is an empty disk with no OS (templates come from
 *   qvm-template / qubes-dom0-update), so qwire refuses it.
 *
 * Checks that need the other qubes (a template declared in qwire.yaml as
 * something else) are in topology/create.ts.
 */
import * as z from "zod";
import type { ReleaseProfile } from "../../release/index.js";
import { isMapping, qubeName, releaseList, report, type Ctx } from "../grammar.js";
import { QUBE_LABELS, type CreatedClass, type CreateSpec, type QubeLabel, type QubeName } from "../spec.js";
import type { YamlPath } from "../../parse/index.js";

const CLASSES: readonly CreatedClass[] = ["AppVM", "StandaloneVM", "DispVM"];

const createdClass = z
  .unknown()
  .meta({ enum: [...CLASSES], description: "the class of the qube qwire creates" })
  .transform((value, ctx): CreatedClass => {
    if (typeof value === "string" && (CLASSES as readonly string[]).includes(value)) return value as CreatedClass;
    const template = value === "TemplateVM";
    report(
      ctx,
      "QW2030",
      template
        ? "qwire does not create templates: qvm-create makes a TemplateVM with an empty disk and no operating system"
        : `'${String(value)}' is not a class qwire creates`,
      {
        hint: template
          ? "install the template with qvm-template install (R4.1+) or qubes-dom0-update, and name it in 'template:' of the qubes made from it"
          : `use ${CLASSES.join(", ")}`,
      },
    );
    return z.NEVER;
  });

const label = z
  .unknown()
  .meta({ enum: [...QUBE_LABELS], description: "the qube's colour label" })
  .transform((value, ctx): QubeLabel => {
    if (typeof value === "string" && (QUBE_LABELS as readonly string[]).includes(value)) return value as QubeLabel;
    report(ctx, "QW2031", `'${String(value)}' is not a Qubes label`, { hint: `use one of ${QUBE_LABELS.join(", ")}` });
    return z.NEVER;
  });

export const CreateBody = z
  .strictObject({
    class: createdClass.describe("AppVM, StandaloneVM or DispVM"),
    template: qubeName().optional().describe("the template it is made from (for a DispVM: its disposable template)"),
    label: label.optional(),
    template_for_dispvms: z.boolean().optional().describe("the created qube is a disposable template"),
  })
  .describe("create the qube in dom0 when it is missing; an existing qube is never changed or deleted");
type CreateBody = z.output<typeof CreateBody>;

/** What a qube around its `create:` says about where its files live (its other keys). */
interface Around {
  readonly provides_network?: unknown;
  readonly disposable_template?: unknown;
  readonly placement?: unknown;
  readonly template?: unknown;
}

/** `create:` against the release and the qube's other keys; `c` holds what zod accepted (refused values are raw or missing). */
export function checkCreate(name: string, c: Partial<CreateBody>, q: Around, profile: ReleaseProfile, ctx: Ctx): void {
  const at = (key: string, where: "key" | "value" = "value") => ({
    path: [name, "create", ...(key === "" ? [] : [key])],
    at: where,
  });
  if (!profile.capabilities.create) {
    report(ctx, "QW4030", `qwire does not create qubes on Qubes R${profile.release}: its qvm-create has no --class`, {
      ...at("", "key"),
      hint: `create '${name}' by hand (qvm-create), then remove 'create:'; qwire creates qubes on ${releaseList("create")}`,
    });
    return;
  }
  const cls = typeof c.class === "string" && (CLASSES as readonly string[]).includes(c.class) ? c.class : undefined;
  if (!("label" in c)) {
    report(ctx, "QW2002", `'create:' of '${name}' needs 'label:': qvm-create refuses a qube without one`, {
      ...at("", "key"),
      hint: `add e.g. 'label: orange' (${QUBE_LABELS.join(", ")})`,
    });
  }
  if (!("template" in c) && cls !== undefined) {
    const why =
      cls === "DispVM"
        ? "a disposable starts from a disposable template (an AppVM with template_for_dispvms)"
        : cls === "StandaloneVM"
          ? "a StandaloneVM is a copy of a template's disk; without one it is an empty disk"
          : "without one it would get whatever dom0's default template is on the day it is created";
    report(ctx, "QW2032", `'create:' of '${name}' (${cls}) needs 'template:': ${why}`, {
      ...at("", "key"),
      hint:
        cls === "DispVM"
          ? "add e.g. 'template: default-dvm'"
          : "add e.g. 'template: debian-12-xfce' (qvm-ls --class TemplateVM lists them)",
    });
  }
  if (cls === "DispVM" && c.template_for_dispvms === true) {
    report(ctx, "QW3031", `'${name}' is created as a DispVM, which cannot be a disposable template`, {
      ...at("template_for_dispvms", "key"),
      hint: "make the disposable template an AppVM ('class: AppVM', 'template_for_dispvms: true') and the DispVM's 'template:' name it",
    });
  }
  const disposable = typeof q.disposable_template === "string" ? q.disposable_template : undefined;
  if (cls === "DispVM" && q.provides_network === true && disposable === undefined) {
    report(
      ctx,
      "QW3031",
      `'${name}' is created as a DispVM that provides network, but its /rw (where qwire's files go) is thrown away at every start`,
      {
        ...at("class"),
        hint: `add 'disposable_template: ${typeof c.template === "string" ? c.template : "<its template>"}' beside 'create:' (qwire then puts the files in the disposable template), or create it as an AppVM`,
      },
    );
  }
  if (disposable !== undefined && cls !== undefined && cls !== "DispVM") {
    report(
      ctx,
      "QW3032",
      `'${name}' names a disposable template ('disposable_template: ${disposable}'), but 'create:' gives it class ${cls}, not DispVM`,
      {
        ...at("class"),
        hint: `use 'class: DispVM' and 'template: ${disposable}', or remove 'disposable_template'`,
      },
    );
  }
  const host = disposable ?? (q.placement === "template" && typeof q.template === "string" ? q.template : undefined);
  if (host !== undefined && typeof c.template === "string" && c.template !== host) {
    const key = disposable !== undefined ? "disposable_template" : "template";
    report(
      ctx,
      "QW3032",
      `'create:' makes '${name}' from '${c.template}', but '${key}: ${host}' says its files go to '${host}'`,
      {
        ...at("template"),
        hint: `both name the qube's template: write '${host}' in both, or the other one in both`,
      },
    );
  }
}

export function createSpec(c: CreateBody, path: YamlPath): CreateSpec {
  return {
    class: c.class,
    template: c.template as QubeName,
    label: c.label as QubeLabel,
    templateForDispvms: c.template_for_dispvms === true,
    path,
  };
}

/** The raw `create:` mapping of a qube, if it is one (checks run on what zod left of it). */
export function createOf(q: Record<string, unknown>): Partial<CreateBody> | undefined {
  const c = q.create;
  return isMapping(c) ? c : undefined;
}
