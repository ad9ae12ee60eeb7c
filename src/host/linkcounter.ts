// A counter kept as a symbolic link whose target is the number ("next -> 7"): replacing it is
// symlink + rename, atomic for readers, and a rename over a link makes the file system flush no
// data. The counters are hints (where to start looking): a failed write is dropped.
import { readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from "node:fs";

/** The counter in FILE: its link's target, or with regularToo a regular file's text (an older
 * layout); 0 when missing, unreadable or not a whole number >= 0. */
export function readLinkCounter(file: string, regularToo = false): number {
  let text: string;
  try {
    text = readlinkSync(file);
  } catch (err) {
    if (!regularToo || (err as NodeJS.ErrnoException).code !== "EINVAL") return 0;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return 0;
    }
  }
  const n = Number(text.trim());
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** Sets the counter in FILE to N (when keep(), asked once the new link is ready, says so);
 * never throws. */
export function writeLinkCounter(file: string, n: number, keep: () => boolean = () => true): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    try {
      symlinkSync(String(n), tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      unlinkSync(tmp); // left by a process that had this pid
      symlinkSync(String(n), tmp);
    }
    if (keep()) renameSync(tmp, file);
    else rmSync(tmp, { force: true });
  } catch {
    rmSync(tmp, { force: true }); // only a hint
  }
}
