/** `qwire build [file] -o <dir>`: compile qwire.yaml and write the bundle; prints what was written and what to do next. */
import { emitAsProduced, EmitError, readPreviousPlan, recoverOutput, type PreviousPlan } from "../emit/index.js";
import { compilePlan } from "../pipeline.js";
import { dirname } from "node:path";
import type { QubePlan } from "../plan/index.js";
import { renderTo, type RenderedBundle } from "../render/index.js";
import { installPaths, layoutOf, runsFromHookFolder } from "../render/layout.js";
import { EXIT } from "./exit-codes.js";
import { readFleet, sourcesOf } from "./read-source.js";
import { printDiagnostics, type OutputFormat } from "./report.js";

export async function runBuild(
  file: string,
  opts: { output: string; previous?: string; format: OutputFormat; host?: string },
): Promise<number> {
  const read = await readFleet(file, opts.host);
  if (typeof read === "number") return read;
  const { source, files } = read;
  let previous: PreviousPlan | undefined;
  try {
    // An interrupted earlier build may have left the previous bundle aside: put it back before reading its plan.json.
    for (const note of recoverOutput(opts.output)) process.stderr.write(`qwire: note: ${note}\n`);
    previous =
      opts.previous !== undefined ? await readPreviousPlanFile(opts.previous) : await readPreviousPlan(opts.output);
  } catch (e) {
    if (!(e instanceof EmitError)) throw e;
    process.stderr.write(`qwire: ${e.message}\n`);
    return EXIT.usage;
  }
  const hadPrevious = previous !== undefined;
  const result = compilePlan(source, {
    previousQubes: previous?.qubes ?? [],
    previousHosts: previous?.hosts ?? [],
    ...(previous === undefined ? {} : { previousPlan: previous.source }),
    fleet: files.fleet,
  });
  printDiagnostics(result.diagnostics, source, opts.format, [
    ...(previous === undefined ? [] : [previous.source]),
    ...sourcesOf(files.texts),
  ]);
  if (!result.plan) return EXIT.diagnostics;
  const p = result.plan;
  let bundle: RenderedBundle;
  try {
    // Each file is written as soon as it is rendered, then let go (renderTo).
    bundle = emitAsProduced(opts.output, (write) => renderTo(p, write));
  } catch (e) {
    if (!(e instanceof EmitError)) throw e;
    process.stderr.write(`qwire: ${e.message}\n`);
    return EXIT.usage;
  }
  if (opts.format === "text") {
    const layout = layoutOf(p.release);
    // "in /rw/config/qubes-firewall.d" for hook folders; the file itself when a marked block calls it.
    const scriptWhere = (q: QubePlan) => {
      const { script } = installPaths(q, layout);
      return runsFromHookFolder(q.placement) ? `in ${dirname(script)}` : `${script} (called from ${q.placement})`;
    };
    const lines = [
      `qwire: wrote ${opts.output}/ (${bundle.files.length} files) for Qubes R${p.release}`,
      ...p.qubes.map((q) =>
        q.host !== undefined
          ? `  ${q.qube}: ${q.decisions.length} intent line(s), ${p.backend} script ${installPaths(q, layout).script} in ${q.host.kind === "disposable" ? "the disposable template" : "the template"} ${q.host.qube}; loaded when ${q.qube} next starts`
          : `  ${q.qube}: ${q.decisions.length} intent line(s)${q.hasPacketRules ? `, ${p.backend} script ${scriptWhere(q)}` : ""}${q.connects.length > 0 ? `, qrexec sockets ${layout.markedBlocks ? `from ${layout.connectPath} (called from rc.local)` : "in /rw/config/rc.local.d"}` : ""}`,
      ),
      ...p.hosts
        .filter((h) => h.guests.length === 0)
        .map((h) => `  ${h.host}: held qwire scripts of other qubes in the previous build; they are removed`),
      ...p.teardowns.map((t) => `  ${t.qube}: teardown (it carried qwire rules in the previous build)`),
      `  dom0: ${p.creates.length > 0 ? `creates ${p.creates.map((c) => c.qube).join(", ")} when missing; ` : ""}${p.prefs.length} qube(s) with netvm preferences, ${p.firewalls.length} with an outbound policy`,
      ...(hadPrevious
        ? []
        : [
            "note: no plan.json of an earlier build was found, so no qube gets a teardown; if an earlier bundle is applied,",
            "      build into its folder (or pass --previous <its plan.json>) so that qubes which lost all rules are cleaned up",
          ]),
      ...(p.qubes.some((q) => q.host !== undefined)
        ? [
            `note: restart ${p.qubes
              .filter((q) => q.host !== undefined)
              .map((q) => q.qube)
              .join(", ")} after install.sh: a qube whose scripts are in its (disposable) template`,
            "      loads its qwire rules only when it starts (once that template has shut down; qubesctl shuts it down if it was not running)",
          ]
        : []),
      `bundle digest: sha256 ${bundle.digest} (sha256sum plan.json; install.sh prints it too: compare them in dom0)`,
      `next: read ${opts.output}/README.md, copy ${opts.output}/ to dom0, run: sudo ./install.sh --dry-run`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return EXIT.ok;
}

async function readPreviousPlanFile(path: string) {
  const dir = path.replace(/\/?plan\.json$/, "") || ".";
  const previous = await readPreviousPlan(dir);
  if (previous === undefined) throw new EmitError(`${path} is not a plan.json written by qwire`);
  return previous;
}
