/**
 * `qvm-ls --raw-data --fields NAME,CLASS,NETVM,PROVIDES_NETWORK,TEMPLATE,LABEL`:
 * one qube per line, fields joined by '|', '-' where a value is None
 * (qubesadmin/tools/qvm_ls.py, Column.cell and Table.write_table).
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../parse/index.js";
import { parseQubeName } from "../validate/values.js";
import { lineSpan, outputLines, type InputLine } from "./input.js";

export const QVM_LS_FIELDS = "NAME,CLASS,NETVM,PROVIDES_NETWORK,TEMPLATE,LABEL";

const CLASSES = ["AdminVM", "AppVM", "DispVM", "StandaloneVM", "TemplateVM", "RemoteVM"] as const;

export interface ListedQube {
  readonly name: string;
  readonly klass: (typeof CLASSES)[number];
  readonly netvm?: string;
  readonly providesNetwork: boolean;
  readonly template?: string;
  readonly label?: string;
  readonly at: InputLine;
}

export function readQvmLs(source: SourceFile, diag: DiagnosticBag): ListedQube[] {
  const lines = outputLines(source, diag);
  const qubes: ListedQube[] = [];
  const bad = (l: InputLine, why: string) =>
    diag.error("QW5001", lineSpan(l), `cannot read this qvm-ls line: ${why}`, {
      hint: `run in dom0: qvm-ls --raw-data --fields ${QVM_LS_FIELDS}`,
    });
  for (const l of lines) {
    const fields = l.text.split("|");
    if (fields.length !== 6) {
      bad(l, `expected 6 fields separated by '|' (${QVM_LS_FIELDS}), found ${fields.length}`);
      continue;
    }
    const [name = "", klass = "", netvm = "", provides = "", template = "", label = ""] = fields;
    const isDom0 = klass === "AdminVM";
    const parsedName = isDom0 ? { ok: true as const } : parseQubeName(name);
    if (!parsedName.ok) {
      bad(l, parsedName.message);
      continue;
    }
    if (!(CLASSES as readonly string[]).includes(klass)) {
      bad(l, `'${klass}' is not a qube class (${CLASSES.join(", ")})`);
      continue;
    }
    if (provides !== "True" && provides !== "False") {
      bad(l, `PROVIDES_NETWORK is '${provides}', expected True or False`);
      continue;
    }
    if (netvm !== "-" && !parseQubeName(netvm).ok) {
      bad(l, `NETVM '${netvm}' is not a qube name`);
      continue;
    }
    if (qubes.some((q) => q.name === name)) {
      bad(l, `'${name}' is listed twice`);
      continue;
    }
    qubes.push({
      name,
      klass: klass as ListedQube["klass"],
      ...(netvm === "-" ? {} : { netvm }),
      providesNetwork: provides === "True",
      ...(template === "-" ? {} : { template }),
      ...(label === "-" ? {} : { label }),
      at: l,
    });
  }
  if (lines.length === 0)
    diag.error("QW5001", { line: 1, column: 1, length: 1 }, "the qvm-ls output is empty", {
      hint: `run in dom0: qvm-ls --raw-data --fields ${QVM_LS_FIELDS}`,
    });
  for (const q of qubes) {
    if (q.netvm !== undefined && !qubes.some((o) => o.name === q.netvm)) {
      diag.error("QW5003", lineSpan(q.at), `'${q.name}' uses the netvm '${q.netvm}', which this output does not list`, {
        hint: "the output looks incomplete: copy all of it again",
      });
    }
  }
  return qubes;
}
