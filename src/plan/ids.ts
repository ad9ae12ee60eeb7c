// User-namespace id maps: jail root is never host root.
import type { HostFacts } from "../host/facts.js";
import { op, type PlanOp } from "./types.js";

/** The id maps of a jail and the range of jail ids that exist. */
export interface IdMapping {
  uidMap: string;
  gidMap: string;
  /** "deny" for unprivileged callers (the kernel requires it before gid_map). */
  setgroups: "deny" | "allow";
  /** Jail ids 0..count-1 are mapped. */
  count: number;
  /** Host id of jail id 0. */
  hostBase: number;
  /** Host gid of jail gid 0 (hostBase when absent). */
  gidBase?: number | undefined;
  rootless: boolean;
  /** Why a root jail has this range (src/ids/choose.ts); absent for rootless jails. */
  lease?: "share" | "owned" | "name" | "tree" | "ephemeral" | undefined;
}

/** The default mapping planners use when they are given none: root callers map jail ids
 * 0..65535 onto the pool's first range (a jail's own range is chosen by src/ids/choose.ts);
 * anyone else maps jail root onto their own uid and nothing more. */
export function idMapping(facts: HostFacts): IdMapping {
  if (facts.uid === 0) {
    const line = `0 ${facts.subidBase} ${facts.subidCount}\n`;
    return { uidMap: line, gidMap: line, setgroups: "allow", count: facts.subidCount, hostBase: facts.subidBase, rootless: false };
  }
  return {
    uidMap: `0 ${facts.uid} 1\n`,
    gidMap: `0 ${facts.gid} 1\n`,
    setgroups: "deny",
    count: 1,
    hostBase: facts.uid,
    rootless: true,
  };
}

/** The plan ops that write the maps (the helper runs them from the host side after clone). */
export function idMapOps(m: IdMapping): PlanOp[] {
  return [
    op("setgroups", [m.setgroups], "setgroups before gid_map"),
    op("uidMap", [m.uidMap], m.rootless ? "jail root = the caller" : `jail ids onto the jail's range${m.lease ? ` (${m.lease})` : ""}`),
    op("gidMap", [m.gidMap]),
  ];
}
