/**
 * install.sh through the real management stack (the twin: real qubesctl,
 * qubessalt, Salt, topd, qvm.* states and qubesadmin against a model
 * qubesd), over one 20-qube qwire.yaml (see WEBS): a first apply, a quiet re-apply, a
 * one-intent edit that must target only the qubes on that intent's path
 * (counted), --rollback, a qube whose address changed in dom0, a missing
 * management disposable (verdict, hint, exit 3, retried next time), a qube
 * that no longer exists, a qube an earlier bundle left behind, and
 * --uninstall. Two twin runs (the twin gives one --exec 15 minutes), ~10
 * minutes of the machine: only with QWIRE_REAL_STACK=1 and the twin present.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileOk } from "../helpers/compile.js";
import { writeBundle } from "../helpers/tools.js";
import { run, step, targeted, TWIN_DOM0_GAPS, twinExec, verdict } from "./install-steps.js";
import { findStack, present } from "./stack.js";

const stack = findStack();
const missing = [
  ...(process.env.QWIRE_REAL_STACK === "1" ? [] : ["QWIRE_REAL_STACK=1 (one twin run takes ~10 minutes)"]),
  ...("absent" in stack ? [stack.absent] : []),
];
if (missing.length > 0) console.warn(`SKIPPED install.sh with the real stack: needs ${missing.join(", ")}`);

/**
 * 18 web qubes (20 in all) as the issue asks; QWIRE_LIFECYCLE_WEBS=N for a smaller file
 * when the machine is loaded (the twin gives one --exec 15 minutes, and every targeted
 * qube costs a management disposable).
 */
const WEBS = Array.from(
  { length: Number(process.env.QWIRE_LIFECYCLE_WEBS ?? "18") },
  (_, i) => `web-${String(i + 1).padStart(2, "0")}`,
);
const ALL = WEBS.length + 2;

/** 20 qubes; every web qube has its own forward. `edited` changes web-07's sources only. */
function twentyQubes(edited: boolean): string {
  return `${[
    "version: 1",
    'release: "4.2"',
    "qubes:",
    "  sys-net: { provides_network: true, uplink: ens6 }",
    "  sys-firewall: { netvm: sys-net, provides_network: true }",
    ...WEBS.map((w) => `  ${w}: { netvm: sys-firewall }`),
    "forwards:",
    ...WEBS.map(
      (w, i) =>
        `  - { name: ${w}-https, to: ${w}, port: ${8001 + i}, from: [${edited && w === "web-07" ? "192.168.2.0/24" : "192.168.1.0/24"}] }`,
    ),
  ].join("\n")}\n`;
}

let root = "";
beforeAll(async () => {
  if (missing.length > 0) return;
  // Under /var/tmp: the twin's machines see this machine's files, but each has its own /tmp.
  await mkdir("/var/tmp", { recursive: true });
  root = await mkdtemp("/var/tmp/qwt-lifecycle-");
});
afterAll(async () => {
  if (root !== "") await rm(root, { recursive: true, force: true });
});

describe.skipIf(missing.length > 0)(`install.sh with the real management stack: ${ALL} qubes, incremental`, () => {
  let out = "";
  beforeAll(async () => {
    const a = join(root, "a");
    const b = join(root, "b");
    await writeBundle(compileOk(twentyQubes(false)).artifacts, a);
    await writeBundle(compileOk(twentyQubes(true)).artifacts, b);
    out = await twinExec(
      present(stack),
      root,
      "twenty",
      twentyQubes(false),
      [
        TWIN_DOM0_GAPS,
        run("first", `cd ${a} && sh install.sh`),
        run("again", `cd ${a} && sh install.sh`),
        run("edit", `cd ${b} && sh install.sh`),
        run("rollback", `cd ${b} && sh install.sh --rollback`),
        "qvm-prefs web-07 ip 10.137.0.99 || { qvm-shutdown --wait web-07; qvm-prefs web-07 ip 10.137.0.99; }",
        run("address", `cd ${a} && sh install.sh`),
      ].join("\n"),
    );
  }, 35 * 60_000);

  it(`first apply: all ${ALL} qubes targeted and applied, exit 0`, () => {
    const s = step(out, "first");
    expect(s.rc, s.text).toBe(0);
    expect(targeted(s.text).sort()).toEqual(["sys-firewall", "sys-net", ...WEBS].sort());
    for (const q of ["sys-net", "sys-firewall", ...WEBS]) expect(verdict(s.text, q)).toMatch(/^applied /);
  });

  it("the same bundle again: no qube targeted (no management disposable started), exit 0", () => {
    const s = step(out, "again");
    expect(s.rc, s.text).toBe(0);
    expect(targeted(s.text)).toEqual([]);
    expect(s.text).toMatch(/==> No qube needs to be applied/);
    expect(verdict(s.text, "web-01")).toMatch(/^unchanged not targeted/);
  });

  it(`a one-intent edit targets only the qubes on that intent's path: 3 of ${ALL}, each with its reason`, () => {
    const s = step(out, "edit");
    expect(s.rc, s.text).toBe(0);
    const t = targeted(s.text);
    console.log(`one-intent edit of a ${ALL}-qube file: ${t.length} of ${ALL} qubes targeted (${t.join(", ")})`);
    expect(t).toEqual(["sys-firewall", "sys-net", "web-07"]);
    expect(s.text).toMatch(/^ {2}web-07: its files in the bundle changed$/m);
  });

  it("--rollback applies the bundle before again: the same 3 qubes, exit 0", () => {
    const s = step(out, "rollback");
    expect(s.rc, s.text).toBe(0);
    expect(targeted(s.text)).toEqual(["sys-firewall", "sys-net", "web-07"]);
  });

  it("a qube whose address changed in dom0: only the qube that needs that address is targeted, and says so", () => {
    const s = step(out, "address");
    expect(s.rc, s.text).toBe(0);
    expect(targeted(s.text)).toEqual(["sys-firewall"]);
    expect(s.text).toMatch(/^ {2}sys-firewall: address changed: web-07 10\.137\.0\.\d+ -> 10\.137\.0\.99$/m);
  });
});

const THREE = (withMail: boolean) => `version: 1
release: "4.2"
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  mail: { netvm: sys-firewall }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
${withMail ? "  - { name: mail-submission, to: mail, port: 587, from: [192.168.1.0/24] }\n" : ""}`;

describe.skipIf(missing.length > 0)("install.sh with the real management stack: failures, leftovers, uninstall", () => {
  let out = "";
  beforeAll(async () => {
    const a = join(root, "a");
    const c = join(root, "c");
    await rm(a, { recursive: true, force: true });
    await writeBundle(compileOk(THREE(true)).artifacts, a);
    // Built without the earlier plan.json: it does not name mail at all.
    await writeBundle(compileOk(THREE(false)).artifacts, c);
    out = await twinExec(
      present(stack),
      root,
      "three",
      THREE(true),
      [
        TWIN_DOM0_GAPS,
        run("first", `cd ${a} && sh install.sh`),
        run("dry-run", `cd ${a} && sh install.sh --dry-run`),
        "qubes-prefs management_dispvm ''",
        run("no-mgmt", `cd ${a} && sh install.sh --all`),
        "qubes-prefs management_dispvm default-mgmt-dvm",
        run("retry", `cd ${a} && sh install.sh`),
        run("leftover", `cd ${c} && sh install.sh`),
        "qvm-shutdown --wait web || qvm-kill web; qvm-remove -f web",
        run("uninstall", `cd ${c} && sh install.sh --uninstall`),
        run(
          "after",
          'echo "salt roots: $(ls -A /srv/user_salt /srv/user_pillar | grep -c qwire)"; echo "kept: $(ls -A /var/lib/qwire)"; echo "policy: $(ls /etc/qubes/policy.d | grep -c qwire)"',
        ),
      ].join("\n"),
    );
  }, 35 * 60_000);

  it("a dry run of the applied bundle: dom0's qvm.* [SKIP] Nones are not counted as changes, and it says why", () => {
    const s = step(out, "dry-run");
    expect(s.rc, s.text).toBe(0);
    expect(verdict(s.text, "dom0")).toMatch(
      /^dry-run 0 would change; [1-9]\d* qvm\.\* state\(s\) say \[SKIP\] \(not counted, see below\)$/,
    );
    expect(s.text).toMatch(
      /under test=True every dom0 qvm\.\* state reports Result: None \(\[SKIP\] \.\.\.\) even when\nnothing would change/,
    );
    expect(targeted(s.text)).toEqual([]);
  });

  it("no management disposable: every qube fails with the first error line, the log, a hint, and exit 3", () => {
    expect(step(out, "first").rc, step(out, "first").text).toBe(0);
    const s = step(out, "no-mgmt");
    expect(s.rc, s.text).toBe(3);
    expect(verdict(s.text, "web")).toMatch(
      /^failed .*(management|DVM template).*log: \/var\/log\/qubes\/mgmt-web\.log/,
    );
    expect(s.text).toMatch(
      /hint: the management disposable is missing: sudo qubesctl state\.sls qvm\.default-mgmt-dvm/,
    );
  });

  it("the next run re-applies the qubes that failed, without --all", () => {
    const s = step(out, "retry");
    expect(s.rc, s.text).toBe(0);
    expect(targeted(s.text)).toEqual(["mail", "sys-firewall", "sys-net", "web"]);
    expect(verdict(s.text, "web")).toMatch(/^(applied|unchanged) /);
  });

  it("a bundle built without the earlier plan.json: the qube it no longer names is cleaned anyway (qwire.remove)", () => {
    const s = step(out, "leftover");
    expect(s.rc, s.text).toBe(0);
    expect(s.text).toMatch(
      /^ {2}mail: carried qwire files from an earlier bundle that this one does not name: removed \(qwire\.remove\)$/m,
    );
    expect(verdict(s.text, "mail")).toMatch(/^removed /);
  });

  it("--uninstall cleans every qube that still exists, skips the deleted one, removes dom0's part and says what it leaves", () => {
    const s = step(out, "uninstall");
    expect(s.rc, s.text).toBe(0);
    expect(targeted(s.text)).toEqual(["mail", "sys-firewall", "sys-net"]);
    expect(verdict(s.text, "web")).toMatch(/^skipped qube does not exist/);
    expect(verdict(s.text, "sys-net")).toMatch(/^removed /);
    expect(s.text).toMatch(/netvm of mail is sys-firewall: qvm-prefs --default mail netvm/);
    expect(step(out, "after").text).toBe("salt roots: 0\nkept: lock\npolicy: 0");
  });
});
