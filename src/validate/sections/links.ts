/**
 * `links:` — one qube may reach another: through the firewall qube both sit
 * behind (`via: network`), or through dom0's qrexec policy and
 * qubes.ConnectTCP (`via: qrexec`), with no route between them (DESIGN.md §2).
 */
import * as z from "zod";
import type { ReleaseProfile } from "../../release/index.js";
import { formatPortRange, parsePortRange } from "../values.js";
import { intentName, isMapping, PORT_INPUT, portRange, qubeName, report, type Ctx } from "../grammar.js";
import type { IntentName, LinkSpec, Unplaced, NetworkLinkSpec, PortRange, Proto, QrexecLinkSpec } from "../spec.js";

const linkBody = z.strictObject({
  name: intentName().optional(),
  from: qubeName(),
  to: qubeName(),
  ports: z.array(portRange()).optional(),
  proto: z.enum(["tcp", "udp", "any"]).optional(),
  both_ways: z.boolean().optional(),
  via: z.enum(["network", "qrexec"]).optional(),
  local_port: z.unknown().meta(PORT_INPUT).optional(),
});
type LinkBody = z.output<typeof linkBody>;

/** Raw values of a link's keys, for the checks that read what the user wrote. */
type RawLink = Partial<Record<keyof LinkBody, unknown>>;

function checkLink(l: RawLink, profile: ReleaseProfile, ctx: Ctx): void {
  if (Array.isArray(l.ports) && l.ports.length === 0) {
    report(ctx, "QW2004", "'ports' is empty", {
      path: ["ports"],
      hint: "list ports, or leave 'ports' out for all traffic",
    });
  }
  if (l.via !== "qrexec") {
    if ("local_port" in l)
      report(ctx, "QW2002", "'local_port' only applies to 'via: qrexec' links", {
        path: ["local_port"],
        at: "key",
        hint: "remove it",
      });
    return;
  }
  // qubes.ConnectTCP: TCP only, one port per call, R4.1 and later (reference §5).
  if (!profile.capabilities.qrexecLinks) {
    report(ctx, "QW2016", `Qubes R${profile.release} has no qubes.ConnectTCP`, {
      path: ["via"],
      hint: `use a network link on R${profile.release}`,
    });
  }
  if (l.proto !== undefined && l.proto !== "tcp") {
    report(ctx, "QW2016", `a qrexec link carries TCP only, not ${JSON.stringify(l.proto)}`, {
      path: ["proto"],
      hint: "use a network link for UDP",
    });
  }
  if (!Array.isArray(l.ports)) {
    report(ctx, "QW2016", "a qrexec link needs 'ports': qubes.ConnectTCP opens one port per call", {
      hint: "add e.g. 'ports: [22]'",
    });
    return;
  }
  const ports = l.ports as unknown[];
  ports.forEach((p, i) => {
    if (isMapping(p) && "first" in p && p.first !== p.last) {
      report(ctx, "QW2016", "a qrexec link forwards single ports, not ranges", {
        path: ["ports", i],
        hint: "list the ports one by one",
      });
    }
  });
  if (l.local_port !== undefined) {
    const r = parsePortRange(l.local_port);
    if (!r.ok) report(ctx, "QW2004", r.message, { path: ["local_port"] });
    else if (r.value.first !== r.value.last || ports.filter((p) => p !== undefined).length !== 1) {
      report(ctx, "QW2016", "'local_port' needs exactly one port in 'ports' and is a single port itself", {
        path: ["local_port"],
        hint: "write one link per port when the local ports differ",
      });
    }
  }
}

/** Sorted, overlapping and adjacent ranges joined: the nft sets need disjoint intervals. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.first <= last.last + 1)
      out[out.length - 1] = { first: last.first, last: Math.max(last.last, r.last) };
    else out.push(r);
  }
  return out;
}

function networkTraffic(l: LinkBody): NetworkLinkSpec["traffic"] {
  const ports = l.ports ?? [];
  const proto = l.proto;
  // No ports and no protocol: everything (DESIGN.md §2 "omitted = all traffic").
  // No ports but a protocol: every port of that protocol.
  if (ports.length === 0 && (proto === undefined || proto === "any")) return "all";
  const protos: Proto[] = proto === "tcp" ? ["tcp"] : proto === "udp" ? ["udp"] : ["tcp", "udp"];
  return {
    protos: proto === undefined ? ["tcp"] : protos,
    ports: ports.length === 0 ? [{ first: 1, last: 65535 }] : mergeRanges(ports),
  };
}

function qrexecPorts(l: LinkBody): QrexecLinkSpec["ports"] {
  const local = l.local_port === undefined ? undefined : Number(l.local_port);
  const unique = [...new Set((l.ports ?? []).map((p) => p.first))].sort((a, b) => a - b);
  return unique.map((port) => ({ port, localPort: local ?? port }));
}

/** `web-db-tcp-5432`: from, to, what it carries. */
function defaultName(
  from: string,
  to: string,
  spec: Pick<NetworkLinkSpec, "via" | "traffic"> | Pick<QrexecLinkSpec, "via" | "ports">,
): IntentName {
  if (spec.via === "qrexec")
    return `${from}-${to}-qrexec-${spec.ports.map((p) => String(p.port)).join("+")}` as IntentName;
  if (spec.traffic === "all") return `${from}-${to}-all` as IntentName;
  return `${from}-${to}-${spec.traffic.protos.join("+")}-${spec.traffic.ports.map(formatPortRange).join("+")}` as IntentName;
}

/** One link, without its path (the list adds it). */
export function linkSchema(profile: ReleaseProfile) {
  return linkBody
    .superRefine((l, ctx) => (isMapping(l) ? checkLink(l, profile, ctx) : undefined), { when: () => true })
    .transform((l): Unplaced<LinkSpec> => {
      const spec: Pick<NetworkLinkSpec, "via" | "traffic"> | Pick<QrexecLinkSpec, "via" | "ports"> =
        l.via === "qrexec" ? { via: "qrexec", ports: qrexecPorts(l) } : { via: "network", traffic: networkTraffic(l) };
      return {
        name: l.name ?? defaultName(l.from, l.to, spec),
        from: l.from,
        to: l.to,
        bothWays: l.both_ways === true,
        ...spec,
      };
    });
}
