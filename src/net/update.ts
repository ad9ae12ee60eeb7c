// jail -m ip4.addr=... / ip6.addr=...: the enter-plan op that changes a running shared-stack
// jail's addresses in place. The programs read the address map on every call, so a changed map
// is in force for the next bind, connect, datagram and packet; sockets already bound to an
// address that was removed stay bound, but can neither send from it nor receive on it any more.
import { detectCgroups } from "../cgroup/detect.js";
import { SysjailError, Exit } from "../errors.js";
import { op, type PlanOp } from "../plan/types.js";
import type { JailEntry } from "../registry/types.js";
import { parseJailAddrs } from "./addr.js";
import { ADDR_MAP, encodeEntries, encodeKeys, mapChanges, mapEntries } from "./map.js";
import { netMode } from "./mode.js";

/** The cgroup v2 directory a shared-stack jail's programs are attached to, from its registry entry
 * (recorded under cgroups.net) or, failing that, the default place. */
export function jailNetCgroup(entry: Pick<JailEntry, "cgroups" | "jid">, v2Mount?: string): string {
  return entry.cgroups.net ?? `${v2Mount ?? detectCgroups().v2?.path ?? "/sys/fs/cgroup"}/sysjail/${entry.jid}`;
}

/** The op (for an enter plan, run by root) that moves a running jail from its recorded addresses
 * to `ip4`/`ip6`. Only shared-stack jails can change addresses this way: a vnet jail configures
 * its own interfaces (it holds CAP_NET_ADMIN in its namespace), and a jail without addresses has
 * no programs (its network namespace is fixed at creation). Throws a usage error otherwise. */
export function addressUpdateOps(entry: JailEntry, ip4: readonly string[], ip6: readonly string[], cgroupDir = jailNetCgroup(entry)): PlanOp[] {
  if (netMode(entry.spec, entry.owner) !== "shared") {
    throw new SysjailError(`jail: jail ${entry.name}: only a jail with addresses on the shared stack can change them while it runs`, {
      code: "EUSAGE", phase: "usage", exitCode: Exit.usage,
    });
  }
  if (ip4.length === 0 && ip6.length === 0) {
    throw new SysjailError(`jail: jail ${entry.name}: a shared-stack jail keeps at least one address`, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
  }
  const from = parseJailAddrs(entry.ip4, entry.ip6, false);
  const to = parseJailAddrs(ip4, ip6, false);
  const { sets, deletes } = mapChanges(mapEntries(from.v4, from.v6), mapEntries(to.v4, to.v6));
  return [op("bpfUpdate", [cgroupDir, ADDR_MAP.name, encodeEntries(sets), encodeKeys(deletes)],
    `addresses now: ${[...to.v4, ...to.v6].map((a) => a.text).join(" ")}`)];
}
