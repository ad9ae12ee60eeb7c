// Host facts the planner needs, gathered once: who calls, the subordinate id range, the arch.
import { DEFAULT_SUBID_START, sysjailSubids } from "./subid.js";

/** What the planner needs to know about the host; tests construct it by hand. */
export interface HostFacts {
  uid: number;
  gid: number;
  /** Node's process.arch of the host. */
  arch: string;
  /** Start and size of the id range root-created jails map onto (never containing 0). */
  subidBase: number;
  subidCount: number;
}

/** Default range for root-created jails when /etc/subuid names no `sysjail` user. */
export const DEFAULT_SUBID_BASE = DEFAULT_SUBID_START;
/** Size of that default range. */
export const DEFAULT_SUBID_COUNT = 65536;

/** The range of /etc/subuid's `sysjail` line, at most 65536 ids. */
function subRange(file: string): [number, number] | undefined {
  const r = sysjailSubids(file);
  return r && [r[0], Math.min(r[1], DEFAULT_SUBID_COUNT)];
}

let cachedRange: [number, number] | undefined;

/** Reads the facts of the running host (the subordinate range once per process). */
export function hostFacts(): HostFacts {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  cachedRange ??= subRange("/etc/subuid") ?? [DEFAULT_SUBID_BASE, DEFAULT_SUBID_COUNT];
  const [subidBase, subidCount] = cachedRange;
  return { uid, gid, arch: process.arch, subidBase, subidCount };
}
