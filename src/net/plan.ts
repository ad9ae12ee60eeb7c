// The plan ops of a jail's network: eBPF map and programs on its cgroup (shared stack), the veth
// pair and routes (vnet), addresses on loopback and a user-mode networking helper (rootless).
import { op, type PlanOp } from "../plan/types.js";
import type { JailSpec } from "../spec/types.js";
import { parseJailAddrs, type JailAddr } from "./addr.js";
import { JAIL_IF, type NetContext } from "./context.js";
import { ADDR_MAP, encodeEntries, mapEntries } from "./map.js";
import { jailPrograms } from "./programs.js";

/** The host end's addresses on a vnet jail's veth: the jail's default gateways. The same on every
 * host end (a /32 and a link-local address), so no jail needs a subnet of the host's. */
export const VNET_GATEWAY = { v4: "169.254.0.1", v6: "fe80::1" } as const;

/** Network ops: `host` go after the cgroup ops (the monitor), `init` after loopback (the jail's init). */
export interface NetOps {
  host: PlanOp[];
  init: PlanOp[];
}

/** Options of netOps. */
export interface NetOpsOptions {
  /** Cgroup ops the limits backend planned (a same-path mkdir or attach is not repeated). */
  cgroupOps?: readonly PlanOp[] | undefined;
}

const cidr = (a: JailAddr) => `${a.text}/${a.prefix}`;
const host = (a: JailAddr) => `${a.text}/${a.family === 4 ? 32 : 128}`;

/** The ops for a spec in the mode the context says. */
export function netOps(spec: JailSpec, ctx: NetContext, opts: NetOpsOptions = {}): NetOps {
  const { v4, v6 } = parseJailAddrs(spec.ip4, spec.ip6, ctx.mode === "vnet");
  const out: NetOps = { host: [], init: [] };
  switch (ctx.mode) {
    case "none":
      return out;
    case "shared":
      return { host: sharedOps(spec, ctx, v4, v6, opts), init: [] };
    case "vnet": {
      const hostIf = ctx.hostIf!;
      out.host.push(op("vnetLink", ["veth", hostIf, JAIL_IF], "veth pair: host end here, the other in the jail"));
      if (v4.length) out.host.push(op("hostAddr", [hostIf, `${VNET_GATEWAY.v4}/32`], "the jail's IPv4 gateway"));
      if (v6.length) out.host.push(op("hostAddr", [hostIf, `${VNET_GATEWAY.v6}/64`], "the jail's IPv6 gateway"));
      for (const a of [...v4, ...v6]) out.host.push(op("hostRoute", [host(a), hostIf], "the host reaches the jail"));
      for (const name of ctx.moveIfs ?? []) out.host.push(op("vnetLink", ["move", name, name], "vnet.interface: moved in, given back at the end"));
      for (const a of [...v4, ...v6]) out.init.push(op("jailAddr", [JAIL_IF, cidr(a)]));
      if (v4.length) out.init.push(op("jailRoute", ["0.0.0.0/0", VNET_GATEWAY.v4, JAIL_IF], "default route to the host"));
      if (v6.length) out.init.push(op("jailRoute", ["::/0", VNET_GATEWAY.v6, JAIL_IF], "default route to the host"));
      return out;
    }
    case "private": {
      for (const a of [...v4, ...v6]) out.init.push(op("jailAddr", ["lo", host(a)], "the jail's address, in its own namespace"));
      const t = ctx.tool;
      // Both tools get the jail's namespaces as the monitor's descriptors ({netns}, {userns}):
      // the init is not dumpable, so /proc/PID/ns/* of it is closed to a rootless caller's tools.
      // No port is forwarded into the jail, and neither tool lets the jail reach the host's
      // loopback (pasta: --no-map-gw; slirp4netns: --disable-host-loopback).
      if (t?.name === "pasta") {
        out.host.push(op("netHelper", [t.path, "pasta", "--config-net", "--no-map-gw", "-t", "none", "-u", "none", "-T", "none", "-U", "none",
          "--foreground", "--quiet", "--no-netns-quit", "--pid", "{ready-path}", "--userns", "{userns}", "--netns", "{netns}"], "outbound connectivity (pasta)"));
      } else if (t?.name === "slirp4netns") {
        out.host.push(op("netHelper", [t.path, "slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", "--ready-fd", "{ready}",
          "--netns-type=path", "--userns-path", "{userns}", "{netns}", "tap0"], "outbound connectivity (slirp4netns)"));
      }
      return out;
    }
  }
}

function sharedOps(spec: JailSpec, ctx: NetContext, v4: JailAddr[], v6: JailAddr[], opts: NetOpsOptions): PlanOp[] {
  const dir = ctx.cgroupDir!;
  const procs = `${dir}/cgroup.procs`;
  const has = (name: string, arg: string) => (opts.cgroupOps ?? []).some((o) => o.op === name && o.args[0] === arg);
  const ops: PlanOp[] = [];
  if (!has("cgroupMkdir", dir)) ops.push(op("cgroupMkdir", [dir], "the jail's cgroup v2 directory: its network programs live there"));
  const blob = encodeEntries(mapEntries(v4, v6));
  ops.push(op("bpfMap", [ADDR_MAP.name, ADDR_MAP.keySize, ADDR_MAP.valueSize, ADDR_MAP.maxEntries, blob],
    `addresses: ${[...v4, ...v6].map((a) => a.text).join(" ")}`));
  for (const p of jailPrograms({ ping: spec.policy.allowRawSockets })) {
    ops.push(op("bpfProg", [p.name, p.progType, p.attachType, dir, 0, p.bytes], p.purpose));
  }
  if (!has("cgroupAttach", procs)) ops.push(op("cgroupAttach", [procs], "the jail's init joins it before it runs"));
  return ops;
}
