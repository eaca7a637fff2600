/**
 * `create:` in plan and render: what dom0 creates, that every dom0 state
 * about a created qube (and about its clients) requires its creation, the
 * template check, the DispVM built from a disposable template qwire creates
 * too, install.list's records, and `qwire plan`'s words.
 */
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { compareBundles } from "../../src/changes/index.js";
import { compileOk, file } from "../helpers/compile.js";

const CREATE = `version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6 }
  sys-firewall: { netvm: sys-net, provides_network: true }
  sys-vpn:
    netvm: sys-firewall
    provides_network: true
    ipv6: false
    create: { class: AppVM, template: debian-12-xfce, label: orange }
  web:
    netvm: sys-vpn
    create: { class: StandaloneVM, template: debian-12-xfce, label: red }
  vault:
    create: { class: AppVM, template: debian-12-minimal, label: black }
  dvm-web:
    create: { class: AppVM, template: debian-12-xfce, label: red, template_for_dispvms: true }
  disp-web:
    netvm: sys-firewall
    create: { class: DispVM, template: dvm-web, label: red }
forwards:
  - { name: web-https, to: web, port: 443, from: [192.168.1.0/24] }
firewall:
  web:
    policy: drop
    rules:
      - accept dsthost=192.0.2.10 proto=tcp dstports=443
`;

type Args = Record<string, unknown>[];
const built = compileOk(CREATE);
const dom0 = yaml.load(file(built, "salt/qwire/dom0.sls")) as Record<string, Record<string, Args>>;
const args = (id: string, fun: string): Record<string, unknown> =>
  Object.assign({}, ...(dom0[id]?.[fun] ?? [])) as Record<string, unknown>;
const requires = (id: string, fun: string) => (args(id, fun).require as unknown[] | undefined) ?? [];

describe("create: in the plan", () => {
  it("lists each qube to create with its class, template and label; and whether qwire creates its template too", () => {
    expect(built.plan.creates).toEqual([
      { qube: "disp-web", class: "DispVM", template: "dvm-web", label: "red", templateCreated: true },
      { qube: "dvm-web", class: "AppVM", template: "debian-12-xfce", label: "red", templateCreated: false },
      { qube: "sys-vpn", class: "AppVM", template: "debian-12-xfce", label: "orange", templateCreated: false },
      { qube: "vault", class: "AppVM", template: "debian-12-minimal", label: "black", templateCreated: false },
      { qube: "web", class: "StandaloneVM", template: "debian-12-xfce", label: "red", templateCreated: false },
    ]);
    expect(built.plan.prefs.find((p) => p.qube === "dvm-web")).toEqual({
      qube: "dvm-web",
      templateForDispvms: true,
      noNetvm: true,
    });
  });

  it("a qwire.yaml without create: plans none", () => {
    expect(compileOk("version: 1\nqubes:\n  web: {}\n").plan.creates).toEqual([]);
  });
});

describe("create: in dom0.sls", () => {
  it("qvm.present with the class, template and label, after the check that the template exists", () => {
    expect(dom0["qwire-create-web"]).toEqual({
      "qvm.present": [
        { name: "web" },
        { class: "StandaloneVM" },
        { template: "debian-12-xfce" },
        { label: "red" },
        { require: [{ cmd: "qwire-template-debian-12-xfce" }] },
      ],
    });
    // One check per template, naming every qube made from it.
    const check = args("qwire-template-debian-12-xfce", "cmd.run");
    expect(check.unless).toBe("qvm-check --quiet -- debian-12-xfce");
    expect(check.name).toMatch(
      /^echo 'qwire: the template debian-12-xfce does not exist, so dvm-web, sys-vpn, web cannot be created: .*' >&2; exit 1$/,
    );
    expect(Object.keys(dom0).filter((id) => id.startsWith("qwire-template-"))).toEqual([
      "qwire-template-debian-12-xfce",
      "qwire-template-debian-12-minimal",
    ]);
  });

  it("a DispVM is created after its disposable template is created and made one (template-for-dispvms)", () => {
    expect(requires("qwire-create-disp-web", "qvm.present")).toEqual([
      { qvm: "qwire-create-dvm-web" },
      { qvm: "qwire-prefs-dvm-web" },
    ]);
    expect(args("qwire-prefs-dvm-web", "qvm.prefs")["template-for-dispvms"]).toBe(true);
  });

  it("every state about a created qube requires its creation: its prefs, its clients' prefs, its outbound list", () => {
    expect(requires("qwire-prefs-sys-vpn", "qvm.prefs")).toEqual([
      { qvm: "qwire-create-sys-vpn" },
      { qvm: "qwire-prefs-sys-firewall" },
    ]);
    expect(requires("qwire-prefs-web", "qvm.prefs")).toEqual([
      { qvm: "qwire-create-web" },
      { qvm: "qwire-create-sys-vpn" },
      { qvm: "qwire-prefs-sys-vpn" },
    ]);
    expect(requires("qwire-firewall-web", "qvm.firewall")).toEqual([
      { qvm: "qwire-create-web" },
      { qvm: "qwire-prefs-web" },
    ]);
    // A qube qwire does not create needs nothing created.
    expect(requires("qwire-prefs-sys-firewall", "qvm.prefs")).toEqual([{ qvm: "qwire-prefs-sys-net" }]);
  });

  it("a created qube without netvm in qwire.yaml is kept without one (qvm-create gives a new qube the default netvm)", () => {
    expect(dom0["qwire-prefs-vault"]).toEqual({
      "qvm.prefs": [{ name: "vault" }, { netvm: "" }, { require: [{ qvm: "qwire-create-vault" }] }],
    });
    // A qube qwire does not create keeps whatever netvm it has when qwire.yaml names none.
    expect(compileOk("version: 1\nqubes:\n  vault: {}\n").plan.prefs).toEqual([]);
  });

  it("IPv6 features of a created qube wait for it", () => {
    const v6 = compileOk(`version: 1
qubes:
  sys-net: { provides_network: true, uplink: ens6, ipv6: true }
  web: { netvm: sys-net, ipv6: true, create: { class: AppVM, template: t, label: red } }
`);
    const states = yaml.load(file(v6, "salt/qwire/dom0.sls")) as Record<string, Record<string, Args>>;
    expect(states["qwire-ipv6-web"]!["qvm.features"]).toContainEqual({ require: [{ qvm: "qwire-create-web" }] });
  });
});

describe("create: in install.list, the README and qwire plan", () => {
  it("install.list records each created qube (for --uninstall's words)", () => {
    expect(
      file(built, "install.list")
        .split("\n")
        .filter((l) => l.startsWith("create ")),
    ).toEqual(["create disp-web", "create dvm-web", "create sys-vpn", "create vault", "create web"]);
  });

  it("the README lists what dom0 creates and says an existing qube is left as it is", () => {
    const readme = file(built, "README.md");
    expect(readme).toContain("- `web`: `StandaloneVM` from `debian-12-xfce`, label `red`;");
    expect(readme).toContain("- `vault`: `AppVM` from `debian-12-minimal`, label `black`;");
    expect(readme).toContain("- `dvm-web`: `AppVM` from `debian-12-xfce`, label `red`, a disposable template;");
    expect(readme).toContain("- `vault`: no netvm (qwire.yaml names none; a new qube would get the default one);");
    expect(readme).toMatch(
      /A qube that already exists is left as it is: its class, template and label are never changed/,
    );
    expect(readme).toMatch(/`install\.sh --uninstall` leaves created qubes in place/);
  });

  it("qwire plan says which qubes dom0 will create, and what changes about them", () => {
    const facts = (text: string) => {
      const r = compileOk(text);
      return { planJson: JSON.parse(file(r, "plan.json")) as unknown, installList: file(r, "install.list") };
    };
    const before = facts(CREATE.replace("label: black", "label: gray"));
    const after = facts(CREATE.replace(/ {2}disp-web:\n.*\n.*\n/, ""));
    expect(compareBundles(before, after).dom0).toEqual([
      "no longer creates disp-web (an existing disp-web stays)",
      "creates vault when it is missing as AppVM from debian-12-minimal, label black (was AppVM from debian-12-minimal, label gray; an existing vault is not changed)",
      "netvm of disp-web: sys-firewall -> not set by qwire",
    ]);
    expect(compareBundles(facts("version: 1\nqubes:\n  vault: {}\n"), facts(CREATE)).dom0).toContain(
      "creates vault when it is missing (AppVM from debian-12-minimal, label black)",
    );
  });
});
