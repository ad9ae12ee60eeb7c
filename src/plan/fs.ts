// The jail's file system: its root, /proc with the host-wide entries masked, a minimal /dev, /sys.
import type { MountSpec } from "../spec/types.js";
import { MountFlag as F, op, type PlanOp } from "./types.js";

/** Entries of the jail's /proc that stay read-only: writable host-wide knobs. */
export const PROC_READONLY = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"];
/** Entries of /proc hidden behind an empty file or directory: kernel memory and host internals. */
export const PROC_MASKED = [
  "/proc/kcore", "/proc/kmsg", "/proc/keys", "/proc/key-users", "/proc/timer_list", "/proc/sched_debug",
  "/proc/latency_stats", "/proc/kpagecount", "/proc/kpageflags", "/proc/kpagecgroup", "/proc/acpi",
  "/proc/scsi", "/proc/asound", "/proc/firmware",
];

/** Device nodes the built-in ruleset (FreeBSD's devfsrules_jail, ruleset 4) exposes. */
export const RULESET4_DEVICES = ["null", "zero", "full", "random", "urandom", "tty"];

/** What the fs planner needs to know about the jail root. */
export interface RootLayout {
  proc: boolean;
  dev: boolean;
  sys: boolean;
  tmp: boolean;
}

const flags = (...f: string[]) => f.join("");

/** /proc: a procfs of the jail's pid namespace, with the host-wide parts read-only or masked.
 * Security: a jail that makes child jails (NESTING) gets it plain. The kernel lets a user
 * namespace mount a procfs only where every procfs it can see is fully visible (no file covered);
 * what the masks hid (timer lists, key names of its own ids) is then readable. Writing stays
 * refused: /proc/sys and the triggers belong to host root, which no jail maps, except the
 * per-namespace files of the jail's own network stack. */
export function procOps(nesting = false): PlanOp[] {
  const ops = [op("mountFs", ["proc", "/proc", flags(F.strict, F.nosuid, F.nodev, F.noexec), ""], nesting ? "the jail's own procfs, plain (children.max)" : "the jail's own procfs")];
  if (nesting) return ops;
  // an entry this kernel lacks (sysrq-trigger without CONFIG_MAGIC_SYSRQ) has nothing to protect: skipped quietly
  for (const p of PROC_READONLY) ops.push(op("rebind", [p, flags(F.ro, F.strict, F.optional, F.recursive, F.quiet)]));
  for (const p of PROC_MASKED) ops.push(op("mask", [p]));
  return ops;
}

/** /dev: a small tmpfs holding only the allowed device nodes (bind mounts of the host's nodes),
 * a private devpts, /dev/shm and the usual symlinks. Creating nodes is useless: the tmpfs is nodev. */
export function devOps(devices: readonly string[], opts: { ttyGid?: number; shmSize?: number; mqueue: boolean }): PlanOp[] {
  const ops: PlanOp[] = [
    op("mountFs", ["tmpfs", "/dev", flags(F.strict, F.nosuid, F.nodev, F.noexec), "mode=0755,size=256k,nr_inodes=4096"], "devfs: a fresh tmpfs"),
  ];
  const dirs = new Set<string>();
  for (const d of devices) {
    if (!/^[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/.test(d) || d.split("/").some((c) => c === "." || c === "..")) continue;
    // a node in a subdirectory (dri/card0, net/tun): its directories first, in the tmpfs
    const parts = d.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = `/dev/${parts.slice(0, i).join("/")}`;
      if (!dirs.has(dir)) { dirs.add(dir); ops.push(op("mkdir", [dir, "0755"])); }
    }
    ops.push(op("bind", [`/dev/${d}`, `/dev/${d}`, flags(F.file, F.create, F.strict, F.nosuid, F.noexec, F.optional)]));
  }
  const pts = ["newinstance", "ptmxmode=0666", "mode=0620"];
  if (opts.ttyGid !== undefined) pts.push(`gid=${opts.ttyGid}`);
  ops.push(op("mountFs", ["devpts", "/dev/pts", flags(F.create, F.strict, F.nosuid, F.noexec), pts.join(",")]));
  ops.push(op("symlink", ["pts/ptmx", "/dev/ptmx"]));
  const shm = ["mode=1777", `size=${opts.shmSize ?? 64 * 1024 * 1024}`];
  ops.push(op("mountFs", ["tmpfs", "/dev/shm", flags(F.create, F.strict, F.nosuid, F.nodev), shm.join(",")]));
  if (opts.mqueue) ops.push(op("mountFs", ["mqueue", "/dev/mqueue", flags(F.create, F.strict, F.nosuid, F.nodev, F.noexec, F.optional), ""]));
  ops.push(op("symlink", ["/proc/self/fd", "/dev/fd"]));
  ops.push(op("symlink", ["/proc/self/fd/0", "/dev/stdin"]));
  ops.push(op("symlink", ["/proc/self/fd/1", "/dev/stdout"]));
  ops.push(op("symlink", ["/proc/self/fd/2", "/dev/stderr"]));
  return ops;
}

/** /sys: a read-only sysfs of the jail's own network namespace (absent when the jail shares the
 * host's network stack). */
export function sysOps(ownNetns: boolean): PlanOp[] {
  if (!ownNetns) return [];
  return [op("mountFs", ["sysfs", "/sys", flags(F.ro, F.strict, F.nosuid, F.nodev, F.noexec, F.optional), ""], "read-only sysfs")];
}

/** Mount options that are mount attributes rather than filesystem options. */
const ATTR_OPTIONS: Record<string, string> = { noexec: F.noexec, nosuid: F.nosuid, nodev: F.nodev, ro: F.ro, rdonly: F.ro };
/** Options that change nothing here: atime policy and sync flags (the host's defaults apply), and
 * the relaxations of nosuid and nodev, which every extra mount keeps. */
const IGNORED_OPTIONS = new Set(["rw", "exec", "suid", "dev", "atime", "noatime", "relatime", "strictatime", "nodiratime", "diratime", "async", "sync", "lazytime", "nolazytime", "bind", "rbind"]);

/** Extra mounts from the spec (jail.conf mount lines, library mounts): nullfs-style binds of host
 * directories (recursive, read-only with `ro`), tmpfs and procfs. Every one is nosuid and nodev;
 * noexec and ro are mount attributes; key=value options (size=, mode=, ...) go to the filesystem. */
export function extraMountOps(mounts: readonly MountSpec[]): PlanOp[] {
  return mounts.map((m) => {
    const attrs = new Set<string>([F.create, F.nosuid, F.nodev]);
    if (m.readonly) attrs.add(F.ro);
    const fsOpts: string[] = [];
    for (const o of m.options) {
      if (ATTR_OPTIONS[o]) attrs.add(ATTR_OPTIONS[o]!);
      else if (!IGNORED_OPTIONS.has(o)) fsOpts.push(o);
    }
    if (m.type === "bind") return op("bind", [m.source, m.target, flags(...attrs, F.recursive)], "shared mount");
    if (m.type === "proc") return op("mountFs", ["proc", m.target, flags(...attrs, F.noexec), fsOpts.join(",")]);
    return op("mountFs", ["tmpfs", m.target, flags(...attrs), fsOpts.join(",")]);
  });
}
