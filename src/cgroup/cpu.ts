// The cpu controller: a bandwidth cap (cores -> CFS quota) and a relative share (cpu.shares / cpu.weight).
import type { Limits } from "../spec/types.js";
import { sharesToWeight } from "../limits/parse.js";
import { emptyPart, write, type ControllerPart } from "./controller.js";

/** The CFS period used for quotas, microseconds (the kernel default). */
export const CFS_PERIOD_US = 100_000;

/** Quota in microseconds per period for a number of CPUs (at least the kernel's 1 ms minimum). */
export function quotaUs(cores: number): number {
  return Math.max(1000, Math.round(cores * CFS_PERIOD_US));
}

/** Whether the limits need the cpu controller. */
export function needsCpu(limits: Limits): boolean {
  return limits.cores !== undefined || limits.cpuShares !== undefined;
}

/** The v1 cpu plan in `dir`: cpu.cfs_period_us/cpu.cfs_quota_us and cpu.shares. */
export function cpuV1(dir: string, limits: Limits): ControllerPart {
  const part = emptyPart();
  if (limits.cores !== undefined) {
    write(part, dir, "cpu.cfs_period_us", CFS_PERIOD_US);
    write(part, dir, "cpu.cfs_quota_us", quotaUs(limits.cores), `at most ${limits.cores} CPUs`);
  }
  if (limits.cpuShares !== undefined) write(part, dir, "cpu.shares", limits.cpuShares, "cpu share");
  return part;
}

/** The v2 cpu plan in `dir`: cpu.max "quota period" and cpu.weight. */
export function cpuV2(dir: string, limits: Limits): ControllerPart {
  const part = emptyPart();
  if (limits.cores !== undefined) write(part, dir, "cpu.max", `${quotaUs(limits.cores)} ${CFS_PERIOD_US}`, `at most ${limits.cores} CPUs`);
  if (limits.cpuShares !== undefined) write(part, dir, "cpu.weight", sharesToWeight(limits.cpuShares), "cpu weight");
  return part;
}
