/**
 * `qubes:` — every qube qwire touches, keyed by name: its netvm, whether it
 * provides network, its outside interfaces, a pinned address, IPv6, and
 * where a net qube's files live (DESIGN.md §2).
 */
import * as z from "zod";
import { type ReleaseProfile } from "../../release/index.js";
import { parseInterfaceName, parseQubeName, type Parsed } from "../values.js";
import {
  grammar,
  INTERFACE_INPUT,
  ipv4,
  isMapping,
  QUBE_NAME_INPUT,
  qubeName,
  releaseList,
  report,
  type Ctx,
} from "../grammar.js";
import {
  AUTO_UPLINK,
  type GuestOf,
  type InterfaceName,
  type OutsideInterface,
  type QubeName,
  type QubeSpec,
} from "../spec.js";
import { checkCreate, createOf, CreateBody, createSpec } from "./create.js";

const uplink = z
  .unknown()
  .meta({
    description:
      "the qube's outside interface(s), where forwards arrive; 'auto': its one interface besides lo and vif*, found at run time",
    anyOf: [
      INTERFACE_INPUT,
      {
        const: AUTO_UPLINK,
        description:
          "the one interface that is neither lo nor vif*, found (and logged) by the qube's script at run time; for a qube without a netvm",
      },
      { type: "array", items: INTERFACE_INPUT },
    ],
  })
  .transform((value, ctx): OutsideInterface[] => {
    if (value === AUTO_UPLINK) return [AUTO_UPLINK];
    const items = Array.isArray(value) ? value.map((v, i) => [v, [i]] as const) : [[value, []] as const];
    const out: InterfaceName[] = [];
    for (const [item, path] of items) {
      const parsed = parseInterfaceName(item);
      if (!parsed.ok) report(ctx, "QW2006", parsed.message, { path });
      else if (!out.includes(parsed.value)) out.push(parsed.value);
    }
    return out;
  });

/** Qubes forbids a qube named 'default' (validate_name), so `netvm: default` cannot mean a qube. */
const parseNetvm = (value: unknown): Parsed<QubeName | "default"> =>
  value === "default" ? { ok: true, value: "default" } : parseQubeName(value);
const netvm = grammar<QubeName | "default">("QW2003", parseNetvm, {
  anyOf: [
    { const: "default", description: "follow dom0's default netvm, named by the top-level 'default_netvm'" },
    QUBE_NAME_INPUT,
  ],
});

const QubeBody = z.strictObject({
  netvm: netvm
    .nullable()
    .optional()
    .describe("the qube's netvm, or 'default' to follow dom0's default_netvm; none when left out or null"),
  provides_network: z.boolean().optional(),
  uplink: uplink.optional(),
  role: z.enum(["service"]).optional(),
  ip: ipv4("pin an IPv4 address such as 10.137.0.40").optional(),
  ipv6: z.boolean().optional(),
  custom_persist: z.boolean().optional(),
  disposable_template: qubeName().optional(),
  placement: z.enum(["template"]).optional(),
  template: qubeName().optional(),
  create: CreateBody.optional(),
});
type QubeBody = z.output<typeof QubeBody>;

/** `uplink: auto`, transformed (`[auto]`) or raw. */
const isAutoUplink = (value: unknown): boolean =>
  value === AUTO_UPLINK || (Array.isArray(value) && value.length === 1 && value[0] === AUTO_UPLINK);

/** The settings that depend on each other or on the release; values zod refused are undefined or raw. */
function checkQube(name: string, q: Partial<QubeBody>, profile: ReleaseProfile, ctx: Ctx): void {
  const create = createOf(q);
  if (create !== undefined) checkCreate(name, create, q, profile, ctx);
  const at = (key: string, where: "key" | "value" = "value") => ({ path: [name, key], at: where });
  if (q.netvm === "default" && !profile.capabilities.defaultNetvm) {
    report(
      ctx,
      "QW4009",
      `'netvm: default' is built for Qubes ${releaseList("defaultNetvm")} only by this version of qwire`,
      {
        ...at("netvm"),
        hint: "name the netvm (e.g. 'netvm: sys-firewall'); dom0 then sets it explicitly",
      },
    );
  }
  if (q.ip !== undefined && !profile.capabilities.pinnedIp) {
    report(
      ctx,
      "QW4008",
      `Qubes R${profile.release} cannot pin the address of '${name}': its qvm-prefs has no 'ip' to set`,
      {
        ...at("ip"),
        hint: "remove 'ip:'; qwire looks addresses up in dom0 when the bundle is applied",
      },
    );
  }
  if (q.ipv6 === true && !profile.capabilities.ipv6) {
    report(
      ctx,
      "QW4004",
      `IPv6 on Qubes R${profile.release} (iptables base rules) is not built by this version of qwire`,
      {
        ...at("ipv6", "key"),
        hint: `remove 'ipv6: true'; on ${releaseList("ipv6")} qwire builds IPv6 rules`,
      },
    );
  }
  if (q.custom_persist === true && profile.capabilities.customPersistSkipsHooks && q.placement !== "template") {
    report(
      ctx,
      "QW4005",
      `'${name}' uses custom-persist: Qubes R${profile.release} then skips /rw/config/rc.local.d and /rw/config/qubes-firewall.d, so qwire's rules would never load there`,
      {
        ...at("custom_persist", "key"),
        hint: `add 'placement: template' and 'template: <its template>' (a net qube's rules then go to the template's /etc/qubes/qubes-firewall.d), or turn it off (qvm-features ${name} service.custom-persist '')`,
      },
    );
  }
  if (isAutoUplink(q.uplink) && q.netvm !== undefined && q.netvm !== null) {
    report(
      ctx,
      "QW3025",
      `'uplink: auto' finds the one interface of '${name}' besides lo and vif*, but a qube with a netvm also has eth0 from it: it would find eth0 or two interfaces`,
      {
        ...at("uplink"),
        hint: `name the interface (see 'ip -br link' in ${name}), e.g. 'uplink: tun0'; 'auto' is for the top of a netvm chain, such as sys-net`,
      },
    );
  }
  const placed = q.placement === "template";
  if ("template" in q && !placed) {
    report(ctx, "QW2002", "'template' only applies with 'placement: template'", {
      ...at("template", "key"),
      hint: "add 'placement: template', or remove 'template'",
    });
  } else if (placed && !("template" in q)) {
    report(
      ctx,
      "QW2002",
      `'placement: template' needs 'template:', the template of '${name}' that receives its scripts`,
      {
        ...at("placement", "key"),
        hint: `add e.g. 'template: debian-12' (qvm-prefs ${name} template)`,
      },
    );
  } else if (placed && "disposable_template" in q) {
    report(ctx, "QW2002", "'placement: template' and 'disposable_template' exclude each other", {
      ...at("placement", "key"),
      hint: "a disposable net qube gets its files through its disposable template: remove 'placement' and 'template'",
    });
  } else if ((placed ? q.template : q.disposable_template) !== undefined && !profile.capabilities.guests) {
    report(
      ctx,
      "QW4001",
      placed
        ? `'placement: template' is built for Qubes ${releaseList("guests")} only by this version of qwire`
        : `disposable net qubes are built for Qubes ${releaseList("guests")} only by this version of qwire`,
      {
        ...at(placed ? "template" : "disposable_template", "key"),
        hint: "use a named (non-disposable) net qube with its files in its own /rw on this release",
      },
    );
  }
}

function qubeSpec(name: QubeName, q: Partial<QubeBody> | null): QubeSpec {
  const body: Partial<QubeBody> = q ?? {};
  const path = ["qubes", name];
  const placed = body.placement === "template";
  const host = placed ? body.template : body.disposable_template;
  const guestOf: GuestOf | undefined =
    host === undefined
      ? undefined
      : {
          kind: placed ? "template" : "disposable",
          host,
          path: [...path, placed ? "template" : "disposable_template"],
        };
  return {
    name,
    // `netvm: default` gets its name from `default_netvm` (document.ts).
    ...(body.netvm === undefined || body.netvm === null || body.netvm === "default" ? {} : { netvm: body.netvm }),
    ...(body.netvm === "default" ? { followsDefaultNetvm: true as const } : {}),
    providesNetwork: body.provides_network === true,
    uplinks: body.uplink ?? [],
    role: body.role === "service" ? "service" : "plain",
    ipv6: body.ipv6 === true,
    ...(body.ip === undefined ? {} : { ip: body.ip }),
    ...(guestOf === undefined ? {} : { guestOf }),
    ...(body.create?.template === undefined || body.create.label === undefined
      ? {}
      : { create: createSpec(body.create, [...path, "create"]) }),
    path,
  };
}

const byName = (a: QubeSpec, b: QubeSpec) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** `qubes:` for one release: QubeSpec[], sorted by name. The name is the key: a bad one is reported at the key. */
export function qubesSection(profile: ReleaseProfile) {
  return z
    .record(qubeName(), QubeBody.nullable())
    .superRefine(
      (qubes, ctx) => {
        if (isMapping(qubes))
          for (const [name, body] of Object.entries(qubes)) if (isMapping(body)) checkQube(name, body, profile, ctx);
      },
      { when: () => true },
    )
    .transform((qubes): QubeSpec[] =>
      Object.entries(qubes)
        .map(([name, body]) => qubeSpec(name as QubeName, body))
        .sort(byName),
    );
}

/**
 * The qubes of a document some of whose values were refused. A qube whose
 * settings were refused is still declared (references to it are not
 * reported again), with the netvm it names when that one is valid.
 */
export function salvageQubes(raw: unknown, profile: ReleaseProfile): { qubes: QubeSpec[]; rejected: Set<string> } {
  const qubes: QubeSpec[] = [];
  const rejected = new Set<string>();
  if (!isMapping(raw)) return { qubes, rejected };
  const section = qubesSection(profile);
  for (const [name, body] of Object.entries(raw)) {
    const parsedName = qubeName().safeParse(name);
    if (!parsedName.success) {
      rejected.add(name);
      continue;
    }
    const whole = section.safeParse({ [name]: body });
    if (whole.success) qubes.push(...whole.data);
    else {
      const netvm = QubeBody.shape.netvm.safeParse(isMapping(body) ? body.netvm : undefined);
      qubes.push(qubeSpec(parsedName.data, netvm.success && netvm.data !== undefined ? { netvm: netvm.data } : null));
    }
  }
  return { qubes: qubes.sort(byName), rejected };
}
