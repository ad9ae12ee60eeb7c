// The one cgroup interface behind which the v1 and v2 backends (and the no-cgroup fallback) sit.
import type { PlanOp } from "../plan/types.js";
import type { Limits } from "../spec/types.js";
import type { DeviceRule } from "./devices.js";

/** The controllers sysjail uses. v2 has no cpuacct: its accounting is part of every cgroup (cpu.stat). */
export type Controller = "memory" | "pids" | "cpu" | "cpuacct" | "devices";

/** A limit's key in Limits. */
export type LimitKey = keyof Limits;

/** The jail's cgroup directory per controller (v2: the same directory for all); absent = not used.
 * "unified": a hybrid host's v1 jail's empty leaf in the unified hierarchy, joined for the cgroup
 * namespace alone (no controller, no limit: src/cgroup/unified.ts). */
export type CgroupPaths = Partial<Record<Controller | "unified", string>>;

/** How to read a cgroupStat file the helper reports at exit. */
export type StatKind =
  | "memPeak" // v1 memory.max_usage_in_bytes, v2 memory.peak: bytes
  | "memOomControl" // v1 memory.oom_control: "oom_kill N" line
  | "memEvents" // v2 memory.events: "max N", "oom N", "oom_kill N"
  | "memFailcnt" // v1 memory.failcnt: times the limit was hit
  | "pidsPeak" // pids.peak: most tasks at once
  | "pidsEvents" // pids.events: "max N" = refused forks
  | "cpuUsageNs" // v1 cpuacct.usage: nanoseconds
  | "cpuUserNs" // v1 cpuacct.usage_user
  | "cpuSysNs" // v1 cpuacct.usage_sys
  | "cpuStat"; // v2 cpu.stat: usage_usec, user_usec, system_usec

/** cgroupStat name (as the helper reports it) -> kind. */
export type StatMap = Record<string, StatKind>;

/** What a backend is: cgroup v1 hierarchies, the v2 unified tree, or none (rlimits only). */
export type BackendKind = "v1" | "v2" | "none";

/** Options of CgroupBackend.plan. */
export interface CgroupPlanOptions {
  /** Create the accounting cgroups (memory, pids, cpu) even with no limit, for a full report. */
  accounting?: boolean;
  /** v1: the jail's init moves itself into its cgroups (cgroupJoin ops, native/src/run.c
   * join_cgroups) instead of being written into them (cgroupAttach): no RCU grace period. */
  join?: boolean;
  /** The device cgroup's rules (sysjail-oci): v1 devices controller, v2 device program. */
  devices?: readonly DeviceRule[] | undefined;
}

/** What a backend plans for one jail. */
export interface CgroupPlan {
  backend: BackendKind;
  /** cgroupMkdir, cgroupWrite, cgroupAttach, cgroupStat and cpuLimit ops. */
  ops: PlanOp[];
  /** The jail's cgroup directories. */
  paths: CgroupPaths;
  /** The cgroupStat names of ops, and how to read them (for buildReport). */
  stats: StatMap;
  /** Limit keys this backend cannot enforce (the caller falls back to rlimits where one exists). */
  unenforced: LimitKey[];
  /** Shared parent directories prepare() creates (the helper never removes them). */
  parents: string[];
  /** How limits are approximated or why one is not enforced, one line each. */
  notes: string[];
}

/** Live usage of a jail's cgroups; null where not available. */
export interface Usage {
  memoryBytes: number | null;
  cpuSeconds: number | null;
  pids: number | null;
}

/** A cgroup implementation: plans a jail's cgroups and reads or removes them afterwards. */
export interface CgroupBackend {
  readonly kind: BackendKind;
  /** Plans the cgroups of jail `jid` for these limits (pure: no file system change). */
  plan(jid: string | number, limits: Limits, opts?: CgroupPlanOptions): CgroupPlan;
  /** Makes the shared parents of a plan exist and removes a stale cgroup of the same jail; call before the helper runs. */
  prepare(plan: CgroupPlan): void;
  /** Current memory, cpu and task counts of a running jail's cgroups. */
  readUsage(paths: CgroupPaths): Usage;
  /** cgroupAttach ops that put a jexec'd process into the jail's cgroups. */
  attachOps(paths: CgroupPaths): PlanOp[];
  /** Kills what is left in the jail's cgroups and removes them; resolves to the directories it could not remove. */
  cleanup(paths: CgroupPaths): Promise<string[]>;
}

/** Where the jails' cgroups go under each hierarchy (relative to its mount point, or absolute when delegated). */
export const DEFAULT_BASE = "sysjail";
