/**
 * `expect:` — what `qwire simulate` must find: a connection from a qube or
 * from an address outside the machine is open or closed (DESIGN.md §2).
 */
import * as z from "zod";
import { parseIpv4, parseQubeName } from "../values.js";
import { portRange, qubeName, report } from "../grammar.js";
import type { ExpectSpec, Unplaced } from "../spec.js";

const OUTSIDE = "outside:";

const expectFrom = z
  .string()
  .meta({ description: "a qube, or an address outside the machine: outside:192.168.1.50" })
  .transform((from, ctx): ExpectSpec["from"] => {
    if (from.startsWith(OUTSIDE)) {
      const address = parseIpv4(from.slice(OUTSIDE.length));
      if (address.ok) return { kind: "outside", address: address.value };
      report(ctx, "QW2005", address.message, {
        hint: "write 'outside:' and an IPv4 address, e.g. outside:192.168.1.50",
      });
      return z.NEVER;
    }
    const qube = parseQubeName(from);
    if (qube.ok) return { kind: "qube", qube: qube.value };
    report(ctx, "QW2003", qube.message);
    return z.NEVER;
  });

const singlePort = portRange().transform((p, ctx) => {
  if (p.first === p.last) return p.first;
  report(ctx, "QW2004", "an expectation checks one port, not a range");
  return z.NEVER;
});

/** One expectation, without its path (the list adds it). */
export const expectSchema = z
  .strictObject({
    from: expectFrom,
    to: qubeName(),
    port: singlePort,
    proto: z.enum(["tcp", "udp"]).optional(),
    result: z.enum(["open", "closed"]),
  })
  .transform((e): Unplaced<ExpectSpec> => ({
    from: e.from,
    to: e.to,
    port: e.port,
    proto: e.proto ?? "tcp",
    result: e.result,
  }));
