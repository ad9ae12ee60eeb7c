// The run report: what happened to a jail's command, which limit fired, and what it used (docs/LIMITS.md).
import { builtin } from "../helper/locate.js";
import { PIDS_OVERHEAD } from "../cgroup/pids.js";
import { parseStats, type CgroupStats } from "../cgroup/stats.js";
import type { StatMap } from "../cgroup/types.js";
import type { Limits } from "../spec/types.js";
import { formatDuration, formatSize } from "./units.js";

/** The helper's "exit" event (native/src/run.c); defined with the other helper events. */
export type { ExitEvent } from "../helper/events.js";
import type { ExitEvent } from "../helper/events.js";
import type { Denial } from "../seccomp/listener.js";

/** What buildReport needs besides the event: the limits and the plan's stat names. */
export interface ReportContext {
  limits?: Limits;
  /** cgroupStat name -> kind (LimitsPlan.stats); names that are kinds need no entry. */
  stats?: StatMap;
  /** Limit keys nothing enforced (LimitsPlan.unenforced). */
  unenforced?: string[];
  /** Limit keys an rlimit stood in for, no cgroup being available (CgroupContext.rlimited). */
  rlimited?: string[];
  /** The jail ran a command (false for a jail started without one). */
  command?: boolean;
  /** The setup error's message, used as the reason of an internal-error. */
  error?: string;
  /** Refused calls the monitor's listener saw. */
  denials?: Denial[];
}

/** How one limit was enforced (RunReport.enforcement). */
export type Enforcement = "cgroup" | "monitor" | "rlimit" | "mount" | "none";

/** Limit keys whose reaching leaves a trace the report can read when a cgroup enforces them (an
 * OOM kill, a refused fork in pids.events) but none when an rlimit stands in. */
const SILENT_WITH_RLIMIT = ["memory", "pids"];

/** How each set limit is enforced, from the plan's unenforced and rlimit-covered keys. */
export function enforcementOf(limits: Limits, unenforced: readonly string[] = [], rlimited: readonly string[] = []): Record<string, Enforcement> {
  const out: Record<string, Enforcement> = {};
  for (const [k, v] of Object.entries(limits)) {
    if (v === undefined) continue;
    if (unenforced.includes(k)) out[k] = "none";
    else if (rlimited.includes(k) || k === "openFiles" || k === "fileSize") out[k] = "rlimit";
    else if (k === "wall" || k === "cpu") out[k] = "monitor";
    else if (k === "tmpSize" || k === "shmSize") out[k] = "mount";
    else out[k] = "cgroup";
  }
  return out;
}

/** The outcome of a run, as isolate's meta file but JSON. */
export type RunStatus = "ok" | "runtime-error" | "signaled" | "timeout" | "oom" | "halted" | "internal-error";

/** The run report (the --report file and run()'s report); keys are documented in docs/LIMITS.md. */
export interface RunReport {
  status: RunStatus;
  /** One line: the limit that fired, the signal, or the exit status; null for ok. */
  reason: string | null;
  /** The command's exit code when it exited, else null. */
  exitCode: number | null;
  /** The signal that ended the command, else null. */
  signal: number | null;
  signalName: string | null;
  wallSeconds: number;
  /** CPU time of the whole jail: user, system, and their sum. */
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  cpuSeconds: number;
  /** Most memory the jail used at once (its cgroup's peak; without one, the largest process's maxrss). */
  peakMemoryBytes: number | null;
  /** Most processes and threads at once, the jail's init not counted; null when unknown. */
  peakPids: number | null;
  /** OOM kills inside the jail (null without a memory cgroup). */
  oomKills: number | null;
  /** Limits that were reached: memory (OOM kill), pids (a fork refused), cpu, wall. null when
   * none was seen to fire but one cannot be seen: memory or pids enforced by an rlimit (a
   * refused allocation or fork leaves no trace the monitor can read); `enforcement` says which. */
  limitsHit: string[] | null;
  /** How each limit that was set was enforced: "cgroup" (the kernel's controller), "monitor"
   * (the monitor's timer: wall, and cpu polled from the cgroup's counter), "rlimit" (per process,
   * the rootless stand-in, docs/LIMITS.md), "mount" (tmpfs size), or "none" (also in unenforced). */
  enforcement: Record<string, Enforcement>;
  /** "halt" or "restart" when the jail called reboot(2). */
  halt: "halt" | "restart" | null;
  /** Where the usage figures come from: the jail's cgroups, or getrusage of the reaped processes. */
  accounting: "cgroup" | "rusage";
  limits: Limits;
  unenforced: string[];
  /** Calls the policy refused, with their counts (a jail whose monitor listened: --report, -d,
   * a pledge; docs/PLEDGE.md); empty otherwise. */
  denials: Denial[];
}

// node:os, which has the signal numbers, costs about 0.4 ms to load; a report of a command that
// exited normally needs none of them, so they are loaded only when one is asked for
let signalTable: { names: Record<number, string>; nums: Record<string, number> } | undefined;
function signals(): { names: Record<number, string>; nums: Record<string, number> } {
  if (!signalTable) {
    const nums = builtin<typeof import("node:os")>("node:os").constants.signals as Record<string, number>;
    signalTable = { nums, names: Object.fromEntries(Object.entries(nums).map(([name, n]) => [n, name])) };
  }
  return signalTable;
}

/** This machine's number of signal NAME. */
const sig = (name: "SIGKILL" | "SIGXCPU" | "SIGXFSZ"): number => signals().nums[name]!;

/** The signal name for a number (9 -> "SIGKILL"), or "SIG<n>". */
export function signalName(n: number): string {
  return signals().names[n] ?? `SIG${n}`;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

const killers: Record<string, string> = {
  killed: "the jail was removed",
  terminated: "sysjail was terminated by a signal",
  "caller-gone": "the caller went away",
};

/** Usage figures from the cgroup stats, falling back to the helper's rusage. */
function usage(ev: ExitEvent, st: CgroupStats, limits: Limits) {
  const ru = { user: ev.utime ?? 0, sys: ev.stime ?? 0 };
  let user = ru.user;
  let sys = ru.sys;
  if (st.cpuUserSeconds !== undefined && st.cpuSystemSeconds !== undefined) {
    user = st.cpuUserSeconds;
    sys = st.cpuSystemSeconds;
    // the user/system split is sampled at ticks; the total (cpuacct.usage, usage_usec) is exact:
    // keep the split's proportion and the exact total, as the kernel's cputime_adjust does
    const split = user + sys;
    if (st.cpuSeconds !== undefined && split > 0) {
      user = (st.cpuSeconds * user) / split;
      sys = st.cpuSeconds - user;
    } else if (st.cpuSeconds !== undefined) {
      user = st.cpuSeconds;
      sys = 0;
    }
  } else if (st.cpuSeconds !== undefined) {
    const total = ru.user + ru.sys;
    user = total > 0 ? (st.cpuSeconds * ru.user) / total : st.cpuSeconds;
    sys = st.cpuSeconds - user;
  }
  const peakMemory = st.memPeakBytes ?? (ev.maxrssKb !== undefined && ev.maxrssKb > 0 ? ev.maxrssKb * 1024 : null);
  let peakPids: number | null = null;
  if (st.pidsPeak !== undefined) peakPids = Math.max(0, st.pidsPeak - PIDS_OVERHEAD);
  else if ((st.pidsLimitHits ?? 0) > 0 && limits.pids !== undefined) peakPids = limits.pids;
  const fromCgroup = st.memPeakBytes !== undefined || st.cpuSeconds !== undefined || st.pidsPeak !== undefined;
  return { user, sys, peakMemory, peakPids, accounting: fromCgroup ? ("cgroup" as const) : ("rusage" as const) };
}

/** Builds the run report from the helper's exit event and the jail's limits. */
export function buildReport(ev: ExitEvent, ctx: ReportContext = {}): RunReport {
  const r = reportOf(ev, ctx);
  // nothing seen to fire, but a limit that fires silently was in force: unknown, not "none"
  if (r.limitsHit?.length === 0 && Object.entries(r.enforcement).some(([k, e]) => e === "rlimit" && SILENT_WITH_RLIMIT.includes(k))) r.limitsHit = null;
  return r;
}

function reportOf(ev: ExitEvent, ctx: ReportContext): RunReport {
  const limits = ctx.limits ?? {};
  const st = parseStats(ev.stats, ctx.stats);
  const u = usage(ev, st, limits);
  const exited = ev.cmd && ev.cmdCode >= 0;
  const signaled = ev.cmd && !exited && ev.cmdSignal > 0;
  const oomKills = st.oomKills ?? null;
  const limitsHit: string[] = [];
  if ((oomKills ?? 0) > 0) limitsHit.push("memory");
  if ((st.pidsLimitHits ?? 0) > 0) limitsHit.push("pids");

  const r: RunReport = {
    status: "ok",
    reason: null,
    exitCode: exited ? ev.cmdCode : null,
    signal: signaled ? ev.cmdSignal : null,
    signalName: signaled ? signalName(ev.cmdSignal) : null,
    wallSeconds: round6(ev.wall ?? 0),
    cpuUserSeconds: round6(u.user),
    cpuSystemSeconds: round6(u.sys),
    cpuSeconds: round6(u.user + u.sys),
    peakMemoryBytes: u.peakMemory,
    peakPids: u.peakPids,
    oomKills,
    limitsHit,
    enforcement: enforcementOf(limits, ctx.unenforced, ctx.rlimited),
    halt: ev.halt ?? null,
    accounting: u.accounting,
    limits: { ...limits },
    unenforced: [...(ctx.unenforced ?? [])],
    denials: [...(ctx.denials ?? [])],
  };
  const memText = limits.memory !== undefined ? `memory limit ${formatSize(limits.memory)} reached` : "out of memory (OOM kill)";
  const set = (status: RunStatus, reason: string | null) => {
    r.status = status;
    r.reason = reason;
    return r;
  };

  if (ev.setupFailed) return set("internal-error", ctx.error ?? "the jail could not be set up");
  if (ev.reason === "wall") {
    limitsHit.push("wall");
    return set("timeout", limits.wall !== undefined ? `wall-clock limit ${formatDuration(limits.wall)} reached` : "wall-clock limit reached");
  }
  if (ev.reason === "cpu") {
    limitsHit.push("cpu");
    return set("timeout", limits.cpu !== undefined ? `cpu time limit ${formatDuration(limits.cpu)} reached` : "cpu time limit reached");
  }
  if (ev.halt) return set("halted", `the jail called reboot(2) (${ev.halt})`);
  const killer = ev.reason ? killers[ev.reason] : undefined;

  if (ev.cmd) {
    if ((oomKills ?? 0) > 0 && ((signaled && ev.cmdSignal === sig("SIGKILL")) || (exited && ev.cmdCode === 128 + sig("SIGKILL")))) {
      return set("oom", memText);
    }
    if (signaled && killer && ev.cmdSignal === sig("SIGKILL")) return set("signaled", killer);
    if (signaled && limits.cpu !== undefined && ev.cmdSignal === sig("SIGXCPU")) {
      limitsHit.push("cpu");
      return set("timeout", `cpu time limit ${formatDuration(limits.cpu)} reached (RLIMIT_CPU)`);
    }
    if (signaled && limits.fileSize !== undefined && ev.cmdSignal === sig("SIGXFSZ")) {
      limitsHit.push("fileSize");
      return set("signaled", `file size limit ${formatSize(limits.fileSize)} reached (SIGXFSZ)`);
    }
    if (exited && ev.cmdCode === 0) return set("ok", null);
    const pidsNote = limitsHit.includes("pids") && limits.pids !== undefined ? `; pids limit ${limits.pids} reached` : "";
    if (exited) return set("runtime-error", `exited with status ${ev.cmdCode}${pidsNote}`);
    if (signaled) return set("signaled", `killed by signal ${ev.cmdSignal} (${signalName(ev.cmdSignal)})${pidsNote}`);
    return set("internal-error", "the command's status could not be read");
  }
  if (killer) {
    r.signal = sig("SIGKILL");
    r.signalName = "SIGKILL";
    return set("signaled", killer);
  }
  if ((oomKills ?? 0) > 0) return set("oom", memText);
  if (ctx.command === false) {
    if ((ev.initCode ?? 0) === 0 && !ev.initSignal) return set("ok", null);
    return set("internal-error", `the jail's init ended (${ev.initSignal ? `signal ${signalName(ev.initSignal)}` : `status ${ev.initCode}`})`);
  }
  const how = ev.initSignal ? `signal ${signalName(ev.initSignal)}` : `status ${ev.initCode ?? "?"}`;
  return set("internal-error", `the jail's init ended (${how}) without the command's status`);
}
