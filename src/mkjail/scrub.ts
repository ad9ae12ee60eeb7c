// The last look at a tree before it is handed over: no device node anywhere (the jail's /dev is a
// fresh one; a node in the tree would open the host's device), mount points present.
import { chmodSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";

/** Removes character and block devices below TREE (one file system, links not followed);
 * returns how many. Makes proc, dev, sys and tmp when missing. */
export function scrubTree(tree: string): number {
  const dev = lstatSync(tree).dev;
  let removed = 0;
  const visit = (p: string) => {
    for (const name of readdirSync(p)) {
      const q = join(p, name);
      const st = lstatSync(q);
      if (st.dev !== dev) continue;
      if (st.isCharacterDevice() || st.isBlockDevice()) { unlinkSync(q); removed++; }
      else if (st.isDirectory()) visit(q);
    }
  };
  visit(tree);
  for (const d of ["proc", "dev", "sys"]) if (!lstatSync(join(tree, d), { throwIfNoEntry: false })) mkdirSync(join(tree, d), { mode: 0o755 });
  if (!lstatSync(join(tree, "tmp"), { throwIfNoEntry: false })) { mkdirSync(join(tree, "tmp")); chmodSync(join(tree, "tmp"), 0o1777); }
  return removed;
}
