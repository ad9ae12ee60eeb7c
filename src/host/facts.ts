// Host facts the planner needs, gathered once: who calls, the subordinate id range, the arch.
import { readFileSync } from "node:fs";

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
export const DEFAULT_SUBID_BASE = 0x70000000;
export const DEFAULT_SUBID_COUNT = 65536;

function subRange(file: string): [number, number] | undefined {
  try {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const [who, start, count] = line.trim().split(":");
      if (who === "sysjail" && start && count) {
        const s = Number(start), c = Number(count);
        if (Number.isInteger(s) && Number.isInteger(c) && s > 0 && c >= 1) return [s, Math.min(c, 65536)];
      }
    }
  } catch {
    /* no file: the default range */
  }
  return undefined;
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
