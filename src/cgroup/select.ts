// Chooses the cgroup backend for this machine and caller: v1, v2, or none (rlimits only).
import { join } from "node:path";
import { findDelegation } from "./delegate.js";
import { detectCgroups, type CgroupLayout } from "./detect.js";
import { writable } from "./fsutil.js";
import { NoCgroupBackend } from "./none.js";
import { DEFAULT_BASE, type CgroupBackend, type Controller } from "./types.js";
import { unifiedBase } from "./unified.js";
import { V1Backend } from "./v1.js";
import { V2Backend } from "./v2.js";

/** Options of selectBackend. */
export interface SelectOptions {
  /** Where the cgroup file systems are mounted (default /sys/fs/cgroup). */
  root?: string;
  /** A layout detected before (tests). */
  layout?: CgroupLayout;
  /** The caller's effective uid (default process.geteuid()). */
  uid?: number;
  /** Prefer this version when both have the controllers. */
  prefer?: "v1" | "v2";
  /** Passed to V2Backend: the helper can poll cpu.stat. */
  cpuStatKey?: boolean;
}

const LIMIT_CONTROLLERS: Controller[] = ["memory", "pids", "cpuacct", "cpu"];

let cached: CgroupBackend | undefined;

/** The backend for the default root and caller, detected once per process. */
export function defaultBackend(): CgroupBackend {
  cached ??= selectBackend();
  return cached;
}

/** Picks the backend: root uses <mount>/sysjail; others need a delegated subtree, else NoCgroupBackend. */
export function selectBackend(opts: SelectOptions = {}): CgroupBackend {
  const layout = opts.layout ?? detectCgroups(opts.root ?? "/sys/fs/cgroup");
  const uid = opts.uid ?? process.geteuid?.() ?? 0;
  const v2opts = opts.cpuStatKey === undefined ? {} : { cpuStatKey: opts.cpuStatKey };
  if (layout.mode === "none") return new NoCgroupBackend("no cgroup file system is mounted");
  if (uid !== 0) {
    const d = findDelegation(layout, uid);
    const v1Useful = d.v1 && (d.v1.memory || d.v1.pids);
    const v2Useful = d.v2 && (d.v2.controllers.includes("memory") || d.v2.controllers.includes("pids"));
    if (v2Useful && d.v2 && (opts.prefer !== "v1" || !v1Useful)) {
      return new V2Backend(layout, { ...v2opts, base: d.v2.base, enableFrom: d.v2.top, controllers: d.v2.controllers });
    }
    if (v1Useful && d.v1) return new V1Backend(layout, { bases: d.v1 });
    if (d.v2) return new V2Backend(layout, { ...v2opts, base: d.v2.base, enableFrom: d.v2.top, controllers: d.v2.controllers });
    return new NoCgroupBackend(d.why ?? `no cgroup delegated to uid ${uid}`);
  }
  const v1Ctrls = LIMIT_CONTROLLERS.filter((c) => layout.v1[c] && writable(layout.v1[c]));
  const v2Ctrls = (layout.v2?.controllers ?? []).filter((c) => ["memory", "pids", "cpu"].includes(c));
  const v2Ok = layout.v2 !== undefined && writable(layout.v2.path);
  const v1Score = v1Ctrls.filter((c) => c === "memory" || c === "pids").length;
  const v2Score = v2Ok ? v2Ctrls.filter((c) => c === "memory" || c === "pids").length : -1;
  if (v2Ok && (v2Score > v1Score || (v2Score === v1Score && opts.prefer !== "v1" && v2Score > 0))) {
    return new V2Backend(layout, v2opts);
  }
  if (v1Ctrls.length) {
    const bases: Partial<Record<Controller, string>> = {};
    for (const c of v1Ctrls) bases[c] = join(layout.v1[c] ?? "", DEFAULT_BASE);
    // the devices hierarchy: device rules only (sysjail-oci), never a reason to pick v1
    if (layout.v1.devices && writable(layout.v1.devices)) bases.devices = join(layout.v1.devices, DEFAULT_BASE);
    return new V1Backend(layout, { bases, unified: unifiedBase(layout) });
  }
  if (v2Ok) return new V2Backend(layout, v2opts);
  return new NoCgroupBackend("the cgroup file systems are read-only or lack the memory and pids controllers");
}
