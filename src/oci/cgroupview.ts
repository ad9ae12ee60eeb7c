// A container's /sys/fs/cgroup on a v1 or hybrid host, as runc mounts it there: each v1 hierarchy
// (read-only, rooted at the container's own cgroup by its cgroup namespace) where the host has it,
// so programs that read their limits from v1 files (memory.limit_in_bytes, pids.max) find them.
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import type { CgroupLayout } from "../cgroup/detect.js";
import { MountFlag as F, op, type PlanOp } from "../plan/types.js";

const CG = "/sys/fs/cgroup";
const NAME = /^[A-Za-z0-9_.,=-]{1,64}$/;

/** The host's symbolic links in its cgroup root (cpu -> cpu,cpuacct): name and target. MOUNTED:
 * the paths of the hierarchies mounted there (a mount point is a directory, never a link), which
 * are not looked at (on a host without links, no lstat at all: 0.1-0.2 ms of every create). */
export function hostCgroupLinks(root: string, mounted: ReadonlySet<string> = new Set()): [string, string][] {
  const out: [string, string][] = [];
  // a name from readdir has no slash and is never . or ..: the path is the root's and the name
  const base = root.endsWith("/") ? root : `${root}/`;
  try {
    // names and lstat, not withFileTypes: Node's Dirent code would compile cold in every create
    for (const name of readdirSync(root)) {
      const path = `${base}${name}`;
      if (mounted.has(path)) continue;
      if (lstatSync(path).isSymbolicLink()) out.push([name, readlinkSync(path)]);
    }
  } catch {
    /* none */
  }
  return out;
}

/** The ops that replace the container's cgroup2 mount at /sys/fs/cgroup with runc's v1 layout:
 * a tmpfs, a directory and a read-only cgroup (v1) mount per hierarchy of LAYOUT under its root,
 * the unified hierarchy where a hybrid host has it, the host's links between them (the tmpfs
 * read-only before the mounts). Only for a container whose every hierarchy holds a cgroup of its own (a
 * cgroupsPath: src/oci/cgroups.ts joins each one) and whose cgroup namespace is rooted there: a
 * mount shows the namespace's root, never the host's tree. Each mount is optional (a warning
 * when the kernel refuses it). Other layouts (v2, none): OPS unchanged. Pure. */
export function v1CgroupView(ops: PlanOp[], layout: CgroupLayout, links: [string, string][]): PlanOp[] {
  if ((layout.mode !== "v1" && layout.mode !== "hybrid") || layout.root !== CG) return ops;
  const at = ops.findIndex((o) => o.op === "mountFs" && o.args[0] === "cgroup2" && o.args[1] === CG);
  if (at < 0) return ops;
  const ro = [F.ro, F.strict, F.nosuid, F.nodev, F.noexec, F.optional].join("");
  const view: PlanOp[] = [op("mountFs", ["tmpfs", CG, [F.strict, F.nosuid, F.nodev, F.noexec].join(""), "mode=0755,size=64k"], "cgroup v1 view: runc's tmpfs")];
  const names = new Set<string>();
  const mounts: PlanOp[] = [];
  for (const m of layout.mounts) {
    const name = m.path.startsWith(`${CG}/`) ? m.path.slice(CG.length + 1) : "";
    if (!NAME.test(name) || names.has(name) || m.mountRoot !== "/") continue;
    if (m.version === 1) {
      const named = m.controllers.filter((c) => c.startsWith("name="));
      const opts = named.length ? ["none", ...named] : m.controllers;
      if (!opts.length || !opts.every((c) => /^[a-z_]+(=[A-Za-z0-9_.-]+)?$/.test(c))) continue;
      names.add(name);
      view.push(op("mkdir", [`${CG}/${name}`, "0755"]));
      mounts.push(op("mountFs", ["cgroup", `${CG}/${name}`, ro, opts.join(",")], "a v1 hierarchy, the container's cgroup"));
    } else if (layout.mode === "hybrid") {
      names.add(name);
      view.push(op("mkdir", [`${CG}/${name}`, "0755"]));
      mounts.push(op("mountFs", ["cgroup2", `${CG}/${name}`, ro, ""], "the unified hierarchy, the container's cgroup"));
    }
  }
  for (const [name, target] of links) if (NAME.test(name) && !names.has(name) && names.has(target)) view.push(op("symlink", [target, `${CG}/${name}`]));
  // read-only before the hierarchies go on it (a rebind copies the tmpfs without what is mounted on it)
  view.push(op("rebind", [CG, [F.ro, F.strict].join("")], "cgroup v1 view: read-only"), ...mounts);
  return [...ops.slice(0, at), ...view, ...ops.slice(at + 1)];
}
