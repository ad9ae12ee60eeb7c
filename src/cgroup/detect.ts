// Detects the cgroup layout: unified v2, v1 hierarchies, or hybrid (both), and where each controller is.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** One cgroup mount from mountinfo. */
export interface CgroupMount {
  /** Mount point. */
  path: string;
  version: 1 | 2;
  /** v1: the controllers bound to it (and "name=..." for named hierarchies); v2: cgroup.controllers. */
  controllers: string[];
  /** The cgroup of the mount's root inside the hierarchy ("/" unless a namespace or bind). */
  mountRoot: string;
}

/** The cgroup layout of this machine (or of a test tree). */
export interface CgroupLayout {
  /** v2: only a unified tree; v1: only v1 hierarchies; hybrid: both; none: no cgroup file system. */
  mode: "v2" | "v1" | "hybrid" | "none";
  /** The directory searched (normally /sys/fs/cgroup). */
  root: string;
  /** v1 controller -> its hierarchy's mount point. */
  v1: Record<string, string>;
  /** The unified (v2) mount and the controllers it offers, if there is one. */
  v2?: { path: string; controllers: string[] };
  /** This process's cgroup per v1 controller, and under "" its v2 cgroup (from /proc/self/cgroup). */
  self: Record<string, string>;
  mounts: CgroupMount[];
}

/** Undoes mountinfo's octal escapes (\040 for a space). */
function unescapeMount(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup and cgroup2 mounts of a mountinfo text. */
export function parseMountinfo(text: string): { path: string; version: 1 | 2; options: string[]; mountRoot: string }[] {
  const out: { path: string; version: 1 | 2; options: string[]; mountRoot: string }[] = [];
  for (const line of text.split("\n")) {
    // the filesystem type follows " - " (a space in a field is \040): most lines are not cgroups
    if (!line.includes(" - cgroup")) continue;
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(" ");
    const right = line.slice(dash + 3).split(" ");
    const fstype = right[0];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    out.push({
      path: unescapeMount(left[4] ?? ""),
      version: fstype === "cgroup2" ? 2 : 1,
      options: (right[2] ?? "").split(","),
      mountRoot: unescapeMount(left[3] ?? "/"),
    });
  }
  return out;
}

/** /proc/self/cgroup as controller -> path ("" for the v2 line "0::/path"). */
export function parseSelfCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, , ctrls = "", path = "/"] = m;
    if (ctrls === "") out[""] = path;
    for (const c of ctrls.split(",")) if (c) out[c] = path;
  }
  return out;
}

/** The v1 controllers mount options name ("rw,relatime,cpu,cpuacct" -> cpu, cpuacct). */
const V1_CONTROLLERS = new Set([
  "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio",
  "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc",
]);

/** The controllers a unified mount offers (its cgroup.controllers). */
function v2Controllers(dir: string): string[] {
  try {
    return readFileSync(join(dir, "cgroup.controllers"), "utf8").split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** Finds cgroup mounts by looking at a directory tree (tests, or no mountinfo): v2 has cgroup.controllers, v1 has tasks. */
function scanTree(root: string): CgroupMount[] {
  if (existsSync(join(root, "cgroup.controllers"))) {
    return [{ path: root, version: 2, controllers: v2Controllers(root), mountRoot: "/" }];
  }
  const out: CgroupMount[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const dir = join(root, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
    } catch {
      continue;
    }
    if (existsSync(join(dir, "cgroup.controllers"))) {
      out.push({ path: dir, version: 2, controllers: v2Controllers(dir), mountRoot: "/" });
    } else if (existsSync(join(dir, "tasks"))) {
      const ctrls = name.split(",").filter((c) => V1_CONTROLLERS.has(c));
      out.push({ path: dir, version: 1, controllers: ctrls.length ? ctrls : [`name=${name}`], mountRoot: "/" });
    }
  }
  return out;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

/** Detects the cgroup layout under `root` from mountinfo (read from /proc/self unless given), else by scanning the tree. */
export function detectCgroups(root = "/sys/fs/cgroup", mountinfoText?: string, selfCgroupText?: string): CgroupLayout {
  const text = mountinfoText ?? readOr("/proc/self/mountinfo", "");
  const under = (p: string) => p === root || p.startsWith(root.endsWith("/") ? root : root + "/");
  let mounts: CgroupMount[] = parseMountinfo(text)
    .filter((m) => under(m.path))
    .map((m) => ({
      path: m.path,
      version: m.version,
      controllers: m.version === 2 ? v2Controllers(m.path) : m.options.filter((o) => V1_CONTROLLERS.has(o) || o.startsWith("name=")),
      mountRoot: m.mountRoot,
    }));
  if (mounts.length === 0 && mountinfoText === undefined) mounts = scanTree(root);
  const v1: Record<string, string> = {};
  let v2: CgroupLayout["v2"];
  for (const m of mounts) {
    if (m.version === 2) {
      if (!v2 || m.path === root) v2 = { path: m.path, controllers: m.controllers };
    } else {
      for (const c of m.controllers) if (!(c in v1)) v1[c] = m.path;
    }
  }
  const hasV1 = mounts.some((m) => m.version === 1);
  const mode = v2 && hasV1 ? "hybrid" : v2 ? "v2" : hasV1 ? "v1" : "none";
  const self = parseSelfCgroup(selfCgroupText ?? readOr("/proc/self/cgroup", ""));
  const layout: CgroupLayout = { mode, root, v1, self, mounts };
  if (v2) layout.v2 = v2;
  return layout;
}
