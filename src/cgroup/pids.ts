// The pids controller: pids.max (the jail's init not counted against the user's number), peak and refusals.
import type { Limits } from "../spec/types.js";
import { emptyPart, stat, write, type ControllerPart } from "./controller.js";

/** Tasks of the jail that are not the user's: the helper's init (pid 1 of the jail). */
export const PIDS_OVERHEAD = 1;

/** The pids plan in `dir` (the files are the same on v1 and v2): pids.max = limit + init, pids.peak, pids.events. */
export function pidsPlan(dir: string, limits: Limits): ControllerPart {
  const part = emptyPart();
  if (limits.pids !== undefined) write(part, dir, "pids.max", limits.pids + PIDS_OVERHEAD, "process/thread limit (+1 for the jail's init)");
  // pids.peak appeared in Linux 6.1: on older kernels the helper skips it and the report falls back
  stat(part, dir, "pids.peak", "pidsPeak");
  stat(part, dir, "pids.events", "pidsEvents");
  return part;
}

/** The file with the number of tasks now. */
export const PIDS_CURRENT = "pids.current";
