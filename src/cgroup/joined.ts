// The v1 hierarchies a sysjail-oci container joins beyond sysjail's own controllers (cpuset,
// freezer, blkio...), and the rule for a recorded cgroup directory: below a hierarchy, never its root.
import { detectCgroups } from "./detect.js";

/** Registry keys of the other v1 hierarchies a container with a cgroupsPath is in: its
 * controllers, and "systemd" for the name=systemd hierarchy. An exec'd process joins them too. */
export const JOINED_V1 = ["cpuset", "freezer", "blkio", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc", "systemd"] as const;

const JOINED = new Set<string>(JOINED_V1);

/** The registry keys of a v1 hierarchy with CONTROLLERS (its mount options: "cpuset", "name=systemd"). */
export function joinedKeys(controllers: readonly string[]): string[] {
  return controllers.map((c) => (c.startsWith("name=") ? c.slice(5) : c)).filter((k) => JOINED.has(k));
}

/** Whether KEY is one of JOINED_V1. */
export function isJoinedKey(key: string): boolean {
  return JOINED.has(key);
}

/** Whether DIR (absolute and normal) is a cgroup below a hierarchy mounted at /sys/fs/cgroup/NAME,
 * or, when V2ROOT (the unified hierarchy is mounted at /sys/fs/cgroup itself), any directory below
 * /sys/fs/cgroup: never a hierarchy's root. */
export function belowHierarchy(dir: string, v2Root: boolean = unifiedAtRoot()): boolean {
  if (!dir.startsWith("/sys/fs/cgroup/")) return false;
  return dir.slice(15).split("/").filter(Boolean).length >= (v2Root ? 1 : 2);
}

/** Whether DIR lies in the v1 hierarchy of registry key KEY (/sys/fs/cgroup/cpu,cpuset/... for
 * "cpuset"; /sys/fs/cgroup/systemd/... for "systemd"). */
export function inHierarchyOf(key: string, dir: string): boolean {
  const top = dir.slice(15).split("/")[0] ?? "";
  return dir.startsWith("/sys/fs/cgroup/") && top.split(",").includes(key);
}

let atRoot: boolean | undefined;

/** Whether this host's cgroup2 hierarchy is mounted at /sys/fs/cgroup (a pure v2 host), from mountinfo. */
export function unifiedAtRoot(): boolean {
  return (atRoot ??= detectCgroups().v2?.path === "/sys/fs/cgroup");
}
