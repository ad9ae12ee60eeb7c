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

/** The init's move into its unified leaf: the monitor writes the init's pid into cgroup.procs
 * after the clone, before the init makes its cgroup namespace (native/src/init.c), which is
 * then rooted at the leaf. */
export function unifiedAttach(dir: string): PlanOp {
  return op("cgroupAttach", [join(dir, "cgroup.procs")], "the jail's cgroup namespace: rooted at its own leaf of the unified hierarchy");
}
