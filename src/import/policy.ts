/**
 * qubes.ConnectTCP lines of /etc/qubes/policy.d (the R4.1+ policy format:
 * `service argument source target action [params]`, e.g. `qubes.ConnectTCP
 * +22 work @default allow target=vault`). qwire.yaml can say exactly one
 * kind: allow, one port, one source qube, to @default with target=<qube>
 * (how qwire's own 30-qwire.policy and qvm-connect-tcp users write it).
 * Every other line is kept as a comment in the imported file.
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { SourceFile } from "../parse/index.js";
import { lineSpan, outputLines, type InputLine } from "./input.js";

export interface ImportedCall {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly at: InputLine;
}

export interface ImportedPolicy {
  readonly calls: readonly ImportedCall[];
  /** Lines qwire.yaml cannot express, with the reason. */
  readonly unexpressed: readonly { readonly line: string; readonly why: string }[];
}

export function readPolicy(source: SourceFile, known: ReadonlySet<string>, diag: DiagnosticBag): ImportedPolicy {
  const calls: ImportedCall[] = [];
  const unexpressed: { line: string; why: string }[] = [];
  for (const l of outputLines(source, diag)) {
    // `grep -H` prefixes the file name; comments and other services are not ours.
    const text = l.text.replace(/^[^\s:]+\.policy:/, "").trim();
    if (text.startsWith("#") || !/^qubes\.ConnectTCP\b/.test(text)) continue;
    const words = text.split(/\s+/);
    if (words.length < 5) {
      diag.error(
        "QW5006",
        lineSpan(l),
        `cannot read this policy line: expected 'qubes.ConnectTCP +PORT SOURCE TARGET ACTION [target=QUBE]', found ${words.length} words`,
        {
          hint: "copy the lines with: grep -h ConnectTCP /etc/qubes/policy.d/*.policy",
        },
      );
      continue;
    }
    const [, arg = "", src = "", dst = "", action = "", ...params] = words;
    if (!/^(allow|deny|ask)$/.test(action)) {
      diag.error("QW5006", lineSpan(l), `cannot read this policy line: '${action}' is not allow, deny or ask`, {
        hint: "copy the lines with: grep -h ConnectTCP /etc/qubes/policy.d/*.policy",
      });
      continue;
    }
    const port = /^\+([1-9]\d{0,4})$/.exec(arg);
    const target =
      params.find((p) => p.startsWith("target="))?.slice("target=".length) ?? (dst.startsWith("@") ? undefined : dst);
    const why =
      action !== "allow"
        ? `'${action}' (qwire writes allow lines only)`
        : !port || Number(port[1]) > 65535
          ? `the argument '${arg}' is not one port (+PORT)`
          : src.startsWith("@")
            ? `the source '${src}' is not one qube`
            : !known.has(src)
              ? `'${src}' is not in the qvm-ls output`
              : target === undefined || target.startsWith("@")
                ? "no target=<qube>"
                : !known.has(target)
                  ? `'${target}' is not in the qvm-ls output`
                  : undefined;
    if (why !== undefined) {
      unexpressed.push({ line: text, why });
      continue;
    }
    if (!calls.some((c) => c.from === src && c.to === target && c.port === Number(port![1])))
      calls.push({ from: src, to: target!, port: Number(port![1]), at: l });
  }
  return { calls, unexpressed };
}
