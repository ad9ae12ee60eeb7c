// Hierarchical jails (children.max): a parent jail's registry of child jails is a host directory,
// <state>.nest/<jid>, owned by the jail's root and bound at /run/sysjail inside it, where jail(8)
// run by that root keeps its state. The host reads it as a foreign registry (src/manage/nested.ts).
// <state>.nest is mode 0711 (the jail's init, in the jail's user namespace, must reach its own
// directory to bind it; it cannot list the others, each 0700 and owned by its jail's root).
import { chownSync, lstatSync, mkdirSync, rmdirSync, rmSync } from "node:fs";
import { runAsOwner, shAsOwner } from "../manage/owner.js";
import { dirname } from "node:path";

import { nestDir } from "./nestpath.js";

/** Makes a parent jail's child registry, owned by the jail's root (host ids UID:GID), mode 0700. */
export function makeNestDir(stateDir: string, jid: number, uid: number, gid: number): string {
  const d = nestDir(stateDir, jid);
  removeTree(d); // a dead jail's leftovers with the same jid
  mkdirSync(dirname(d), { recursive: true, mode: 0o711 });
  mkdirSync(d, { mode: 0o700 });
  chownSync(d, uid, gid);
  return d;
}

/** Removes a parent jail's child registry once the jail is gone (its children went with it: their
 * pid namespaces are inside the parent's). */
export function removeNestDir(stateDir: string, jid: number): void {
  removeTree(nestDir(stateDir, jid));
}

/** Removes a child registry. Security: its contents are the jail root's, so they are removed as
 * that user (its own permissions decide; a symlink or a directory swapped in during the removal
 * leads nowhere it could not write itself); root then removes the emptied directory, whose entry
 * is in root's <state>.nest, with rmdir, which follows nothing. */
function removeTree(d: string): void {
  let st;
  try {
    st = lstatSync(d);
  } catch {
    return;
  }
  if (!st.isDirectory()) {
    rmSync(d, { force: true });
    return;
  }
  const who = runAsOwner(st.uid);
  if (who) shAsOwner('rm -rf -- "$1"/* "$1"/.[!.]* "$1"/..?* 2>/dev/null; exit 0', [d], who);
  else rmSync(d, { recursive: true, force: true }); // the caller's own directory
  try {
    rmdirSync(d);
  } catch {
    /* not empty: something was put back in meanwhile; left for the next jail with this jid */
  }
}
