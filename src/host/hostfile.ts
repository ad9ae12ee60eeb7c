// Host files that jail.conf or the command line names (mount.fstab, exec.consolelog, --report): opened by the host, so never
// inside the jail's own tree, where the jail could swap them for a symlink to a host file, a FIFO
// or a file of its own choosing; and opened without following a final symlink, non-blocking,
// regular files only.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, realpathSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** An errno-style error (the callers name the file and the code). */
function refuse(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function real(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return resolve(p);
  }
}

/** True when FILE lies inside the jail tree JAILPATH, as written or with the symlinks of its
 * directories resolved (a directory of the jail's could be its symlink to a host directory); a
 * jail on "/" has the host as its tree, and nothing is refused for it. */
export function insideJailTree(file: string, jailPath: string): boolean {
  return dirInsideJailTree(dirname(resolve(file)), jailPath);
}

function checkRegular(fd: number): void {
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw refuse("ENOTREG", "not a regular file");
  }
}

/** The rest of FD, at most MAX bytes (undefined when there is more: a file that grows while it
 * is read is caught too, not only one whose size said so). */
export function readCapped(fd: number, max: number): Buffer | undefined {
  const buf = Buffer.alloc(max + 1);
  let got = 0;
  for (;;) {
    const n = readSync(fd, buf, got, max + 1 - got, null);
    if (n === 0) return buf.subarray(0, got);
    got += n;
    if (got > max) return undefined;
  }
}

/** Reads a host configuration file named by jail.conf: refused inside the jail's tree (EXDEV),
 * when a symlink (ELOOP), not a regular file (ENOTREG) or larger than MAX bytes (EFBIG). */
export function readHostConfig(file: string, jailPath: string, max = 1 << 20): string {
  if (insideJailTree(file, jailPath)) throw refuse("EXDEV", "inside the jail's tree");
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    checkRegular(fd);
    const data = readCapped(fd, max);
    if (!data) throw refuse("EFBIG", `larger than ${max} bytes`);
    return data.toString("utf8");
  } finally {
    try { closeSync(fd); } catch { /* closed by checkRegular */ }
  }
}

/** Opens a host log file named by jail.conf for appending (created 0644): refused inside the
 * jail's tree, through a final symlink, or when not a regular file. */
export function openHostLog(file: string, jailPath: string): number {
  if (insideJailTree(file, jailPath)) throw refuse("EXDEV", "inside the jail's tree");
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY, 0o644);
  checkRegular(fd);
  return fd;
}

/** Writes a host file the caller named (--report), replacing its content: refused inside the
 * jail's tree (the jail could have put a symlink to a host file there), through a final symlink,
 * or when not a regular file. */
export function writeHostFile(file: string, jailPath: string, text: string): void {
  if (insideJailTree(file, jailPath)) throw refuse("EXDEV", "inside the jail's tree");
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY, 0o644);
  try {
    checkRegular(fd);
    ftruncateSync(fd, 0);
    writeSync(fd, text);
  } finally {
    try { closeSync(fd); } catch { /* closed by checkRegular */ }
  }
}

/** True when the directory DIR lies inside the jail tree JAILPATH, as written or with its
 * symlinks resolved (a bind source there is the jail's to replace with a symlink to any host
 * directory before the next start); a jail on "/" refuses nothing. */
export function dirInsideJailTree(dir: string, jailPath: string): boolean {
  const root = real(jailPath);
  if (root === "/") return false;
  const under = (p: string, r: string) => p === r || p.startsWith(`${r}/`);
  return under(resolve(dir), resolve(jailPath)) || under(resolve(dir), root) || under(real(dir), root);
}
