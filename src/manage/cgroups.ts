// A running jail's cgroups as the management tools use them: checked paths, usage, leftovers.
import { existsSync, lstatSync } from "node:fs";
import { isAbsolute, normalize } from "node:path";
import { selectBackend } from "../cgroup/select.js";
import { removeDir } from "../cgroup/fsutil.js";
import type { CgroupBackend, CgroupPaths, Usage } from "../cgroup/types.js";
import type { JailEntry } from "../registry/types.js";
import { belowHierarchy, inHierarchyOf, isJoinedKey } from "../cgroup/joined.js";

/** The registry keys of sysjail's own cgroups ("unified": a hybrid host's v1 jail's leaf there). */
const CONTROLLERS = new Set(["memory", "pids", "cpu", "cpuacct", "devices", "unified"]);
const ROOT = "/sys/fs/cgroup/";

/** The entry's cgroup directories that are safe to join, read or remove: real directories below a
 * cgroup mount (never a hierarchy's root), owned by the jail's owner for a user's jail. */
export function trustedCgroups(entry: JailEntry, owner: number): CgroupPaths {
  const out: CgroupPaths = {};
  for (const [ctl, dir] of Object.entries(entry.cgroups ?? {})) {
    if (!CONTROLLERS.has(ctl) || typeof dir !== "string" || !isAbsolute(dir) || normalize(dir) !== dir) continue;
    if (!dir.startsWith(ROOT) || !belowHierarchy(dir) || !ownedDir(dir, owner)) continue;
    out[ctl as keyof CgroupPaths] = dir;
  }
  return out;
}

/** Whether DIR is a real directory (no symlink), owned by OWNER unless root's. */
function ownedDir(dir: string, owner: number): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && (owner === 0 || st.uid === owner);
  } catch {
    return false;
  }
}

/** The entry's other v1 hierarchies' directories (a sysjail-oci container's cpuset, freezer...:
 * src/cgroup/joined.ts) that an entered process joins, checked as trustedCgroups checks and each
 * inside the hierarchy its key names; key -> directory. */
export function trustedJoined(entry: JailEntry, owner: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, dir] of Object.entries(entry.cgroups ?? {})) {
    if (!isJoinedKey(key) || typeof dir !== "string" || !isAbsolute(dir) || normalize(dir) !== dir) continue;
    if (!belowHierarchy(dir) || !inHierarchyOf(key, dir) || !ownedDir(dir, owner)) continue;
    out[key] = dir;
  }
  return out;
}

/** Live memory, cpu and task counts of the jail's cgroups (nulls where there is no cgroup). */
export function cgroupUsage(paths: CgroupPaths): Usage {
  const none: Usage = { memoryBytes: null, cpuSeconds: null, pids: null };
  // a v1 jail's unified leaf (no controller) says nothing about the backend that reads the rest
  const dirs = Object.entries(paths).filter(([k]) => k !== "unified").map(([, d]) => d);
  if (dirs.length === 0) return none;
  // read with the backend of the hierarchy the directories are in, whoever started the jail
  const kind = dirs.some((d) => d && existsSync(`${d}/cgroup.controllers`)) ? "v2" : "v1";
  try {
    const b = (backends[kind] ??= selectBackend({ uid: 0, prefer: kind }));
    return b.readUsage(paths);
  } catch {
    return none;
  }
}

const backends: Partial<Record<"v1" | "v2", CgroupBackend>> = {};

/** Removes cgroup directories a dead monitor left behind (only empty ones); returns those left. */
export function removeLeftoverCgroups(paths: CgroupPaths): string[] {
  const left: string[] = [];
  for (const d of [...new Set(Object.values(paths))].reverse()) {
    if (!d || !existsSync(d)) continue;
    try {
      if (!removeDir(d)) left.push(d);
    } catch {
      left.push(d);
    }
  }
  return left;
}
