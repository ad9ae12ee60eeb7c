// The no-cgroup backend: nothing is created; every cgroup limit is left to the rlimit fallback.
import type { PlanOp } from "../plan/types.js";
import type { Limits } from "../spec/types.js";
import type { CgroupBackend, CgroupPaths, CgroupPlan, LimitKey, Usage } from "./types.js";

/** The limit keys that need a cgroup. */
export const CGROUP_KEYS: readonly LimitKey[] = ["memory", "swap", "pids", "cpu", "cores", "cpuShares"];

/** No usable cgroups (rootless without delegation, or no cgroup file system). */
export class NoCgroupBackend implements CgroupBackend {
  readonly kind = "none" as const;
  /** Why there are no cgroups, one line (shown in plan notes). */
  readonly why: string;

  constructor(why = "no writable cgroup hierarchy") {
    this.why = why;
  }

  /** Nothing to create; every cgroup limit is unenforced here. */
  plan(_jid: string | number, limits: Limits): CgroupPlan {
    const unenforced = CGROUP_KEYS.filter((k) => limits[k] !== undefined);
    const notes = unenforced.length ? [`cgroups: ${this.why}`] : [];
    return { backend: "none", ops: [], paths: {}, stats: {}, unenforced, parents: [], notes };
  }

  /** Nothing to prepare. */
  prepare(): void {}

  /** No cgroup: nothing is known. */
  readUsage(_paths: CgroupPaths): Usage {
    return { memoryBytes: null, cpuSeconds: null, pids: null };
  }

  /** No cgroup to join. */
  attachOps(_paths: CgroupPaths): PlanOp[] {
    return [];
  }

  /** Nothing to remove. */
  cleanup(_paths: CgroupPaths): Promise<string[]> {
    return Promise.resolve([]);
  }
}
