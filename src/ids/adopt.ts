// adoptTree: gives a root-owned jail tree to one of sysjail's id ranges (on-disk id u -> B + u).
//
// Security reasoning. A tree made by host root (a Debian root, an image) holds files owned by
// host uid 0, setuid ones among them; a jail whose tree is owned by the base B of its id range
// sees them as its own (jail id u is host id B + u), and on the host they are owned by B + u,
// so a setuid program in the tree is setuid to an unprivileged host id. The walk uses lstat and
// lchown only (a symbolic link is changed itself, never followed), stays on the tree's file
// system (a mount below it is left alone), and visits each inode once (hard links). chown clears
// setuid and setgid bits, so a regular file's mode is put back afterwards: the bits now name ids
// of the range. Only host root runs this, on a tree no jail runs in yet (mkjail's DIR.partial,
// mode 0700, so no host user reaches a setuid file before it is shifted).
// The `ids` branch carries the full version of this file (the pool of ranges); this one takes
// the range the engine maps root jails onto today.
import { chmodSync, lchownSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { hostFacts } from "../host/facts.js";

/** Ids per range: jail ids 0..65535. */
export const RANGE_SIZE = 65536;

/** Shifts a root-owned tree's on-disk ids u -> base + u (ids beyond the range become base + 65534). */
export async function adoptTree(dir: string, opts: { base?: number; name?: string } = {}): Promise<{ base: number }> {
  const base = opts.base ?? hostFacts().subidBase;
  const top = lstatSync(dir, { bigint: false });
  if (!top.isDirectory()) throw new Error(`adoptTree: ${dir} is not a directory`);
  const dev = top.dev;
  const seen = new Set<string>();
  const shift = (id: number) => base + (id < RANGE_SIZE ? id : 65534);
  const visit = (p: string) => {
    const st = lstatSync(p);
    if (st.dev !== dev) return; // another file system mounted here: not ours to change
    const key = `${st.ino}`;
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(key)) return;
      seen.add(key);
    }
    lchownSync(p, shift(st.uid), shift(st.gid));
    if (st.isFile() && (st.mode & 0o6000) !== 0) chmodSync(p, st.mode & 0o7777);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
  };
  visit(dir);
  return { base };
}
