// The network mode of a jail: decided from its spec and whether the caller is root.
import type { JailSpec } from "../spec/types.js";

/** none: a private namespace with loopback only (no -4/-6); shared: the host's stack, enforced by
 * eBPF on the jail's cgroup; vnet: a private namespace with a veth pair to the host; private: a
 * rootless caller's -4/-6, a private namespace holding the addresses (plus pasta/slirp4netns). */
export type NetMode = "none" | "shared" | "vnet" | "private";

/** The mode for a spec and a caller (uid 0 = root). */
export function netMode(spec: Pick<JailSpec, "ip4" | "ip6" | "vnet">, uid = 0): NetMode {
  if (spec.vnet) return uid === 0 ? "vnet" : "private";
  if (spec.ip4.length === 0 && spec.ip6.length === 0) return "none";
  return uid === 0 ? "shared" : "private";
}
