// Mount points config.json needs and the image lacks, made by create on the host side before the
// jail exists (as runc makes them): a jail's root cannot create them in a tree owned by host root.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { helperPath } from "../helper/launch.js";
import { builtin } from "../helper/locate.js";
import { MountFlag as F, type PlanOp } from "../plan/types.js";

/** The targets of the container's bind and tmpfs mount ops: "d:PATH" (a directory) or "f:PATH"
 * (a file, for a bind of a file), in the format of the helper's mkdir-in-root. */
export function mountTargets(ops: PlanOp[]): string[] {
  const out: string[] = [];
  for (const o of ops) {
    if (o.op === "bind") out.push(`${String(o.args[2]).includes(F.file) ? "f" : "d"}:${String(o.args[1])}`);
    else if (o.op === "mountFs" && o.args[0] === "tmpfs") out.push(`d:${String(o.args[1])}`);
  }
  return out;
}

/** Whether TARGET ("d:PATH") may need making: a component is missing, or is a symbolic link (its
 * meaning inside the root is the helper's to find out). Only a hint: the helper decides, inside
 * the root. */
function mayBeMissing(rootPath: string, target: string): boolean {
  let at = rootPath;
  for (const c of target.slice(2).split("/").filter(Boolean)) {
    at = join(at, c);
    try {
      if (lstatSync(at).isSymbolicLink()) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/** Makes the missing mount points of OPS in the container's root ROOTPATH with the helper's
 * mkdir-in-root (openat2 RESOLVE_IN_ROOT: nothing outside the root is touched; each made entry
 * belongs to its parent directory's owner, native/src/mkroot.c). A mount point that cannot be
 * made is left to the jail, which skips that mount with a warning. Returns the targets tried. */
export function makeMountPoints(rootPath: string, ops: PlanOp[]): string[] {
  const wanted = mountTargets(ops).filter((t) => mayBeMissing(rootPath, t));
  if (!wanted.length) return [];
  builtin<typeof import("node:child_process")>("node:child_process").spawnSync(helperPath(), ["mkdir-in-root", rootPath, ...wanted], {
    stdio: ["ignore", "ignore", "ignore"], timeout: 10_000,
  });
  return wanted;
}
