// A hybrid host's unified (cgroup2) hierarchy for a v1 jail: the parent of its empty leaf there,
// joined for the cgroup namespace alone (docs/JAILS.md, Security, "The unified cgroup tree on
// hybrid hosts").
import { join } from "node:path";
import { op, type PlanOp } from "../plan/types.js";
import type { CgroupLayout } from "./detect.js";
import { writable } from "./fsutil.js";
import { DEFAULT_BASE } from "./types.js";

/** The parent of v1 jails' leaves in a hybrid host's unified hierarchy (<mount>/sysjail), when
 * the caller may write that hierarchy's root; undefined on a v1-only or v2-only host, or for a
 * caller who cannot (a rootless jail keeps the unified tree of its runtime). */
export function unifiedBase(layout: CgroupLayout): string | undefined {
  if (layout.mode !== "hybrid" || !layout.v2) return undefined;
  return writable(layout.v2.path) ? join(layout.v2.path, DEFAULT_BASE) : undefined;
}

/** A process's move into a unified leaf: the monitor writes the init's pid (jexec: the entering
 * helper its own) into cgroup.procs, before the init makes its cgroup namespace
 * (native/src/init.c), which is then rooted at the leaf. Beside v1 cgroup-attach writes it costs
 * no more (the kernel's RCU grace period is paid once for all of them). */
export function unifiedAttach(dir: string): PlanOp {
  return op("cgroupAttach", [join(dir, "cgroup.procs")], "the jail's cgroup namespace: rooted at its own leaf of the unified hierarchy");
}

/** The init born in its unified leaf (clone3 CLONE_INTO_CGROUP), for a jail whose init joins its
 * v1 cgroups itself (cgroupJoin): a cgroup.procs write would be the start's only migration of a
 * whole process, and wait for an RCU grace period (about 10 ms) that the joins avoid. */
export function unifiedInto(dir: string): PlanOp {
  return op("cgroupInto", [dir], "the jail's cgroup namespace: the init is born in its own leaf of the unified hierarchy");
}
