// --pid-file: written as runc writes it, never through a symbolic link at the path.
import { closeSync, openSync, renameSync, unlinkSync, writeSync, constants as FS } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ociError } from "./config.js";

/** Writes PID into PATH: a new file beside it (O_EXCL|O_NOFOLLOW, so nothing that is there is
 * opened) renamed over PATH. Security: the directory may be a non-root user's (an engine's, a
 * test's /tmp); a symbolic link they put at PATH is replaced, never followed, so root's runtime
 * writes no file of the host the link names (fs.protected_symlinks may be off). */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.tmp`);
  let fd: number | undefined;
  let made = false;
  try {
    fd = openSync(tmp, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o644);
    made = true;
    writeSync(fd, String(pid));
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, abs);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (made) try { unlinkSync(tmp); } catch { /* renamed meanwhile */ }
    throw ociError(`--pid-file ${path}: ${(err as NodeJS.ErrnoException).code ?? "cannot be written"}`);
  }
}
