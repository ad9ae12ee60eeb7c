// Reading the host's /proc: process identity (pid + start time), ancestry, namespaces, and the
// processes a test started (found by the unique token every run puts in its environment).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { waitUntil } from "./wait.js";

/** Environment variable every CLI run by the helpers carries: its value is unique per run, so a
 * test can find (and only ever kill) the processes it started, wherever they went. */
export const TOKEN_VAR = "SYSJAIL_TEST_TOKEN";

/** A process identity that survives pid reuse. */
export interface ProcId {
  pid: number;
  start: number;
}

function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Start time (field 22 of /proc/PID/stat) of a live process, undefined when gone. */
export function procStart(pid: number): number | undefined {
  const f = statFields(pid);
  const v = f ? Number(f[19]) : NaN;
  return Number.isFinite(v) ? v : undefined;
}

/** Process state letter (R, S, Z, ...), undefined when gone. */
export function procState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** Parent pid, undefined when gone. */
export function procPpid(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[1]) : undefined;
}

/** The identity of a live process (throws when it is gone). */
export function procId(pid: number): ProcId {
  const start = procStart(pid);
  if (start === undefined) throw new Error(`process ${pid} is gone`);
  return { pid, start };
}

/** True while the very process (same pid and start time) exists and is not a zombie. */
export function isRunning(p: ProcId): boolean {
  return procStart(p.pid) === p.start && procState(p.pid) !== "Z";
}

/** A line of /proc/PID/status ("Uid", "NSpid", ...), undefined when gone or absent. */
export function procStatus(pid: number, key: string): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${key}:`));
    return line?.slice(key.length + 1).trim();
  } catch {
    return undefined;
  }
}

/** The command name of a process. */
export function procComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Every pid on the host (a snapshot). */
export function allPids(): number[] {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Direct children of PID (a snapshot). */
export function procChildren(pid: number): number[] {
  return allPids().filter((p) => procPpid(p) === pid);
}

/** Every descendant of PID (a snapshot, breadth first). */
export function procDescendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const p of allPids()) {
    const pp = procPpid(p);
    if (pp === undefined) continue;
    byParent.set(pp, [...(byParent.get(pp) ?? []), p]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of byParent.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** True when PID's environment holds TOKEN_VAR=token. */
export function hasToken(pid: number, token: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`${TOKEN_VAR}=${token}`);
  } catch {
    return false;
  }
}

/** Live (non-zombie) processes carrying the token: what a run left behind. */
export function tokenProcesses(token: string): number[] {
  return allPids().filter((p) => p !== process.pid && hasToken(p, token) && procState(p) !== "Z");
}

/** SIGKILLs the processes carrying the token (each re-checked right before the signal, so a
 * reused pid is never hit). Returns how many were signalled. */
export function killTokenProcesses(token: string): number {
  let n = 0;
  for (const pid of tokenProcesses(token)) {
    if (!hasToken(pid, token)) continue;
    try {
      process.kill(pid, "SIGKILL");
      n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

/** SIGKILLs a process only if it is still the very one identified (pid and start time). */
export function killIfSame(p: ProcId, signal: NodeJS.Signals = "SIGKILL"): boolean {
  if (procStart(p.pid) !== p.start) return false;
  try {
    process.kill(p.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The test runner's namespace links ("pid:[4026531836]"), passed to the probe's guard. */
export function hostNs(): { pid: string; user: string; net: string; ipc: string; uts: string } {
  const l = (n: string) => readlinkSync(`/proc/self/ns/${n}`);
  return { pid: l("pid"), user: l("user"), net: l("net"), ipc: l("ipc"), uts: l("uts") };
}

/** The mappings of sysjail-reaper process PID once it has unmapped the kernel's stack and vDSO
 * (native/reaper/reaper.c), [vsyscall] left out; MAPS is the whole text, for messages. */
export async function reaperRegions(pid: number): Promise<{ regions: string[]; maps: string }> {
  const maps = await waitUntil(() => {
    const m = readFileSync(`/proc/${pid}/maps`, "utf8");
    // mid-execve the new memory map holds only the kernel's stack (no vDSO yet): wait for the
    // reaper's own image too (seen on a slow VM, docs/TESTING.md, "cgroup v2 in a VM")
    return m.includes("[vdso]") || !/ r-xp .*sysjail-reaper$/m.test(m) ? false : m;
  }, "the reaper unmapping the kernel's stack and vDSO");
  return { regions: maps.trim().split("\n").filter((l) => !l.endsWith("[vsyscall]")), maps };
}
