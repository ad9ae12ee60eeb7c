// Reads what the kernel knows about a jail's processes from /proc: pid namespace, pids, usage.
import { readText } from "../cgroup/fsutil.js";
import { decodeBytes } from "./vis.js";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { openProc, type PinnedProc } from "../host/pinproc.js";
import type { ProcId } from "../host/signal.js";

/** Clock ticks per second of /proc/PID/stat times (USER_HZ: 100 on every Linux architecture). */
export const CLK_TCK = 100;

/** One process of a jail, as the host sees it and as the jail sees it. */
export interface ProcInfo {
  /** Pid in the host's (the caller's) pid namespace. */
  hostPid: number;
  /** Pid inside the jail's pid namespace (last NSpid field). */
  jailPid: number;
  /** Parent pid on the host. */
  ppid: number;
  /** Real uid as the host sees it. */
  hostUid: number;
  /** Process state letter (R, S, D, Z, ...). */
  state: string;
  /** Start time in clock ticks since boot. */
  start: number;
  /** Resident memory, bytes. */
  rssBytes: number;
  /** CPU time of the process and the children it has reaped, seconds. */
  cpuSeconds: number;
  /** Command line (argv), or [comm] for kernel-style names when argv is empty. */
  argv: string[];
}

/** A /proc file of a process as text, bytes that are not UTF-8 kept (decodeBytes): the
 * process chose them, and the tools escape them byte for byte. */
function readBytes(path: string): string | undefined {
  try {
    return decodeBytes(readFileSync(path));
  } catch {
    return undefined;
  }
}

/** The fields of /proc/PID/stat after the command name (index 0 = state). */
export function statFields(pid: number): string[] | undefined {
  const s = readText(`/proc/${pid}/stat`);
  if (!s) return undefined;
  return s.slice(s.lastIndexOf(")") + 2).trim().split(" ");
}

/** Identity of a process's pid namespace ("dev:ino" of /proc/PID/ns/pid), or undefined. */
export function pidNamespace(pid: number | "self"): string | undefined {
  try {
    const st = statSync(`/proc/${pid}/ns/pid`);
    return `${st.dev}:${st.ino}`;
  } catch {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`);
    } catch {
      return undefined;
    }
  }
}

/** The NSpid list of a process (outermost first), or undefined when it is gone. */
export function nsPids(pid: number): number[] | undefined {
  return nsPidsOf(readText(`/proc/${pid}/status`), pid);
}

/** The NSpid list in a /proc/PID/status text STATUS of process PID (outermost first). */
export function nsPidsOf(status: string | undefined, pid: number): number[] | undefined {
  if (!status) return undefined;
  const m = /^NSpid:\s*(.*)$/m.exec(status);
  if (!m) return [pid];
  return m[1]!.trim().split(/\s+/).map(Number);
}

/** True when PID is the first process (pid 1) of a pid namespace nested below the caller's (its
 * NSpid, shown from the caller's namespace down, has more than one level and ends in 1). */
export function isNamespaceInit(pid: number): boolean {
  return isInitOf(nsPids(pid));
}

/** True when an NSpid list NS is a nested pid namespace's pid 1 (see isNamespaceInit). */
export function isInitOf(ns: number[] | undefined): boolean {
  return ns !== undefined && ns.length >= 2 && ns[ns.length - 1] === 1;
}

/** True when PID is in a user namespace other than the caller's: a jail's process (every jail has
 * its own). The init of a root's sysjail-oci container in the runtime's or a joined pid namespace
 * is one without being pid 1 of a namespace. */
export function inOtherUserNs(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`) !== readlinkSync("/proc/self/ns/user");
  } catch {
    return false;
  }
}

/** inOtherUserNs for a pinned process (src/host/pinproc.ts). */
export function pinnedInOtherUserNs(p: PinnedProc): boolean {
  const own = pidNamespaceOf("/proc/self/ns/user");
  const theirs = p.ns("user");
  return own !== undefined && theirs !== undefined && own !== theirs;
}

/** A namespace link's identity as PinnedProc.ns gives it ("dev:ino", else the link's text). */
function pidNamespaceOf(link: string): string | undefined {
  try {
    const st = statSync(link);
    return `${st.dev}:${st.ino}`;
  } catch {
    try { return readlinkSync(link); } catch { return undefined; }
  }
}

/** Parent pid of a process (from /proc/PID/stat), or undefined. */
export function parentOf(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[1]) : undefined;
}

/** The pid namespace whose first process is INITPID. The init itself is not dumpable (its memory
 * belongs to the host), so a caller without CAP_SYS_PTRACE on the host learns it from a child:
 * each candidate's parent, depth and namespace are read through its own pinned /proc directory
 * (src/host/pinproc.ts), so all three are one process's. The caller checks, after this, that
 * INITPID is still the process it means (then its children are its own). */
export function jailNamespace(initPid: number): string | undefined {
  const direct = pidNamespace(initPid);
  if (direct) return direct;
  const depth = nsPids(initPid)?.length;
  for (const pid of allPids()) {
    if (pid === initPid) continue;
    const p = openProc(pid);
    if (!p) continue;
    try {
      const st = p.read("stat") ?? "";
      const ppid = Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== initPid) continue;
      const ns = p.ns("pid");
      if (ns && nsPidsOf(p.read("status"), pid)?.length === depth) return ns;
    } finally {
      p.close();
    }
  }
  return undefined;
}

/** Host pids of every process in the /proc of this pid namespace. */
export function allPids(): number[] {
  try {
    return readdirSync("/proc").filter((f) => /^\d+$/.test(f)).map(Number);
  } catch {
    return [];
  }
}

/** The pids whose pid namespace is NS (see pidNamespace). */
export function pidsInNamespace(ns: string): number[] {
  return allPids().filter((p) => pidNamespace(p) === ns);
}

/** The live processes whose pid namespace is NS, besides EXCEPT, each as the pid and start time
 * read through its own pinned /proc directory (src/host/pinproc.ts), its namespace too: what a
 * pinned signal (src/host/signal.ts) needs, never a pid alone. KEEP sees the pinned directory. */
export function namespaceMembers(ns: string, except: number, keep?: (p: PinnedProc) => boolean): ProcId[] {
  const out: ProcId[] = [];
  // never the caller's own namespace as a whole (a jail's is always below it; a container in the
  // runtime's namespace comes with KEEP, its own user namespace)
  if (!keep && ns === pidNamespace("self")) return out;
  for (const pid of allPids()) {
    if (pid === except) continue;
    const p = openProc(pid);
    if (!p) continue;
    try {
      if (p.state !== "Z" && p.state !== "X" && p.ns("pid") === ns && (!keep || keep(p))) out.push({ pid, start: p.start });
    } finally {
      p.close();
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** Everything about one process that sjls shows; undefined when it is gone. */
export function procInfo(pid: number): ProcInfo | undefined {
  const f = statFields(pid);
  const status = readText(`/proc/${pid}/status`);
  if (!f || !status) return undefined;
  const num = (i: number) => Number(f[i] ?? 0);
  const uid = /^Uid:\s*(\d+)/m.exec(status);
  const rss = /^VmRSS:\s*(\d+)\s*kB/m.exec(status);
  const ns = /^NSpid:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number) ?? [pid];
  const rawArgv = readBytes(`/proc/${pid}/cmdline`) ?? "";
  const argv = rawArgv.split("\0");
  if (argv.length && argv[argv.length - 1] === "") argv.pop();
  const comm = (readBytes(`/proc/${pid}/comm`) ?? "").replace(/\n$/, "");
  return {
    hostPid: pid,
    jailPid: ns[ns.length - 1] ?? pid,
    ppid: num(1),
    hostUid: uid ? Number(uid[1]) : -1,
    state: f[0] ?? "?",
    start: num(19),
    rssBytes: rss ? Number(rss[1]) * 1024 : 0,
    // utime, stime, cutime, cstime: what the process and its reaped children have used
    cpuSeconds: (num(11) + num(12) + num(13) + num(14)) / CLK_TCK,
    argv: argv.length ? argv : [`[${comm}]`],
  };
}

/** The live processes of the pid namespace whose init is INITPID (itself included), by jail pid. */
export function namespaceProcesses(initPid: number): ProcInfo[] {
  const ns = jailNamespace(initPid);
  const pids = new Set(ns ? pidsInNamespace(ns) : []);
  pids.add(initPid);
  const out: ProcInfo[] = [];
  for (const p of pids) {
    const info = procInfo(p);
    if (info) out.push(info);
  }
  return out.sort((a, b) => a.jailPid - b.jailPid);
}

/** Seconds since boot (/proc/uptime), for uptimes from start ticks. */
export function uptimeSeconds(): number {
  return Number((readText("/proc/uptime") ?? "0").split(" ")[0]);
}
