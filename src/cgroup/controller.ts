// What one controller contributes to a jail's cgroup plan, and helpers to build it.
import { op, type PlanOp } from "../plan/types.js";
import type { LimitKey, StatKind, StatMap } from "./types.js";

/** One controller's share of a plan: writes and stats in its directory, and what it could not do. */
export interface ControllerPart {
  ops: PlanOp[];
  stats: StatMap;
  unenforced: LimitKey[];
  notes: string[];
}

/** An empty part to fill. */
export function emptyPart(): ControllerPart {
  return { ops: [], stats: {}, unenforced: [], notes: [] };
}

/** Adds a cgroupWrite of `value` to `dir/file`. */
export function write(part: ControllerPart, dir: string, file: string, value: string | number | bigint, note?: string): void {
  part.ops.push(op("cgroupWrite", [`${dir}/${file}`, value], note));
}

/** Adds a cgroupStat of `dir/file`, reported under the kind's name. */
export function stat(part: ControllerPart, dir: string, file: string, kind: StatKind): void {
  part.ops.push(op("cgroupStat", [kind, `${dir}/${file}`]));
  part.stats[kind] = kind;
}

/** Merges parts into one (ops in order). */
export function mergeParts(parts: ControllerPart[]): ControllerPart {
  const out = emptyPart();
  for (const p of parts) {
    out.ops.push(...p.ops);
    Object.assign(out.stats, p.stats);
    for (const k of p.unenforced) if (!out.unenforced.includes(k)) out.unenforced.push(k);
    out.notes.push(...p.notes);
  }
  return out;
}
