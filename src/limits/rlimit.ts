// rlimit ops: open files and file size always; memory, pids and cpu time when no cgroup can enforce them.
import { op, type PlanOp } from "../plan/types.js";
import type { Limits } from "../spec/types.js";

/** Linux resource numbers (asm-generic/resource.h, x86 and arm alike). */
export const RLIMIT = { CPU: 0, FSIZE: 1, DATA: 2, STACK: 3, CORE: 4, RSS: 5, NPROC: 6, NOFILE: 7, MEMLOCK: 8, AS: 9 } as const;

/** RLIM_INFINITY as the helper reads it (u64). */
export const RLIM_INFINITY = 18446744073709551615n;

/** An rlimit op: soft and hard the same unless given. */
export function rlimitOp(resource: number, soft: number | bigint, hard: number | bigint = soft, note?: string): PlanOp {
  return op("rlimit", [resource, soft, hard], note);
}

/** The rlimits every jail gets from its limits: RLIMIT_NOFILE and RLIMIT_FSIZE. */
export function baseRlimits(limits: Limits): PlanOp[] {
  const ops: PlanOp[] = [];
  if (limits.openFiles !== undefined) ops.push(rlimitOp(RLIMIT.NOFILE, limits.openFiles, limits.openFiles, "open files"));
  if (limits.fileSize !== undefined) ops.push(rlimitOp(RLIMIT.FSIZE, limits.fileSize, limits.fileSize, "file size"));
  return ops;
}

/** Per-process stand-ins for cgroup limits: what they are, as ops, and how they differ (notes). */
export function fallbackRlimits(limits: Limits, keys: readonly string[]): { ops: PlanOp[]; covered: string[]; notes: string[] } {
  const ops: PlanOp[] = [];
  const covered: string[] = [];
  const notes: string[] = [];
  if (keys.includes("memory") && limits.memory !== undefined) {
    ops.push(rlimitOp(RLIMIT.DATA, limits.memory, limits.memory, "memory (per process)"));
    covered.push("memory");
    notes.push("memory: RLIMIT_DATA per process (allocations fail instead of an OOM kill; no whole-jail cap)");
  }
  if (keys.includes("pids") && limits.pids !== undefined) {
    ops.push(rlimitOp(RLIMIT.NPROC, limits.pids, limits.pids, "processes (per user)"));
    covered.push("pids");
    notes.push("pids: RLIMIT_NPROC, counted per user inside the jail's user namespace");
  }
  if (keys.includes("cpu") && limits.cpu !== undefined) {
    const soft = Math.max(1, Math.ceil(limits.cpu / 1000));
    ops.push(rlimitOp(RLIMIT.CPU, soft, soft + 1, "cpu seconds (per process)"));
    covered.push("cpu");
    notes.push(`cpu: RLIMIT_CPU per process (SIGXCPU at ${soft} s, SIGKILL at ${soft + 1} s; not a whole-jail total)`);
  }
  return { ops, covered, notes };
}
