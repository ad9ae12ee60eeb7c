// The exit status a foreground jail gives its caller, and a one-line reason for it.
import type { ExitEvent } from "../helper/events.js";

/** Exit status of a halted jail (halt from jailed root). */
export const HALT_STATUS = 130;
/** Exit status of a restarted jail (reboot from jailed root). */
export const RESTART_STATUS = 129;

/** Maps the helper's exit report to an exit status: the command's own, 128+signal if it was
 * killed, 130/129 for halt/reboot from inside, 137 when a limit killed it, 143 on SIGTERM. */
export function exitStatus(ev: ExitEvent): number {
  if (ev.halt === "halt") return HALT_STATUS;
  if (ev.halt === "restart") return RESTART_STATUS;
  if (ev.reason === "terminated" || ev.reason === "caller-gone") return 143;
  if (ev.reason === "wall" || ev.reason === "cpu" || ev.reason === "killed") return 137;
  if (ev.cmd) {
    if (ev.cmdCode >= 0) return ev.cmdCode;
    if (ev.cmdSignal > 0) return 128 + ev.cmdSignal;
  }
  if ((ev.initSignal ?? 0) > 0) return 128 + (ev.initSignal ?? 0);
  if (ev.setupFailed) return 71;
  // the init ended with an error before its command reported (it crashed): never a success
  return !ev.cmd && (ev.initCode ?? 0) > 0 ? 70 : 0;
}
