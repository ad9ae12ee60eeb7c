// CPU accounting of the whole jail (v1 cpuacct, v2 cpu.stat) and the helper's polled cpu-time limit.
import { op } from "../plan/types.js";
import type { Limits } from "../spec/types.js";
import { emptyPart, stat, type ControllerPart } from "./controller.js";

/** Nanoseconds of a millisecond limit, exactly. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms)) * 1_000_000n;
}

/** The v1 cpuacct plan in `dir`: usage stats, and a cpuLimit op polling cpuacct.usage (nanoseconds). */
export function cpuacctV1(dir: string, limits: Limits): ControllerPart {
  const part = emptyPart();
  if (limits.cpu !== undefined) {
    part.ops.push(op("cpuLimit", [msToNs(limits.cpu), `${dir}/cpuacct.usage`], "whole-jail cpu time limit"));
  }
  stat(part, dir, "cpuacct.usage", "cpuUsageNs");
  stat(part, dir, "cpuacct.usage_user", "cpuUserNs");
  stat(part, dir, "cpuacct.usage_sys", "cpuSysNs");
  return part;
}

/**
 * The v2 accounting plan in `dir`: cpu.stat. The helper's cpuLimit reads a plain number, and cpu.stat
 * is "usage_usec N" lines: with `statKey` (a helper that takes "key scale" arguments) the limit polls
 * usage_usec x 1000; without it the cpu limit is left to the caller's RLIMIT_CPU fallback.
 */
export function cpuacctV2(dir: string, limits: Limits, statKey: boolean): ControllerPart {
  const part = emptyPart();
  if (limits.cpu !== undefined) {
    if (statKey) {
      part.ops.push(op("cpuLimit", [msToNs(limits.cpu), `${dir}/cpu.stat`, "usage_usec", 1000], "whole-jail cpu time limit"));
    } else {
      part.unenforced.push("cpu");
      part.notes.push("cpu: the helper cannot poll cgroup v2 cpu.stat yet (needs cpuLimit key/scale arguments)");
    }
  }
  stat(part, dir, "cpu.stat", "cpuStat");
  return part;
}

/** The file with the jail's cpu time now: v1 nanoseconds, v2 cpu.stat usage_usec. */
export const CPU_USAGE = { v1: "cpuacct.usage", v2: "cpu.stat" } as const;
