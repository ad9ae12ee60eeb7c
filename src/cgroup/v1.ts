// The cgroup v1 backend: one directory per hierarchy (memory, pids, cpuacct, cpu) under <mount>/sysjail/<jid>.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { op, type PlanOp } from "../plan/types.js";
import type { Limits } from "../spec/types.js";
import { emptyPart, mergeParts, type ControllerPart } from "./controller.js";
import { cpuacctV1 } from "./cpuacct.js";
import { cpuV1, needsCpu } from "./cpu.js";
import type { CgroupLayout } from "./detect.js";
import { existsCached, killAndRemove, readText, removeStale } from "./fsutil.js";
import { cgroupName } from "./jid.js";
import { memoryV1 } from "./memory.js";
import { pidsPlan } from "./pids.js";
import { devicesV1 } from "./devices.js";
import { statKey, statNumber } from "./stats.js";
import { unifiedAttach, unifiedInto } from "./unified.js";
import {
  DEFAULT_BASE,
  type CgroupBackend,
  type CgroupPaths,
  type CgroupPlan,
  type CgroupPlanOptions,
  type Controller,
  type LimitKey,
  type Usage,
} from "./types.js";

/** The limit keys each controller enforces. */
const KEYS: Record<Controller, LimitKey[]> = {
  memory: ["memory", "swap"],
  pids: ["pids"],
  cpuacct: ["cpu"],
  cpu: ["cores", "cpuShares"],
  devices: [],
};

/** Options of the v1 backend. */
export interface V1Options {
  /** Parent directory of the jails' cgroups per controller (default <mount>/sysjail); absolute. */
  bases?: Partial<Record<Controller, string>>;
  /** A hybrid host's unified hierarchy: the parent of each jail's empty leaf there (unified.ts
   * unifiedBase), which its init joins for its cgroup namespace; absent = none. */
  unified?: string | undefined;
}

/** cgroup v1: limits and accounting through the memory, pids, cpu and cpuacct hierarchies. */
export class V1Backend implements CgroupBackend {
  /** Parents this backend already made. */
  readonly #prepared = new Set<string>();
  readonly kind = "v1" as const;
  /** Controller -> parent directory of the jails' cgroups. */
  readonly bases: Partial<Record<Controller, string>> = {};
  /** The parent of the jails' leaves in the unified hierarchy of a hybrid host. */
  readonly unified: string | undefined;
  readonly #layout: CgroupLayout;

  constructor(layout: CgroupLayout, opts: V1Options = {}) {
    this.#layout = layout;
    this.unified = opts.unified;
    for (const c of ["memory", "pids", "cpuacct", "cpu", "devices"] as Controller[]) {
      const base = opts.bases ? opts.bases[c] : layout.v1[c] ? join(layout.v1[c], DEFAULT_BASE) : undefined;
      if (base) this.bases[c] = base;
    }
  }

  /** Which controllers the limits (or accounting) need. */
  #needed(limits: Limits, accounting: boolean, devices: boolean): Controller[] {
    const out: Controller[] = [];
    if (devices) out.push("devices");
    if (accounting || limits.memory !== undefined || limits.swap !== undefined) out.push("memory");
    if (accounting || limits.pids !== undefined) out.push("pids");
    if (accounting || limits.cpu !== undefined) out.push("cpuacct");
    if (needsCpu(limits)) out.push("cpu");
    return out;
  }

  /** Plans <base>/<jid> in each needed hierarchy: mkdir, limits, attach, stats, cpu-time limit. */
  plan(jid: string | number, limits: Limits, opts: CgroupPlanOptions = {}): CgroupPlan {
    const name = cgroupName(jid);
    const paths: CgroupPaths = {};
    const parts: ControllerPart[] = [];
    const missing = emptyPart();
    for (const c of this.#needed(limits, opts.accounting ?? false, opts.devices !== undefined)) {
      const base = this.bases[c];
      if (!base && c === "devices") { missing.notes.push("device rules: no cgroup v1 devices hierarchy"); continue; }
      if (!base) {
        const keys = KEYS[c].filter((k) => limits[k] !== undefined);
        missing.unenforced.push(...keys);
        if (keys.length) missing.notes.push(`${keys.join(", ")}: no cgroup v1 ${c} hierarchy`);
        continue;
      }
      const dir = join(base, name);
      paths[c] = dir;
      if (c === "memory") {
        const mount = this.#layout.v1.memory ?? base;
        parts.push(
          memoryV1(dir, limits, {
            memsw: existsCached(join(mount, "memory.memsw.limit_in_bytes")),
            swappiness: existsCached(join(mount, "memory.swappiness")),
            oomControl: existsCached(join(mount, "memory.oom_control")),
          }),
        );
      } else if (c === "pids") parts.push(pidsPlan(dir, limits));
      else if (c === "devices") parts.push(devicesV1(dir, opts.devices ?? []));
      else if (c === "cpuacct") parts.push(cpuacctV1(dir, limits));
      else parts.push(cpuV1(dir, limits));
    }
    const body = mergeParts([missing, ...parts]);
    // Security: a jail with cgroups of its own gets a leaf of its own in a hybrid host's unified
    // hierarchy too. Its cgroup namespace is rooted at its cgroup in every hierarchy, the unified
    // one included: left in the runtime's unified cgroup (often the root), the jail saw the
    // host's whole unified tree (every other jail's and container's cgroup names, a line per
    // host process in cgroup.procs). docs/JAILS.md, Security, "The unified cgroup tree on hybrid hosts".
    if (this.unified && Object.keys(paths).length) paths.unified = join(this.unified, name);
    const dirs = uniqueDirs(paths);
    const ops: PlanOp[] = [
      ...dirs.map((d) => op("cgroupMkdir", [d], "the jail's cgroup")),
      ...body.ops.filter((o) => o.op === "cgroupWrite"),
      ...(opts.join ? joinOps(paths) : this.attachOps(paths)),
      ...body.ops.filter((o) => o.op !== "cgroupWrite"),
    ];
    const parents = [...new Set(dirs.map((d) => d.slice(0, d.length - name.length - 1)))];
    return { backend: "v1", ops, paths, stats: body.stats, unenforced: body.unenforced, parents, notes: body.notes };
  }

  /** Creates the shared parents (once per process) and removes a stale cgroup of this jid. */
  prepare(plan: CgroupPlan): void {
    for (const p of plan.parents) {
      if (this.#prepared.has(p)) continue;
      mkdirSync(p, { recursive: true });
      this.#prepared.add(p);
    }
    for (const d of uniqueDirs(plan.paths)) removeStale(d);
  }

  /** Memory (memory.usage_in_bytes), cpu (cpuacct.usage) and tasks (pids.current) now. */
  readUsage(paths: CgroupPaths): Usage {
    const num = (dir: string | undefined, file: string) => {
      const t = dir ? readText(join(dir, file)) : undefined;
      return t === undefined ? null : (statNumber(t) ?? null);
    };
    const ns = num(paths.cpuacct, "cpuacct.usage");
    return {
      memoryBytes: num(paths.memory, "memory.usage_in_bytes"),
      cpuSeconds: ns === null ? null : ns / 1e9,
      pids: num(paths.pids, "pids.current"),
    };
  }

  /** One cgroupAttach per hierarchy directory (the unified leaf's included). */
  attachOps(paths: CgroupPaths): PlanOp[] {
    return uniqueDirs(paths).map((d) => (d === paths.unified ? unifiedAttach(d) : op("cgroupAttach", [join(d, "cgroup.procs")])));
  }

  /** SIGKILLs what is left (v1 has no cgroup.kill) and removes the directories. */
  cleanup(paths: CgroupPaths): Promise<string[]> {
    return killAndRemove(uniqueDirs(paths), false);
  }
}

/** One cgroupJoin per v1 hierarchy directory: its `tasks` file, where the init writes itself
 * ("0"); the unified leaf (which has no `tasks`) is where the init is born (cgroupInto). */
export function joinOps(paths: CgroupPaths): PlanOp[] {
  return uniqueDirs(paths).map((d) => (d === paths.unified ? unifiedInto(d) : op("cgroupJoin", [join(d, "tasks")], "the jail's init moves itself here before it runs")));
}

/** The distinct directories of paths, in controller order (co-mounted hierarchies share one),
 * the unified leaf last. */
export function uniqueDirs(paths: CgroupPaths): string[] {
  const order: (keyof CgroupPaths)[] = ["memory", "pids", "cpuacct", "cpu", "devices", "unified"];
  return [...new Set(order.map((c) => paths[c]).filter((d): d is string => !!d))];
}

/** The oom_kill counter of a v1 memory cgroup now (for live checks). */
export function oomKillsV1(dir: string): number | undefined {
  const t = readText(join(dir, "memory.oom_control"));
  return t === undefined ? undefined : statKey(t, "oom_kill");
}
