// Rootless callers: finds a cgroup subtree delegated to the user (owned by them), per v1 hierarchy or in v2.
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CgroupLayout } from "./detect.js";
import { procsOf, readText, writable } from "./fsutil.js";
import { DEFAULT_BASE, type Controller } from "./types.js";

/** A delegated place for the jails' cgroups, or why there is none. */
export interface Delegation {
  /** v1: controller -> parent directory of the jails' cgroups (inside the delegated subtree). */
  v1?: Partial<Record<Controller, string>>;
  /** v2: the delegated directory, the jails' parent in it, and the controllers it offers. */
  v2?: { top: string; base: string; controllers: string[] };
  /** Why nothing usable was found (for plan notes). */
  why?: string;
}

function ownedBy(dir: string, uid: number): boolean {
  try {
    return statSync(dir).uid === uid;
  } catch {
    return false;
  }
}

/** The topmost directory, walking up from `leaf` to `mount`, of an unbroken chain owned by uid. */
export function delegatedTop(mount: string, leaf: string, uid: number): string | undefined {
  let top: string | undefined;
  for (let d = leaf; d === mount || d.startsWith(mount + "/"); d = dirname(d)) {
    if (!ownedBy(d, uid) || !writable(join(d, "cgroup.procs"))) break;
    top = d;
    if (d === mount) break;
  }
  return top;
}

/** Looks for cgroup directories the user owns above their own cgroup (systemd Delegate=yes, or an admin's chown). */
export function findDelegation(layout: CgroupLayout, uid: number): Delegation {
  const out: Delegation = {};
  if (layout.v2 && layout.self[""] !== undefined) {
    const mount = layout.v2.path;
    const own = join(mount, layout.self[""]);
    const top = delegatedTop(mount, own, uid);
    if (top && top !== mount) {
      const controllers = (readText(join(top, "cgroup.controllers")) ?? "").split(/\s+/).filter(Boolean);
      // the no-internal-process rule: controllers can only be enabled below a cgroup without processes
      if (procsOf(top).length > 0) {
        out.why = `the delegated cgroup ${top} holds processes; start sysjail from a leaf cgroup below it`;
      } else {
        out.v2 = { top, base: join(top, DEFAULT_BASE), controllers };
      }
    }
  }
  const v1: Partial<Record<Controller, string>> = {};
  for (const c of ["memory", "pids", "cpuacct", "cpu"] as Controller[]) {
    const mount = layout.v1[c];
    const own = layout.self[c];
    if (!mount || own === undefined) continue;
    const top = delegatedTop(mount, join(mount, own), uid);
    if (top && top !== mount) v1[c] = join(top, DEFAULT_BASE);
  }
  if (Object.keys(v1).length) out.v1 = v1;
  if (!out.v1 && !out.v2 && !out.why) {
    out.why = `no cgroup delegated to uid ${uid} (no systemd user scope here; ask an administrator to chown a cgroup subtree)`;
  }
  return out;
}
