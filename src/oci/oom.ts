// process.oomScoreAdj: the container's pid 1 gets the value while it waits at the start gate.
import { pinProc } from "../host/pinproc.js";

/** Writes VALUE to /proc/PID/oom_score_adj of the container's own (still gated) pid 1, checked
 * against its start time through its pinned /proc directory; the command inherits nothing else, it is the same process after execve.
 * Security: the value is the caller's (config.json comes from the engine, never from the jail),
 * written with the caller's own privileges: lowering it needs CAP_SYS_RESOURCE in the initial
 * user namespace, which the kernel checks on this process, never on the jail's. A refused write
 * is a warning: the value is then reported as not applied. */
export function setOomScoreAdj(pid: number, start: number, value: number, warn: (m: string) => void): void {
  // written through /proc/PID held open and checked (src/host/pinproc.ts): never to a process
  // that took the pid of an init that ended meanwhile
  const init = pinProc(pid, start);
  if (!init) return; // gone: create reports the container's end itself
  try {
    init.write("oom_score_adj", String(value));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    if (code !== "ESRCH") warn(`process.oomScoreAdj ${value}: not applied (${code})`);
  } finally {
    init.close();
  }
}
