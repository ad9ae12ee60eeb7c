// The source names of the jail's own filesystems (procfs, devfs, devpts, shm, mqueue, sysfs) as
// config.json names them, so a container's mountinfo reads as the engine asked ("proc", "shm").
import type { PlanOp } from "../plan/types.js";
import type { OciMount } from "./config.js";

/** A mount source this code passes on: a plain word (it goes into the helper's comma-separated
 * filesystem options as `source=NAME`, so no comma or `=` may reach it). */
const WORD = /^[A-Za-z0-9_.-]{1,64}$/;
const KERNEL_FS = new Set(["proc", "sysfs", "tmpfs", "devpts", "mqueue"]);

/** Destination -> "type source" for config.json's kernel filesystem mounts with a plain source. */
export function fsSources(mounts: OciMount[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of mounts) {
    if (!m.type || !KERNEL_FS.has(m.type) || typeof m.source !== "string" || !WORD.test(m.source)) continue;
    // the destination without trailing slashes (no regular expression: cold in every create)
    let end = m.destination.length;
    while (end > 0 && m.destination[end - 1] === "/") end--;
    const dest = m.destination.slice(0, end) || "/";
    out.set(dest, `${m.type} ${m.source}`);
  }
  return out;
}

/** The plan's own mountFs ops with the source config.json gives the same filesystem at the same place. */
export function nameSources(ops: PlanOp[], sources: Map<string, string>): PlanOp[] {
  if (!sources.size) return ops;
  return ops.map((o) => {
    if (o.op !== "mountFs") return o;
    const [type, target, flags, opts] = o.args as string[];
    const want = sources.get(String(target));
    if (!want || want.split(" ")[0] !== type || String(opts).includes("source=")) return o;
    const source = `source=${want.split(" ")[1]}`;
    return { ...o, args: [type!, target!, flags!, opts ? `${opts},${source}` : source] };
  });
}
