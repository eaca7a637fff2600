/**
 * `forwards:` — a port of a qube opened to the outside: which qube, which
 * port, from which source networks, arriving at which entry qube and
 * interface (DESIGN.md §2).
 */
import * as z from "zod";
import { formatPortRange, parseCidr } from "../values.js";
import { intentName, interfaceName, isMapping, portRange, qubeName, report, warn, type Ctx } from "../grammar.js";
import type { ForwardSpec, Unplaced, IntentName, Ipv4Cidr, Ipv6Cidr, PortRange } from "../spec.js";
import { compareIpv4Cidr } from "../../addresses/ipv4.js";

const SOURCE_INPUT = {
  type: "string",
  description: "an IPv4 or IPv6 network or address, or 'any' (every IPv4 source)",
};

/** IPv4 and IPv6 sources, each sorted; `any` is 0.0.0.0/0 (write ::/0 for IPv6). */
function sources(warnings: boolean) {
  return z
    .unknown()
    .meta({ anyOf: [SOURCE_INPUT, { type: "array", items: SOURCE_INPUT, minItems: 1 }] })
    .transform((raw, ctx): { v4: Ipv4Cidr[]; v6: Ipv6Cidr[] } => {
      const items = Array.isArray(raw) ? raw.map((r, i) => [r, [i]] as const) : [[raw, []] as const];
      if (items.length === 0) {
        report(ctx, "QW2009", "'from' is empty: nobody could use this forward", {
          hint: "list the source networks, e.g. [192.168.1.0/24]",
        });
        return z.NEVER;
      }
      // Keyed by text: a list of 100,000 sources must not be deduplicated in quadratic time (147 s).
      const v4 = new Map<string, Ipv4Cidr>();
      const v6 = new Map<string, Ipv6Cidr>();
      let good = true;
      for (const [item, path] of items) {
        if (item === "any") {
          if (warnings) {
            warn(ctx, "QW2010", "this forward is open to any IPv4 source address on the outside interface", {
              path,
              hint: "list the networks that need it, e.g. your LAN 192.168.1.0/24 (and write ::/0 for any IPv6 source)",
            });
          }
          v4.set("0.0.0.0/0", { family: 4, text: "0.0.0.0/0" });
          continue;
        }
        const cidr = parseCidr(item);
        if (!cidr.ok) {
          report(ctx, "QW2005", cidr.message, { path });
          good = false;
        } else if (cidr.value.family === 6) v6.set(cidr.value.cidr.text, cidr.value.cidr);
        else v4.set(cidr.value.cidr.text, cidr.value.cidr);
      }
      if (!good) return z.NEVER;
      return {
        v4: [...v4.values()].sort((a, b) => compareIpv4Cidr(a.text, b.text)),
        v6: [...v6.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0)),
      };
    });
}

function forwardBody(warnings: boolean) {
  return z.strictObject({
    name: intentName().optional(),
    to: qubeName(),
    port: portRange(),
    proto: z.enum(["tcp", "udp"]).optional(),
    external_port: portRange().optional(),
    from: sources(warnings).optional(),
    entry: qubeName().optional(),
    interface: interfaceName().optional(),
  });
}
type ForwardBody = z.output<ReturnType<typeof forwardBody>>;

/** A single port may be translated; a range is forwarded as it is. */
function fits(port: PortRange, external: PortRange): boolean {
  if (port.first === port.last) return external.first === external.last;
  return external.first === port.first && external.last === port.last;
}

function checkForward(f: Partial<ForwardBody>, ctx: Ctx): void {
  if (!("from" in f)) {
    report(ctx, "QW2009", "this forward has no 'from': say which source addresses may come in", {
      hint: "add e.g. 'from: [192.168.1.0/24]'; write 'from: [any]' to open it to every address",
    });
  }
  if (f.port !== undefined && f.external_port !== undefined && !fits(f.port, f.external_port)) {
    report(
      ctx,
      "QW2012",
      `external_port ${formatPortRange(f.external_port)} does not fit port ${formatPortRange(f.port)}`,
      {
        path: ["external_port"],
        hint: "a port range is forwarded as it is: leave external_port out, or give a single port for a single port",
      },
    );
  }
}

/** One forward, without its path (the list adds it). */
export function forwardSchema(warnings: boolean) {
  return forwardBody(warnings)
    .superRefine((f, ctx) => (isMapping(f) ? checkForward(f, ctx) : undefined), { when: () => true })
    .transform((f): Unplaced<ForwardSpec> => {
      const proto = f.proto ?? "tcp";
      const from = f.from!;
      return {
        name: f.name ?? (`${f.to}-${proto}-${formatPortRange(f.port)}` as IntentName),
        to: f.to,
        port: f.port,
        externalPort: f.external_port ?? f.port,
        proto,
        from: from.v4,
        from6: from.v6,
        ...(f.entry === undefined ? {} : { entry: f.entry }),
        ...(f.interface === undefined ? {} : { interface: f.interface }),
      };
    });
}
