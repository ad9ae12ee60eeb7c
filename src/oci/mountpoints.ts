// Mount points config.json needs and the image lacks, made on the host side by the jail's monitor
// before its clone (as runc makes them): a jail's root cannot create them in a tree of host root's.
import { lstatSync } from "node:fs";
import { join, normalize } from "node:path";
import { MountFlag as F, op, type PlanOp } from "../plan/types.js";

/** Whether O mounts the jail's own /proc, /dev or /sys (their mount points, which an image
 * FROM scratch lacks, are made as the engine's mounts' are). */
export function isKernelFsMount(o: PlanOp): boolean {
  return o.op === "mountFs" && (o.args[1] === "/proc" || o.args[1] === "/dev" || o.args[1] === "/sys");
}

/** The targets of the container's bind and tmpfs mount ops: "d:PATH" (a directory) or "f:PATH"
 * (a file, for a bind of a file), in the format of the helper's mkdir-in-root. */
export function mountTargets(ops: PlanOp[]): string[] {
  const out: string[] = [];
  for (const o of ops) {
    // under /dev: the jail's own devfs (a tmpfs of its own, made in the jail) holds the target
    if (String(o.args[1]).startsWith("/dev/")) continue;
    if (o.op === "bind") out.push(`${String(o.args[2]).includes(F.file) ? "f" : "d"}:${String(o.args[1])}`);
    else if (o.op === "mountFs" && (o.args[0] === "tmpfs" || isKernelFsMount(o))) out.push(`d:${String(o.args[1])}`);
  }
  return out;
}

/** Whether TARGET ("d:PATH") may need making: a component is missing, or is a symbolic link (its
 * meaning inside the root is the helper's to find out). Only a hint: the helper decides, inside
 * the root. */
function mayBeMissing(root: string, target: string, seen: Map<string, boolean>): boolean {
  let at = root;
  for (const c of target.slice(2).split("/").filter(Boolean)) {
    // ROOT is normalized without a trailing slash (mountPointsOp): a plain name is joined by
    // string, as join would give it (0.1 ms of path calls a create otherwise); . and .. by join
    at = c === "." || c === ".." ? join(at, c) : `${at === "/" ? "" : at}/${c}`;
    // the targets share their first directories (/etc, /run): each path looked at once
    let hint = seen.get(at);
    if (hint === undefined) {
      try {
        hint = lstatSync(at).isSymbolicLink();
      } catch {
        hint = true;
      }
      seen.set(at, hint);
    }
    if (hint) return true;
  }
  return false;
}

/** The plan op that makes the missing mount points of OPS in the container's root ROOTPATH, or
 * none when every target is there: the monitor runs it before its clone, as the helper's
 * mkdir-in-root does (openat2 RESOLVE_IN_ROOT: nothing outside the root is touched; each made
 * entry belongs to its parent directory's owner, native/src/mkroot.c). A mount point that cannot
 * be made is left to the jail, which skips that mount with a warning. Pure but for the lstat hints. */
export function mountPointsOp(rootPath: string, ops: PlanOp[]): PlanOp | undefined {
  const n = normalize(rootPath);
  const root = n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
  const seen = new Map<string, boolean>();
  const wanted = mountTargets(ops).filter((t) => mayBeMissing(root, t, seen));
  return wanted.length ? op("mountPoints", [rootPath, ...wanted], "mount points the image lacks, made inside its root") : undefined;
}
