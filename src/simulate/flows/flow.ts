/** A flow the simulator checks: who dials what, and whether it must get through. */
import type { Proto, QubeName } from "../../validate/index.js";

/** An outside network: the veth on `iface` of the entry qube `qube`. */
export interface LanKey {
  readonly qube: QubeName;
  readonly iface: string;
}

export type Source =
  | { readonly kind: "qube"; readonly qube: QubeName }
  | { readonly kind: "outside"; readonly address: string; readonly lan: LanKey };

/**
 * Where the client connects: a qube's current address, the entry qube's
 * address on an outside network, 127.0.0.1 in the source qube itself (a
 * qrexec link's socket), or a direct `qrexec-client-vm @default
 * qubes.ConnectTCP+PORT` call from the source qube, or a host of the
 * internet on the outside network of the top netvm's uplink.
 */
export type Dial =
  | { readonly kind: "qube"; readonly qube: QubeName; readonly ipv6?: true }
  | { readonly kind: "lan"; readonly lan: LanKey }
  | { readonly kind: "loopback" }
  | { readonly kind: "qrexec" }
  | { readonly kind: "internet"; readonly address: string; readonly lan: LanKey };

export interface Flow {
  readonly from: Source;
  readonly dial: Dial;
  readonly proto: Proto;
  /** The port the client dials. */
  readonly port: number;
  /** The qube that must answer when the flow is open. */
  readonly to: QubeName;
  /** The port the server in `to` listens on (differs from `port` when the forward translates it). */
  readonly serverPort: number;
  readonly expect: "open" | "closed";
  /** The intent or expect entry it comes from, e.g. "forward web-https". */
  readonly origin: string;
  /** Why this expectation, e.g. "client outside 'from'". */
  readonly why: string;
}

export function sourceLabel(s: Source): string {
  return s.kind === "qube" ? s.qube : `outside ${s.address}`;
}

export function dialLabel(d: Dial): string {
  switch (d.kind) {
    case "qube":
      return d.ipv6 ? `${d.qube} (IPv6)` : d.qube;
    case "lan":
      return `${d.lan.qube}:${d.lan.iface}`;
    case "loopback":
      return "127.0.0.1";
    case "qrexec":
      return "qrexec @default";
    case "internet":
      return `internet ${d.address}`;
  }
}

export function flowKey(f: Pick<Flow, "from" | "dial" | "proto" | "port">): string {
  const from = f.from.kind === "qube" ? f.from.qube : `${f.from.address}@${f.from.lan.qube}:${f.from.lan.iface}`;
  return `${from}>${dialLabel(f.dial)}:${f.proto}/${f.port}`;
}
