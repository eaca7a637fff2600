/**
 * Hostile strings in every string field of qwire.yaml: each must be refused
 * by validate with its own code, at the line of the field, and no bundle may
 * be produced. Values are written as YAML double-quoted scalars (JSON string
 * syntax), so quotes, newlines and control characters reach the compiler as is.
 */
import { describe, expect, it } from "vitest";
import type { DiagnosticCode } from "../../src/diagnostics/codes.js";
import { compileText } from "../helpers/compile.js";

const HOSTILE: readonly string[] = [
  "web'",
  'web"',
  "web$(reboot)",
  "web`reboot`",
  "web\nreboot",
  "web;reboot",
  "web|reboot",
  "web&&reboot",
  "web>x",
  "web reboot",
  "web\treboot",
  "web\\",
  "web\u0000",
  "web\r",
  "web{a,b}",
  "web#",
  "wéb",
  "-web",
  "*",
  "",
];

interface Field {
  readonly code: DiagnosticCode;
  /** The qwire.yaml with the hostile value (already YAML-quoted) in place, and the line it is on. */
  readonly yaml: (v: string) => string;
  readonly line: number;
}

const QUBES = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  web: { netvm: sys-firewall }
  dev: { netvm: sys-firewall }
`;

const forward = (f: Record<string, string>) =>
  `${QUBES}forwards:\n  - to: ${f.to ?? "web"}\n    port: ${f.port ?? "443"}\n    from:\n      - ${f.from ?? "192.168.1.0/24"}\n` +
  `    entry: ${f.entry ?? "sys-net"}\n    interface: ${f.interface ?? "ens6"}\n    name: ${f.name ?? "web-https"}\n    external_port: ${f.external_port ?? "443"}\n`;
const link = (l: Record<string, string>) =>
  `${QUBES}links:\n  - from: ${l.from ?? "dev"}\n    to: ${l.to ?? "web"}\n    ports:\n      - ${l.ports ?? "22"}\n    name: ${l.name ?? "dev-web-ssh"}\n`;
const expectation = (e: Record<string, string>) =>
  `${QUBES}expect:\n  - from: ${e.from ?? "dev"}\n    to: ${e.to ?? "web"}\n    port: 22\n    result: closed\n`;

const FIELDS: Record<string, Field> = {
  "qube name (a key)": { code: "QW2003", line: 7, yaml: (v) => `${QUBES}  ${v}: { netvm: sys-firewall }\n` },
  netvm: { code: "QW2003", line: 8, yaml: (v) => `${QUBES}  mail:\n    netvm: ${v}\n` },
  uplink: {
    code: "QW2006",
    line: 9,
    yaml: (v) => `${QUBES}  sys-usb:\n    provides_network: true\n    uplink: ${v}\n`,
  },
  "uplink (list item)": {
    code: "QW2006",
    line: 10,
    yaml: (v) => `${QUBES}  sys-usb:\n    provides_network: true\n    uplink:\n      - ${v}\n`,
  },
  "forward to": { code: "QW2003", line: 8, yaml: (v) => forward({ to: v }) },
  "forward port": { code: "QW2004", line: 9, yaml: (v) => forward({ port: v }) },
  "forward from": { code: "QW2005", line: 11, yaml: (v) => forward({ from: v }) },
  "forward entry": { code: "QW2003", line: 12, yaml: (v) => forward({ entry: v }) },
  "forward interface": { code: "QW2006", line: 13, yaml: (v) => forward({ interface: v }) },
  "forward name": { code: "QW2011", line: 14, yaml: (v) => forward({ name: v }) },
  "forward external_port": { code: "QW2004", line: 15, yaml: (v) => forward({ external_port: v }) },
  "link from": { code: "QW2003", line: 8, yaml: (v) => link({ from: v }) },
  "link to": { code: "QW2003", line: 9, yaml: (v) => link({ to: v }) },
  "link ports": { code: "QW2004", line: 11, yaml: (v) => link({ ports: v }) },
  "link name": { code: "QW2011", line: 12, yaml: (v) => link({ name: v }) },
  "expect from": { code: "QW2003", line: 8, yaml: (v) => expectation({ from: v }) },
  "expect to": { code: "QW2003", line: 9, yaml: (v) => expectation({ to: v }) },
};

describe("hostile strings are refused in every string field", () => {
  it("the fixture without hostile values builds (so each failure below is the value's)", () => {
    for (const [name, field] of Object.entries(FIELDS)) {
      if (name === "qube name (a key)") continue;
      const benign: Record<string, string> = {
        netvm: "sys-firewall",
        uplink: "ens7",
        "uplink (list item)": "ens7",
        "forward to": "web",
        "forward port": "443",
        "forward from": "192.168.1.0/24",
        "forward entry": "sys-net",
        "forward interface": "ens6",
        "forward name": "web-https",
        "forward external_port": "443",
        "link from": "dev",
        "link to": "web",
        "link ports": "22",
        "link name": "dev-web-ssh",
        "expect from": "dev",
        "expect to": "web",
      };
      const r = compileText(field.yaml(benign[name]!));
      expect(r.diagnostics.map((d) => `${name}: ${d.code} ${d.message}`)).toEqual([]);
      expect(r.artifacts, name).toBeDefined();
    }
  });

  for (const [name, field] of Object.entries(FIELDS)) {
    for (const value of HOSTILE) {
      it(`${name} = ${JSON.stringify(value)}: ${field.code} on line ${field.line}, no bundle`, () => {
        const r = compileText(field.yaml(JSON.stringify(value)));
        expect(r.artifacts).toBeUndefined();
        expect(r.plan).toBeUndefined();
        const errors = r.diagnostics.filter((d) => d.severity === "error");
        expect(errors.map((d) => [d.code, d.span.line])).toContainEqual([field.code, field.line]);
        // Messages show the value escaped: one line, no control characters.
        // eslint-disable-next-line no-control-regex -- the test is that no control character is left
        for (const d of r.diagnostics) expect(d.message).not.toMatch(/[\x00-\x1f\x7f]/);
      });
    }
  }
});
