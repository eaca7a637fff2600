/**
 * Address arithmetic, in one place: IPv4 and IPv6 as numbers, networks and
 * their order. The validator parses what the user wrote (validate/values.ts);
 * everything after it computes with the canonical texts through here.
 */

/** The 32-bit value of a dotted IPv4 address (no validation: the text is canonical). */
export function ipv4Number(address: string): number {
  return address.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** Networks in address order, a shorter prefix first on the same address. */
export function compareIpv4Cidr(a: string, b: string): number {
  const key = (t: string) => {
    const [addr = "", len = "0"] = t.split("/");
    return ipv4Number(addr) * 64 + Number(len);
  };
  return key(a) - key(b);
}
