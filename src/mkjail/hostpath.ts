// Copies a host path into a tree the way the host resolves it: every symbolic link met on the way
// (merged-/usr links such as /bin -> usr/bin, /bin/sh -> dash) is made in the tree too, then the
// file itself is copied. Only for host files the caller named (nano) or the host's own layout.
import { copyFileSync, chmodSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from "node:fs";
import { dirname, join, posix } from "node:path";

const MAX_LINKS = 40;

/** Places host path P (absolute) into TREE; returns the host path of the regular file it ends at. */
export function placeHostPath(tree: string, p: string, depth = 0): string {
  if (depth > MAX_LINKS) throw new Error(`too many symbolic links at ${p}`);
  const parts = posix.normalize(p).split("/").filter((c) => c !== "");
  let cur = "/";
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(cur, parts[i]!);
    const st = lstatSync(next);
    const inTree = join(tree, next);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(next);
      if (lstatSync(inTree, { throwIfNoEntry: false }) === undefined) {
        mkdirSync(dirname(inTree), { recursive: true, mode: 0o755 });
        symlinkSync(target, inTree);
      }
      const resolved = posix.resolve(cur, target);
      return placeHostPath(tree, posix.join(resolved, ...parts.slice(i + 1)), depth + 1);
    }
    if (st.isDirectory()) {
      if (lstatSync(inTree, { throwIfNoEntry: false }) === undefined) mkdirSync(inTree, { mode: 0o755 });
      cur = next;
      continue;
    }
    if (i !== parts.length - 1) throw new Error(`${next} is not a directory`);
    if (!st.isFile()) throw new Error(`${next} is not a regular file`);
    if (lstatSync(inTree, { throwIfNoEntry: false }) === undefined) {
      copyFileSync(next, inTree);
      chmodSync(inTree, st.mode & 0o755); // no setuid or setgid bit travels into a jail tree
    }
    return next;
  }
  return cur;
}
