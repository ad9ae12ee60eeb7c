// Which jails may claim the same address: FreeBSD's rule for jails on one stack, none for vnet.
import { SysjailError, Exit } from "../errors.js";
import type { JailEntry } from "../registry/types.js";
import type { JailSpec } from "../spec/types.js";
import { parseJailAddr } from "./addr.js";
import { netMode, type NetMode } from "./mode.js";

const canon = (t: string, fam: 4 | 6) => {
  try {
    return parseJailAddr(t, fam, true).text;
  } catch {
    return t;
  }
};

/** Throws EADDRINUSE when the new jail's addresses clash with a live jail's. Two shared-stack jails
 * may share an address only when each has exactly one address of that family (FreeBSD's
 * prison_check_ip rule: "permitted if there is no more than one IP on each jail"); a vnet jail
 * shares none, since the host routes each of its addresses to one veth. Rootless jails with
 * private namespaces never clash. */
export function checkConflicts(spec: Pick<JailSpec, "ip4" | "ip6" | "vnet">, mode: NetMode, others: readonly JailEntry[]): void {
  if (mode === "none" || mode === "private") return;
  for (const fam of [4, 6] as const) {
    const mine = (fam === 4 ? spec.ip4 : spec.ip6).map((t) => canon(t, fam));
    if (mine.length === 0) continue;
    for (const e of others) {
      const theirMode = netMode(e.spec, e.owner);
      if (theirMode === "none" || theirMode === "private") continue;
      const theirs = (fam === 4 ? e.ip4 : e.ip6).map((t) => canon(t, fam));
      const shared = mine.filter((a) => theirs.includes(a));
      if (shared.length === 0) continue;
      const freebsdOk = mode === "shared" && theirMode === "shared" && mine.length === 1 && theirs.length === 1;
      if (freebsdOk) continue;
      const why = mode === "vnet" || theirMode === "vnet"
        ? "a vnet jail's addresses are its own"
        : "jails on the shared stack may share an address only when each has just that one";
      throw new SysjailError(`sysjail: address ${shared[0]} is in use by jail ${e.name} (jid ${e.jid}): ${why}`, {
        code: "EADDRINUSE", phase: "usage", exitCode: Exit.usage,
      });
    }
  }
}
