// The monitor's last duty, done by its caller when the monitor was killed: a jail's monitor
// removes the jail's cgroups and registry files when the jail ends, but a monitor ended by
// SIGKILL (under a native front, SIGKILL to `sysjail` itself) cannot. Its jail dies with it (the
// init's parent-death signal); the caller, still running, then removes what the plan made.
import { readFileSync, rmdirSync, rmSync } from "node:fs";
import type { Plan } from "../plan/types.js";

/** A process's start time, or undefined when it is gone or a zombie. */
function liveStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** True while the process recorded as PID with START is alive (not a zombie). */
export function runningAs(pid: number, start: number | undefined): boolean {
  const s = liveStart(pid);
  return s !== undefined && (start === undefined || s === start);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Removes a jail's cgroups and registry files after its monitor died without doing so: only
 * once the monitor is gone and the init has ended (it is killed with the monitor), so nothing
 * is removed under a jail that still runs. Resolves false when it could not be sure and did
 * nothing (the registry prunes such an entry later, as for any dead jail). */
export async function cleanUpAfterMonitor(plan: Plan, monitor: { pid: number; start?: number }, init: { pid: number; start: number }): Promise<boolean> {
  for (let i = 0; i < 100 && (runningAs(monitor.pid, monitor.start) || runningAs(init.pid, init.start)); i++) await sleep(20);
  if (runningAs(monitor.pid, monitor.start) || runningAs(init.pid, init.start)) return false;
  const dirs = plan.ops.filter((o) => o.op === "cgroupMkdir").map((o) => String(o.args[0]));
  for (const dir of dirs.reverse()) {
    // the last processes may still be leaving the cgroup: EBUSY for a moment
    for (let tries = 0; tries < 50; tries++) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EBUSY") break;
        await sleep(10);
      }
    }
  }
  // the registry files last, the id reservation (listed last) very last, as the monitor does
  for (const op of plan.ops) if (op.op === "stateFile") rmSync(String(op.args[0]), { force: true });
  return true;
}
