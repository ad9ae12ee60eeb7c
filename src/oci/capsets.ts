// process.capabilities.inheritable and ambient: masks within what the process keeps (its bounding
// set less what no jail may hold), for the helper's caps op.
import { Cap, capMask, type CapName } from "../plan/caps.js";

/** The mask of the names in LIST that KEEP holds (names that are unknown or not kept are left
 * out: processCaps has already warned about them for the bounding set). */
export function capSet(list: string[] | undefined, keep: bigint): bigint {
  const names = (list ?? []).map((c) => (c.startsWith("CAP_") ? c.slice(4) : c)).filter((n): n is CapName => n in Cap);
  return capMask(names) & keep;
}

/** The inheritable and ambient masks of a process; ambient is kept only where inheritable holds
 * it too (the kernel raises an ambient capability only if it is permitted and inheritable). */
export function inheritAmbient(caps: { inheritable?: string[]; ambient?: string[] } | undefined, keep: bigint): { inheritable: bigint; ambient: bigint } {
  const inheritable = capSet(caps?.inheritable, keep);
  return { inheritable, ambient: capSet(caps?.ambient, keep) & inheritable };
}
