/**
 * qvm-firewall lists, one section per qube: a line `== <qube>` (printed by
 * the dom0 loop in the README) followed by that qube's `qvm-firewall <qube>
 * list` output, either the table (header NO ACTION HOST PROTOCOL PORT(S)
 * SPECIAL TARGET ICMP TYPE EXPIRE COMMENT, aligned by `column -t`) or the
 * `--raw` form (one `action=... dst4=...` rule per line, qubesadmin's
 * Rule.rule) (qubesadmin/tools/qvm_firewall.py rules_list_table, rules_list_raw).
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../parse/index.js";
import { parseFirewallRule } from "../validate/firewall-rule.js";
import { ruleString, type FirewallRule } from "../validate/index.js";
import { lineSpan, outputLines, type InputLine } from "./input.js";

export interface ImportedList {
  readonly qube: string;
  /** In order, the final bare accept/drop taken out as the policy. */
  readonly rules: readonly FirewallRule[];
  readonly policy: "accept" | "drop";
  /** Rules qwire.yaml cannot hold (an expiry time), as written. */
  readonly unexpressed: readonly string[];
  readonly at: InputLine;
}

const TABLE_COLUMNS = [
  "NO",
  "ACTION",
  "HOST",
  "PROTOCOL",
  "PORT(S)",
  "SPECIAL TARGET",
  "ICMP TYPE",
  "EXPIRE",
  "COMMENT",
] as const;
const TABLE_KEYS = [
  undefined,
  "action",
  "dsthost",
  "proto",
  "dstports",
  "specialtarget",
  "icmptype",
  "expire",
  "comment",
] as const;

export function readFirewallLists(source: SourceFile, known: ReadonlySet<string>, diag: DiagnosticBag): ImportedList[] {
  const out: ImportedList[] = [];
  let section:
    { qube: string; at: InputLine; rules: FirewallRule[]; unexpressed: string[]; columns?: number[] } | undefined;
  /** After a section already reported (unknown or repeated qube): its lines are not read. */
  let skipping = false;
  const close = () => {
    if (!section) return;
    const { rules } = section;
    const last = rules[rules.length - 1];
    // qubesd ends every list with an implicit drop; a bare last rule is the policy.
    const bare = last !== undefined && Object.keys(last).length === 1;
    out.push({
      qube: section.qube,
      rules: bare ? rules.slice(0, -1) : rules,
      policy: bare ? last.action : "drop",
      unexpressed: section.unexpressed,
      at: section.at,
    });
  };
  const bad = (l: InputLine, why: string) =>
    diag.error("QW5004", lineSpan(l), `cannot read this qvm-firewall line: ${why}`, {
      hint: "run in dom0: qvm-firewall <qube> list (or qvm-firewall --raw <qube> list), after a line '== <qube>'",
    });
  for (const l of outputLines(source, diag)) {
    const header = /^== (\S+)\s*$/.exec(l.text);
    if (header) {
      close();
      section = undefined;
      skipping = true;
      const qube = header[1]!;
      if (!known.has(qube)) {
        diag.error("QW5005", lineSpan(l), `'${qube}' is not in the qvm-ls output`, {
          hint: "list every qube with qvm-ls, or remove this section",
        });
        continue;
      }
      if (out.some((o) => o.qube === qube)) {
        diag.error("QW5005", lineSpan(l), `'${qube}' has a second section`, {
          hint: "keep one '== <qube>' section per qube",
        });
        continue;
      }
      section = { qube, at: l, rules: [], unexpressed: [] };
      skipping = false;
      continue;
    }
    if (!section) {
      if (skipping) continue;
      diag.error("QW5005", lineSpan(l), "a qvm-firewall line before any '== <qube>' line: whose list is it?", {
        hint: "start each qube's list with a line '== <qube>'",
      });
      continue;
    }
    let fields: string;
    if (l.text.startsWith("NO ") && l.text.includes("ACTION")) {
      const columns = TABLE_COLUMNS.map((c) => l.text.indexOf(c));
      if (columns.some((c, i) => c < 0 || (i > 0 && c <= columns[i - 1]!))) bad(l, "the table header lacks a column");
      else section.columns = columns;
      continue;
    }
    if (section.columns) {
      const cols = section.columns;
      const cells = cols.map((c, i) => l.text.slice(c, i + 1 < cols.length ? cols[i + 1] : undefined).trim());
      if (!/^\d+$/.test(cells[0] ?? "")) {
        bad(l, `a table row starts with the rule number, found '${cells[0] ?? ""}'`);
        continue;
      }
      fields = cells
        .flatMap((v, i) => (TABLE_KEYS[i] === undefined || v === "-" || v === "" ? [] : [`${TABLE_KEYS[i]}=${v}`]))
        .join(" ");
      // The comment column takes the rest of the line; it must come last for the parser.
    } else fields = l.text.trim();
    if (/(^| )expire=/.test(fields)) {
      section.unexpressed.push(fields);
      continue;
    }
    const rule = parseFirewallRule(fields);
    if (!rule.ok) {
      bad(l, rule.message);
      continue;
    }
    section.rules.push(rule.value);
  }
  close();
  return out;
}

/** The rule as qwire.yaml writes it (qvm-firewall's own key=value form). */
export function ruleText(r: FirewallRule): string {
  return ruleString(r).replace(/^action=/, "");
}
