/**
 * Negative goldens: test/errors/<case>/qwire.yaml compiled in-process, its
 * diagnostics formatted as `qwire check` prints them, compared with
 * test/errors/<case>/diagnostics.txt (formatText output plus a final newline).
 * An optional options.json holds CompileOptions; an optional plan.json is read
 * as the previous build's plan (as `qwire build` reads it), shown as "plan.json".
 *
 * Goldens are written only with QWIRE_UPDATE_GOLDEN=1; otherwise a missing or
 * different diagnostics.txt fails. Read the diff before committing it.
 * Cases in KNOWN_BUGS hold a hand-written diagnostics.txt with the correct
 * output; they run as it.fails and are never rewritten.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DIAGNOSTIC_CODES, type DiagnosticCode } from "../../src/diagnostics/codes.js";
import { formatText } from "../../src/diagnostics/format.js";
import type { CompileOptions } from "../../src/pipeline.js";
import { readPreviousPlan } from "../../src/emit/index.js";
import { compileText } from "../helpers/compile.js";

const ERRORS_DIR = fileURLToPath(new URL("../errors/", import.meta.url));
const UPDATE = process.env.QWIRE_UPDATE_GOLDEN === "1";

/** Every case, and the codes it must produce (sorted, unique). */
const CASES: Record<string, readonly DiagnosticCode[]> = {
  "all-errors-at-once": ["QW2001", "QW2003", "QW2004", "QW2005", "QW2009"],
  "bad-cidr-garbage": ["QW2005"],
  "bad-cidr-host-bits": ["QW2005"],
  "bad-cidr-prefix-33": ["QW2005"],
  "bad-expect-outside-address": ["QW2005"],
  "bad-intent-name": ["QW2011"],
  "bad-interface-name": ["QW2006"],
  "auto-is-not-an-interface-name": ["QW2006"],
  "uplink-auto-with-netvm": ["QW3025"],
  "uplink-auto-and-forward-interface": ["QW3025"],
  "bad-pinned-ip": ["QW2005"],
  "client-behind-service-qube": ["QW3008"],
  "create-bad-label": ["QW2031"],
  "create-disagrees-with-disposable-template": ["QW3032"],
  "create-dispvm-cannot-be-what-it-is-declared": ["QW3031"],
  "create-dispvm-template-not-disposable": ["QW3030"],
  "create-missing-template-and-label": ["QW2002", "QW2032"],
  "create-on-r32": ["QW4030"],
  "create-template-class": ["QW2030"],
  "create-template-declared-as-net-qube": ["QW3030"],
  "custom-persist-on-r43": ["QW4005"],
  "disposable-net-qube-on-r41": ["QW4001"],
  "disposable-guest-address-warning": ["QW2018"],
  "guest-host-carries-rules": ["QW3020"],
  "guest-not-a-net-qube": ["QW3018"],
  "guest-of-a-guest": ["QW3019"],
  "placement-template-without-template": ["QW2002"],
  "duplicate-intent-name": ["QW3012"],
  "duplicate-qube-key": ["QW1002"],
  "entry-not-on-chain": ["QW3004"],
  "entry-without-uplink": ["QW3009"],
  "external-port-does-not-fit": ["QW2012"],
  "firewall-rule-malformed": ["QW2013"],
  "firewall-hostname-resolved-once": ["QW2014"],
  "firewall-link-gets-outbound-accept": ["QW2015"],
  "firewall-too-many-rules": ["QW4006"],
  "firewall-overflow-into-netvm": ["QW2020"],
  "firewall-overflow-host-name": ["QW2014", "QW4006"],
  "firewall-overflow-without-netvm": ["QW4006"],
  "forward-missing-to": ["QW2002"],
  "forward-through-service-qube": ["QW3005"],
  "forward-to-qube-without-netvm": ["QW3004"],
  "forward-with-empty-from": ["QW2009"],
  "forward-without-from": ["QW2009"],
  "hostile-forward-fields": ["QW2003", "QW2004", "QW2005", "QW2006", "QW2011"],
  "hostile-in-flow-mapping": ["QW2006"],
  "hostile-link-fields": ["QW2003", "QW2004"],
  "hostile-netvm": ["QW2003"],
  "hostile-qube-name": ["QW2003"],
  "hostile-uplink": ["QW2006"],
  "inner-qube-port-clash": ["QW3010"],
  "ipv6-chain-incomplete": ["QW3017"],
  "forward-from-includes-qubes-network": ["QW2017"],
  "ipv6-on-iptables-release": ["QW4004"],
  "link-across-firewalls": ["QW3007"],
  "link-to-itself": ["QW3011"],
  "local-port-without-qrexec": ["QW2002"],
  "netvm-cycle": ["QW3002"],
  "netvm-does-not-provide-network": ["QW3003"],
  "outbound-policy-on-r32": ["QW2014", "QW4007"],
  "outbound-policy-r32-past-limit": ["QW2014", "QW2019"],
  "own-entry-cannot-translate-port": ["QW3013"],
  "pinned-ip-on-r32": ["QW4008"],
  "pinned-ip-twice": ["QW3015"],
  "port-not-a-number": ["QW2004"],
  "port-out-of-range": ["QW2004"],
  "port-range-reversed": ["QW2004"],
  "previous-plan-names-bad-qube": ["QW1004"],
  "qrexec-link-cannot-carry": ["QW2016"],
  "qrexec-link-on-r32": ["QW2016"],
  "qrexec-links-same-port": ["QW3016"],
  "qrexec-link-loops-back": ["QW3016"],
  "qube-name-too-long": ["QW2003"],
  "reserved-qube-name": ["QW2003"],
  "salt-file-name-clash": ["QW3014"],
  "same-external-port-twice": ["QW3006"],
  "typo-in-forward-target": ["QW3001"],
  "typo-in-netvm-name": ["QW3001"],
  "netvm-default-without-default-netvm": ["QW3021"],
  "netvm-default-on-r32": ["QW4009"],
  "default-netvm-undeclared": ["QW3001"],
  "default-netvm-does-not-provide-network": ["QW3003"],
  "unknown-forward-key": ["QW2001"],
  "unknown-proto": ["QW2002"],
  "unknown-qube-key-did-you-mean": ["QW2001"],
  "unknown-release": ["QW2008"],
  "unknown-top-level-key": ["QW2001"],
  "unsupported-version": ["QW2007"],
  "warning-from-any-still-builds": ["QW2010"],
  "wrong-value-type": ["QW2002"],
  "yaml-syntax-error": ["QW1001"],
  "yaml-alias-bomb": ["QW1009"],
  "yaml-nested-too-deep": ["QW1001"],
};

/**
 * Cases whose diagnostics.txt documents the correct output that src/ does not
 * produce yet (see the report in the commit). Remove a case once it passes.
 */
const KNOWN_BUGS = new Set<string>([]);

/** Codes covered outside this driver, with the test that covers them. */
const COVERED_ELSEWHERE: Partial<Record<DiagnosticCode, string>> = {
  QW1003: "test/diagnostics/cli-errors.test.ts (the CLI cannot read the file)",
  // Fleet files (include:, --host) need several files: goldens in test/errors-fleet/<case>/ (test/fleet.test.ts).
  QW1005: "test/errors-fleet/include-missing-file",
  QW1006: "test/errors-fleet/include-cycle",
  QW1007: "test/errors-fleet/include-conflict",
  QW1008: "test/errors-fleet/include-not-a-list",
  // qwire import reads dom0 command output, not qwire.yaml: its goldens are test/errors-import/<case>/ (test/import.test.ts).
  QW5001: "test/errors-import/qvm-ls-garbled-line",
  QW5002: "test/errors-import/qvm-ls-truncated",
  QW5003: "test/errors-import/qvm-ls-netvm-not-listed",
  QW5004: "test/errors-import/firewall-garbled-rule",
  QW5005: "test/errors-import/firewall-unknown-qube",
  QW5006: "test/errors-import/policy-garbled-line",
};

interface Outcome {
  readonly text: string;
  readonly codes: DiagnosticCode[];
  readonly hasErrors: boolean;
  readonly hasBundle: boolean;
}

async function run(name: string): Promise<Outcome> {
  const dir = join(ERRORS_DIR, name);
  const source = readFileSync(join(dir, "qwire.yaml"), "utf8");
  const optionsFile = join(dir, "options.json");
  const previous = await readPreviousPlan(dir);
  const plan = previous === undefined ? undefined : { name: "plan.json", text: previous.source.text };
  const options: CompileOptions = {
    ...(existsSync(optionsFile) ? (JSON.parse(readFileSync(optionsFile, "utf8")) as CompileOptions) : {}),
    ...(previous === undefined || plan === undefined
      ? {}
      : { previousQubes: previous.qubes, previousHosts: previous.hosts, previousPlan: plan }),
  };
  const result = compileText(source, options);
  return {
    text: `${formatText(result.diagnostics, "qwire.yaml", source, new Map(plan === undefined ? [] : [[plan.name, plan.text]]))}\n`,
    codes: [...new Set(result.diagnostics.map((d) => d.code))].sort(),
    hasErrors: result.diagnostics.some((d) => d.severity === "error"),
    hasBundle: result.artifacts !== undefined,
  };
}

async function checkGolden(name: string): Promise<void> {
  const outcome = await run(name);
  const golden = join(ERRORS_DIR, name, "diagnostics.txt");
  if (UPDATE && !KNOWN_BUGS.has(name)) writeFileSync(golden, outcome.text);
  expect(existsSync(golden), `${golden} is missing; run with QWIRE_UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(outcome.text).toBe(readFileSync(golden, "utf8"));
}

describe("negative goldens (test/errors/)", () => {
  it("every folder under test/errors/ is listed in CASES, and every case has a folder", () => {
    const folders = readdirSync(ERRORS_DIR, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(folders).toEqual(Object.keys(CASES).sort());
  });

  for (const name of Object.keys(CASES).sort()) {
    if (KNOWN_BUGS.has(name)) {
      it.fails(`${name}: diagnostics.txt (known bug)`, () => checkGolden(name));
    } else {
      it(`${name}: diagnostics.txt`, () => checkGolden(name));
    }

    it(`${name}: produces exactly ${CASES[name]!.join(", ")}`, async () => {
      expect((await run(name)).codes).toEqual([...CASES[name]!].sort());
    });

    it(`${name}: a bundle only when there is no error`, async () => {
      const o = await run(name);
      expect(o.codes.length).toBeGreaterThan(0);
      expect(o.hasBundle).toBe(!o.hasErrors);
    });
  }

  it("every code in DIAGNOSTIC_CODES has a negative test", () => {
    const covered = new Set<string>([...Object.values(CASES).flat(), ...Object.keys(COVERED_ELSEWHERE)]);
    const missing = Object.keys(DIAGNOSTIC_CODES).filter((c) => !covered.has(c));
    expect(missing).toEqual([]);
    // and no case claims a code that does not exist
    expect([...covered].filter((c) => !(c in DIAGNOSTIC_CODES))).toEqual([]);
  });

  it("all errors at once: five mistakes in one file, five diagnostics, sorted by line", () => {
    const source = readFileSync(join(ERRORS_DIR, "all-errors-at-once", "qwire.yaml"), "utf8");
    const { diagnostics, artifacts } = compileText(source);
    expect(artifacts).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.span.line])).toEqual([
      ["QW2001", 6],
      ["QW2003", 7],
      ["QW2004", 10],
      ["QW2005", 11],
      ["QW2009", 12],
    ]);
  });

  it("warnings alone (from: [any]) still produce a bundle", () => {
    const source = readFileSync(join(ERRORS_DIR, "warning-from-any-still-builds", "qwire.yaml"), "utf8");
    const { diagnostics, artifacts, plan } = compileText(source);
    expect(diagnostics.map((d) => [d.severity, d.code])).toEqual([["warning", "QW2010"]]);
    expect(artifacts?.length).toBeGreaterThan(0);
    expect(plan?.targets).toEqual(["sys-firewall", "sys-net", "web"]);
  });
});
