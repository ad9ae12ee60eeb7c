// All plan ops for a jail's limits: its cgroups, the wall and cpu-time limits, and rlimits.
import type { DeviceRule } from "../cgroup/devices.js";
import { defaultBackend } from "../cgroup/select.js";
import type { CgroupBackend, CgroupPaths, CgroupPlan, StatMap } from "../cgroup/types.js";
import { op, type PlanOp } from "../plan/types.js";
import type { Limits } from "../spec/types.js";
import { baseRlimits, fallbackRlimits } from "./rlimit.js";

/** An rlimit as the planner's PlanContext takes it: resource, soft, hard. */
export type RlimitTuple = [number, number | bigint, number | bigint];

/** Options of planLimits. */
export interface LimitsPlanOptions {
  /** The cgroup backend (default: detected for this machine and caller). */
  backend?: CgroupBackend;
  /** Make cgroups for a full report (peak memory, peak pids, whole-jail cpu) even without such limits. */
  accounting?: boolean;
  /** v1: the init joins its cgroups itself (CgroupPlanOptions.join). */
  join?: boolean;
  /** The device cgroup's rules (CgroupPlanOptions.devices). */
  devices?: readonly DeviceRule[] | undefined;
}

/** The limits part of a jail's plan, and what buildReport and jexec need to know about it. */
export interface LimitsPlan {
  /** Ops to put in the plan (monitor ops and command-phase rlimits). */
  ops: PlanOp[];
  /** The cgroup plan (paths for the registry, jexec's attachOps and cleanup). */
  cgroup: CgroupPlan;
  paths: CgroupPaths;
  /** cgroupStat name -> kind, for buildReport. */
  stats: StatMap;
  /** Limit keys that nothing enforces on this machine for this caller. */
  unenforced: string[];
  /** How limits are approximated, one line each. */
  notes: string[];
}

/** Plans every limit of a jail: cgroups (or rlimit stand-ins), wallLimit, nofile/fsize rlimits. Pure. */
export function planLimits(jid: string | number, limits: Limits, opts: LimitsPlanOptions = {}): LimitsPlan {
  const backend = opts.backend ?? defaultBackend();
  const cg = backend.plan(jid, limits, opts.accounting ? { accounting: true } : {});
  const ops: PlanOp[] = [...cg.ops];
  if (limits.wall !== undefined) ops.push(op("wallLimit", [Math.round(limits.wall)], "wall-clock limit"));
  const fb = fallbackRlimits(limits, cg.unenforced);
  ops.push(...baseRlimits(limits), ...fb.ops);
  const unenforced = cg.unenforced.filter((k) => !fb.covered.includes(k));
  return { ops, cgroup: cg, paths: cg.paths, stats: cg.stats, unenforced, notes: [...cg.notes, ...fb.notes] };
}

/** The cgroup share of a jail start in the shape of PlanContext (cgroupOps, rlimits): no wallLimit, nofile or fsize, which the planner adds itself. */
export interface CgroupContext {
  /** cgroupMkdir, cgroupWrite, cgroupAttach, cgroupStat and cpuLimit ops (PlanContext.cgroupOps). */
  ops: PlanOp[];
  /** The jail's cgroup directories (for the registry, jexec's attachOps and cleanup). */
  paths: CgroupPaths;
  /** sysjail-oci: the other v1 hierarchies' directories the init joins (src/cgroup/joined.ts key
   * -> directory), recorded so that exec and jexec join them too. */
  joined?: Record<string, string>;
  /** rlimit stand-ins for cgroup limits nothing else enforces (PlanContext.rlimits). */
  rlimits: RlimitTuple[];
  /** cgroupStat name -> kind, for buildReport. */
  stats: StatMap;
  unenforced: string[];
  /** Limit keys an rlimit stands in for (no cgroup could enforce them): memory, pids, cpu. */
  rlimited: string[];
  notes: string[];
  /** The backend's plan, for backend.prepare() right before the helper starts. */
  cgroup: CgroupPlan;
}

/** Plans a jail's cgroups (and their rlimit stand-ins) once its jid is known. Pure; call backend.prepare(result.cgroup) before the helper runs. */
export function planCgroups(jid: string | number, limits: Limits, opts: LimitsPlanOptions = {}): CgroupContext {
  const backend = opts.backend ?? defaultBackend();
  const cg = backend.plan(jid, limits, { ...(opts.accounting ? { accounting: true } : {}), ...(opts.join ? { join: true } : {}), ...(opts.devices ? { devices: opts.devices } : {}) });
  const fb = fallbackRlimits(limits, cg.unenforced);
  const rlimits = fb.ops.map((o): RlimitTuple => {
    const [res, soft, hard] = o.args.map(String);
    return [Number(res), BigInt(soft ?? 0), BigInt(hard ?? 0)];
  });
  const unenforced = cg.unenforced.filter((k) => !fb.covered.includes(k));
  return { ops: cg.ops, paths: cg.paths, rlimits, stats: cg.stats, unenforced, rlimited: fb.covered, notes: [...cg.notes, ...fb.notes], cgroup: cg };
}
