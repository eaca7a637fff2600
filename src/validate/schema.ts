/**
 * The shape of qwire.yaml, version 1, as zod schemas. zod checks structure
 * (known keys, types, required keys); values with their own grammar (ports,
 * CIDRs, names) are left as `unknown` here and parsed in values.ts, so their
 * errors carry qwire's own codes and wording.
 *
 * These schemas are also the source of `qwire schema` (JSON Schema).
 */
import { z } from "zod";

const scalar = z.unknown();

export const QubeSchema = z.strictObject({
  netvm: scalar.optional(),
  provides_network: z.boolean().optional(),
  uplink: scalar.optional(),
  role: z.enum(["service"]).optional(),
  ip: scalar.optional(),
  ipv6: z.boolean().optional(),
  custom_persist: z.boolean().optional(),
  disposable_template: scalar.optional(),
  placement: z.enum(["template"]).optional(),
  template: scalar.optional(),
});

export const ForwardSchema = z.strictObject({
  name: scalar.optional(),
  to: scalar,
  port: scalar,
  proto: z.enum(["tcp", "udp"]).optional(),
  external_port: scalar.optional(),
  from: scalar.optional(),
  entry: scalar.optional(),
  interface: scalar.optional(),
});

export const LinkSchema = z.strictObject({
  name: scalar.optional(),
  from: scalar,
  to: scalar,
  ports: z.array(scalar).optional(),
  proto: z.enum(["tcp", "udp", "any"]).optional(),
  both_ways: z.boolean().optional(),
  via: z.enum(["network", "qrexec"]).optional(),
  local_port: scalar.optional(),
});

export const ExpectSchema = z.strictObject({
  from: z.string(),
  to: scalar,
  port: scalar,
  proto: z.enum(["tcp", "udp"]).optional(),
  result: z.enum(["open", "closed"]),
});

export const FirewallSchema = z.strictObject({
  policy: z.enum(["drop", "accept"]).optional(),
  rules: z.array(scalar).optional(),
});

export const DocumentSchema = z.strictObject({
  version: scalar,
  release: scalar.optional(),
  qubes: z.record(z.string(), QubeSchema.nullable()),
  forwards: z.array(ForwardSchema).optional(),
  links: z.array(LinkSchema).optional(),
  firewall: z.record(z.string(), FirewallSchema).optional(),
  expect: z.array(ExpectSchema).optional(),
});

export type RawDocument = z.infer<typeof DocumentSchema>;
export type RawQube = z.infer<typeof QubeSchema>;
export type RawForward = z.infer<typeof ForwardSchema>;
export type RawLink = z.infer<typeof LinkSchema>;
export type RawExpect = z.infer<typeof ExpectSchema>;
