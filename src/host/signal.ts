// Signals to a jail's or a container's processes from Node, pinned by the helper's pidfd
// (`sysjail-helper signal`, native/src/signal.c). Node has no pidfd: its process.kill(pid)
// names whatever process holds the pid at that moment, and the one meant may have ended and its
// pid gone to a stranger's process. No signal of ours goes by pid alone: each names the process
// by pid and start time, and the helper checks the start time after it opened a pidfd.
import { errnoName } from "../errors.js";
import { helperPath } from "../helper/launch.js";
import { builtin } from "../helper/locate.js";

/** A process as pid and start time (clock ticks since boot, /proc/PID/stat field 22). */
export interface ProcId { pid: number; start: number }

/** What one pinned signal came to: sent; ESRCH: not the process meant (ended, a zombie, or its
 * pid now another's); else the kernel's refusal (an errno name). */
export type SignalOutcome = { sent: true } | { sent: false; code: string };

/** SIG to each of TARGETS that is still the process it names (one run of the helper); the
 * outcomes in the same order. */
export function signalEach(targets: readonly ProcId[], sig: number): SignalOutcome[] {
  const ok = targets.filter((t) => Number.isInteger(t.pid) && t.pid > 0 && Number.isInteger(t.start) && t.start >= 0);
  const out = new Map<ProcId, SignalOutcome>();
  if (ok.length) {
    const r = builtin<typeof import("node:child_process")>("node:child_process").spawnSync(helperPath(), ["signal", String(sig), ...ok.flatMap((t) => [String(t.pid), String(t.start)])], {
      stdio: ["ignore", "pipe", "ignore"], timeout: 10_000,
    });
    const lines = (r.stdout ?? Buffer.alloc(0)).toString("latin1").split("\n");
    ok.forEach((t, i) => {
      const line = lines[i] ?? "";
      const m = /^err (\d+)$/.exec(line);
      out.set(t, line === "sent" ? { sent: true } : line === "gone" ? { sent: false, code: "ESRCH" } : m ? { sent: false, code: errnoName(Number(m[1])) } : { sent: false, code: r.error || r.signal ? "ETIMEDOUT" : "EPROTO" });
    });
  }
  return targets.map((t) => out.get(t) ?? { sent: false, code: "ESRCH" });
}

/** SIG to PID only if it is still the process that started at START (not a zombie). */
export function signalPinned(pid: number, start: number, sig: number): SignalOutcome {
  return signalEach([{ pid, start }], sig)[0]!;
}
