// Reading cgroup statistic files (as the helper reports them at exit, or live) into numbers.
import type { StatKind, StatMap } from "./types.js";

/** What the cgroup statistics of a jail say; absent fields were not available. */
export interface CgroupStats {
  /** Most memory the jail's cgroup held at once, bytes. */
  memPeakBytes?: number;
  /** OOM kills inside the jail's memory cgroup. */
  oomKills?: number;
  /** Times the memory limit was reached (v1 failcnt counts reclaim too; v2 memory.events max). */
  memLimitHits?: number;
  /** Most tasks at once in the pids cgroup, the jail's init included. */
  pidsPeak?: number;
  /** Forks refused by pids.max. */
  pidsLimitHits?: number;
  /** CPU time of the whole jail, seconds. */
  cpuSeconds?: number;
  cpuUserSeconds?: number;
  cpuSystemSeconds?: number;
}

const KINDS: ReadonlySet<string> = new Set<StatKind>([
  "memPeak", "memOomControl", "memEvents", "memFailcnt", "pidsPeak", "pidsEvents",
  "cpuUsageNs", "cpuUserNs", "cpuSysNs", "cpuStat",
]);

/** A file's first number ("12345\n"), or undefined. */
export function statNumber(text: string): number | undefined {
  const m = /^\s*(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The value of a "key N" line in a flat-keyed file (memory.events, cpu.stat, oom_control), or undefined. */
export function statKey(text: string, key: string): number | undefined {
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  return undefined;
}

/** N units of 1/PER second as seconds (undefined stays undefined). */
function seconds(n: number | undefined, per: number): number | undefined {
  return n === undefined ? undefined : n / per;
}

/** Adds one stat file's content of a kind to `out`. */
function addStat(out: CgroupStats, kind: StatKind, text: string): void {
  const set = <K extends keyof CgroupStats>(k: K, v: number | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  switch (kind) {
    case "memPeak":
      set("memPeakBytes", statNumber(text));
      break;
    case "memOomControl":
      set("oomKills", statKey(text, "oom_kill"));
      break;
    case "memEvents":
      set("oomKills", statKey(text, "oom_kill"));
      set("memLimitHits", statKey(text, "max"));
      break;
    case "memFailcnt":
      set("memLimitHits", statNumber(text));
      break;
    case "pidsPeak":
      set("pidsPeak", statNumber(text));
      break;
    case "pidsEvents":
      set("pidsLimitHits", statKey(text, "max"));
      break;
    case "cpuUsageNs":
      set("cpuSeconds", seconds(statNumber(text), 1e9));
      break;
    case "cpuUserNs":
      set("cpuUserSeconds", seconds(statNumber(text), 1e9));
      break;
    case "cpuSysNs":
      set("cpuSystemSeconds", seconds(statNumber(text), 1e9));
      break;
    case "cpuStat":
      set("cpuSeconds", seconds(statKey(text, "usage_usec"), 1e6));
      set("cpuUserSeconds", seconds(statKey(text, "user_usec"), 1e6));
      set("cpuSystemSeconds", seconds(statKey(text, "system_usec"), 1e6));
      break;
  }
}

/** Parses the helper's exit "stats" (name -> file content) using the plan's StatMap (names that are kinds need none). */
export function parseStats(raw: Record<string, string> | undefined, map: StatMap = {}): CgroupStats {
  const out: CgroupStats = {};
  for (const [name, text] of Object.entries(raw ?? {})) {
    const kind = map[name] ?? (KINDS.has(name) ? (name as StatKind) : undefined);
    if (kind && typeof text === "string") addStat(out, kind, text);
  }
  return out;
}
