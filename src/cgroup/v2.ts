// The cgroup v2 backend: one directory <unified>/sysjail/<jid> with memory, pids and cpu enabled above it.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SysjailError } from "../errors.js";
import { op, type PlanOp } from "../plan/types.js";
import type { Limits } from "../spec/types.js";
import { emptyPart, mergeParts, type ControllerPart } from "./controller.js";
import { cpuacctV2 } from "./cpuacct.js";
import { cpuV2, needsCpu } from "./cpu.js";
import { DEVICE_ATTACH_TYPE, DEVICE_PROG_TYPE, deviceProgram } from "./devices.js";
import type { CgroupLayout } from "./detect.js";
import { killAndRemove, readText, removeStale } from "./fsutil.js";
import { cgroupName } from "./jid.js";
import { memoryV2 } from "./memory.js";
import { pidsPlan } from "./pids.js";
import { statKey, statNumber } from "./stats.js";
import {
  DEFAULT_BASE,
  type CgroupBackend,
  type CgroupPaths,
  type CgroupPlan,
  type CgroupPlanOptions,
  type Usage,
} from "./types.js";

/** Options of the v2 backend. */
export interface V2Options {
  /** Parent directory of the jails' cgroups (default <unified mount>/sysjail). */
  base?: string;
  /** The topmost directory whose cgroup.subtree_control prepare() writes (default: the mount, or base's parent). */
  enableFrom?: string;
  /** Controllers available at enableFrom (default: the mount's cgroup.controllers). */
  controllers?: string[];
  /** The helper's cpuLimit understands "file key scale" (needed to poll cpu.stat); see docs/LIMITS.md. */
  cpuStatKey?: boolean;
}

/** The controllers sysjail enables for its jails. */
const WANTED = ["memory", "pids", "cpu"];

/** cgroup v2: limits and accounting in one directory per jail. */
export class V2Backend implements CgroupBackend {
  /** Parents this backend already made. */
  readonly #prepared = new Set<string>();
  readonly kind = "v2" as const;
  readonly base: string;
  readonly enableFrom: string;
  readonly controllers: string[];
  readonly #cpuStatKey: boolean;
  #swapKnown: boolean | undefined;

  constructor(layout: CgroupLayout, opts: V2Options = {}) {
    const mount = layout.v2?.path ?? layout.root;
    this.base = opts.base ?? join(mount, DEFAULT_BASE);
    this.enableFrom = opts.enableFrom ?? (opts.base ? dirname(opts.base) : mount);
    this.controllers = opts.controllers ?? layout.v2?.controllers ?? [];
    this.#cpuStatKey = opts.cpuStatKey ?? true;
  }

  /** Whether memory.swap.max exists: asked of base or enableFrom when memory is on there, else assumed (the v2 default). */
  #swapMax(): boolean {
    if (this.#swapKnown === undefined) {
      for (const d of [this.base, this.enableFrom]) {
        if (existsSync(join(d, "memory.current"))) {
          this.#swapKnown = existsSync(join(d, "memory.swap.max"));
          break;
        }
      }
    }
    return this.#swapKnown ?? true;
  }

  /** Plans <base>/<jid>: mkdir, limits, attach, stats, cpu-time limit; a limit whose controller is missing is unenforced. */
  plan(jid: string | number, limits: Limits, opts: CgroupPlanOptions = {}): CgroupPlan {
    const name = cgroupName(jid);
    const accounting = opts.accounting ?? false;
    const wantMemory = accounting || limits.memory !== undefined || limits.swap !== undefined;
    const wantPids = accounting || limits.pids !== undefined;
    const wantCpu = accounting || limits.cpu !== undefined || needsCpu(limits);
    const wantDevices = opts.devices !== undefined;
    if (!wantMemory && !wantPids && !wantCpu && !wantDevices) {
      return { backend: "v2", ops: [], paths: {}, stats: {}, unenforced: [], parents: [], notes: [] };
    }
    const dir = join(this.base, name);
    const has = (c: string) => this.controllers.includes(c);
    const parts: ControllerPart[] = [];
    const missing = emptyPart();
    const paths: CgroupPaths = {};
    const lack = (c: string, keys: (keyof Limits)[]) => {
      const set = keys.filter((k) => limits[k] !== undefined);
      missing.unenforced.push(...set);
      if (set.length) missing.notes.push(`${set.join(", ")}: the cgroup v2 ${c} controller is not available`);
    };
    if (wantMemory) {
      if (has("memory")) {
        paths.memory = dir;
        parts.push(memoryV2(dir, limits, { swapMax: this.#swapMax() }));
      } else lack("memory", ["memory", "swap"]);
    }
    if (wantPids) {
      if (has("pids")) {
        paths.pids = dir;
        parts.push(pidsPlan(dir, limits));
      } else lack("pids", ["pids"]);
    }
    if (wantCpu) {
      // cpu.stat exists in every v2 cgroup: accounting and the cpu-time limit need no controller
      paths.cpuacct = dir;
      parts.push(cpuacctV2(dir, limits, this.#cpuStatKey));
      if (needsCpu(limits)) {
        if (has("cpu")) {
          paths.cpu = dir;
          parts.push(cpuV2(dir, limits));
        } else lack("cpu", ["cores", "cpuShares"]);
      }
    }
    // the device rules: a program on the jail's cgroup, no override below it (the helper refuses flags)
    if (wantDevices) paths.devices = dir;
    const body = mergeParts([missing, ...parts]);
    const ops: PlanOp[] = [
      op("cgroupMkdir", [dir], "the jail's cgroup"),
      ...(wantDevices ? [op("bpfProg", ["sj_devices", DEVICE_PROG_TYPE, DEVICE_ATTACH_TYPE, dir, 0, deviceProgram(opts.devices ?? [])], "the jail's device rules")] : []),
      ...body.ops.filter((o) => o.op === "cgroupWrite"),
      ...this.attachOps(paths),
      ...body.ops.filter((o) => o.op !== "cgroupWrite"),
    ];
    return { backend: "v2", ops, paths, stats: body.stats, unenforced: body.unenforced, parents: [this.base], notes: body.notes };
  }

  /** Creates base, enables memory/pids/cpu in enableFrom's and base's subtree_control (once per process), removes a stale cgroup. */
  prepare(plan: CgroupPlan): void {
    for (const p of plan.parents) {
      if (this.#prepared.has(p)) continue;
      mkdirSync(p, { recursive: true });
      const want = WANTED.filter((c) => this.controllers.includes(c));
      const levels: string[] = [p];
      for (let d = p; d !== this.enableFrom && d.startsWith(this.enableFrom + "/"); ) {
        d = dirname(d);
        levels.unshift(d);
      }
      for (const level of levels) enableControllers(level, want);
      this.#prepared.add(p);
    }
    const dir = plan.paths.memory ?? plan.paths.pids ?? plan.paths.cpuacct ?? plan.paths.cpu ?? plan.paths.devices;
    if (dir) removeStale(dir);
  }

  /** Memory (memory.current), cpu (cpu.stat usage_usec) and tasks (pids.current) now. */
  readUsage(paths: CgroupPaths): Usage {
    const dir = paths.memory ?? paths.pids ?? paths.cpuacct ?? paths.cpu ?? paths.devices;
    const read = (f: string) => (dir ? readText(join(dir, f)) : undefined);
    const mem = read("memory.current");
    const cpu = read("cpu.stat");
    const pids = read("pids.current");
    const usec = cpu === undefined ? undefined : statKey(cpu, "usage_usec");
    return {
      memoryBytes: mem === undefined ? null : (statNumber(mem) ?? null),
      cpuSeconds: usec === undefined ? null : usec / 1e6,
      pids: pids === undefined ? null : (statNumber(pids) ?? null),
    };
  }

  /** One cgroupAttach of the jail's directory. */
  attachOps(paths: CgroupPaths): PlanOp[] {
    const dir = paths.memory ?? paths.pids ?? paths.cpuacct ?? paths.cpu ?? paths.devices;
    return dir ? [op("cgroupAttach", [join(dir, "cgroup.procs")])] : [];
  }

  /** cgroup.kill (5.14+) or SIGKILL of what is left, then rmdir. */
  cleanup(paths: CgroupPaths): Promise<string[]> {
    const dir = paths.memory ?? paths.pids ?? paths.cpuacct ?? paths.cpu ?? paths.devices;
    return killAndRemove(dir ? [dir] : [], true);
  }
}

/** Writes "+c" for each wanted controller missing from dir/cgroup.subtree_control. */
function enableControllers(dir: string, want: string[]): void {
  const file = join(dir, "cgroup.subtree_control");
  const on = (readText(file) ?? "").split(/\s+/);
  const add = want.filter((c) => !on.includes(c));
  if (add.length === 0) return;
  try {
    writeFileSync(file, add.map((c) => `+${c}`).join(" "));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new SysjailError(`cannot enable the ${add.join(", ")} cgroup controllers in ${dir}: ${code}`, {
      code,
      phase: "plan",
      path: file,
      cause: e,
    });
  }
}
