// Thin jails: a tree made by `mkjail thin` gets the host's /usr bound read-only at its /usr.
//
// Security reasoning. Whether a tree is thin must not be decided from anything jail root can
// write: jail root owns the tree (its files, its xattrs in the user namespace, anything it could
// call a manifest), and a forged "bind this host directory" would hand it host files. So for a
// root caller the decision is a record outside the tree, in /var/lib/sysjail/thin (host root's,
// mode 0700), named by the tree root directory's device and inode and holding its birth time
// (an inode number reused by a later directory does not match). The record is read only when it
// is a regular file (lstat, no link followed), owned by host uid 0, writable by nobody else, and
// small. What it grants is fixed here (/usr, read-only), never taken from the record. For a
// rootless caller, jail root is the caller, who can read the host's /usr anyway: a marker file
// .sysjail-thin in the tree root, owned by the caller, is enough (nothing to gain by forging it).
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeFileSync, constants, type Stats } from "node:fs";
import { join } from "node:path";

/** Host root's records of thin trees. */
export const THIN_RECORDS = "/var/lib/sysjail/thin";
/** A rootless caller's marker in the tree root. */
export const THIN_MARK = ".sysjail-thin";
/** The host directory a thin jail shares, read-only, at the same path. */
export const THIN_SHARED = "/usr";

function recordName(st: Stats): string {
  return `${st.dev}-${st.ino}`;
}

/** Marks DIR (a finished tree, before its rename: the inode stays) as thin for the caller; PATH is where it will live. */
export function markThin(dir: string, path: string, uid = process.getuid?.() ?? 0): void {
  const st = lstatSync(dir);
  if (uid !== 0) {
    writeFileSync(join(dir, THIN_MARK), `${THIN_SHARED}\n`, { mode: 0o644 });
    return;
  }
  mkdirSync(THIN_RECORDS, { recursive: true, mode: 0o700 });
  pruneRecords(path);
  const rec = join(THIN_RECORDS, recordName(st));
  const tmp = `${rec}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ path, birth: st.birthtimeMs, shared: THIN_SHARED })}\n`, { mode: 0o600 });
  renameSync(tmp, rec);
}

/** Removes records whose tree is gone (or replaced: another inode or birth time at its path), and
 * those of BUILDING, the path a new tree is about to take. */
function pruneRecords(building: string): void {
  for (const name of readdirSync(THIN_RECORDS)) {
    const file = join(THIN_RECORDS, name);
    if (name.endsWith(".tmp")) continue; // another mkjail writing its record
    try {
      const rec = JSON.parse(readOwned(file, 0) ?? "null") as { path?: unknown; birth?: unknown } | null;
      const st = typeof rec?.path === "string" ? lstatSync(rec.path, { throwIfNoEntry: false }) : undefined;
      if (rec?.path === building) { rmSync(file, { force: true }); continue; }
      if (!st && typeof rec?.path === "string" && lstatSync(`${rec.path}.partial`, { throwIfNoEntry: false })) continue; // not renamed yet
      if (!st || recordName(st) !== name || st.birthtimeMs !== rec?.birth) rmSync(file, { force: true });
    } catch {
      rmSync(file, { force: true });
    }
  }
}

/** The record file of DIR, for a root caller (tests remove it with the tree). */
export function thinRecord(dir: string): string {
  return join(THIN_RECORDS, recordName(lstatSync(dir)));
}

/** Reads at most 4 KiB of a regular file owned by OWNER and writable by nobody else; undefined otherwise. */
function readOwned(file: string, owner: number): string | undefined {
  // a missing file (every tree that is not thin) answers without an exception (about 0.05 ms of
  // every start; one that cannot be looked at, EACCES for a user namespace's root, answers as
  // one that cannot be opened); what is read is still decided only on the opened file, below
  let fd: number;
  try {
    if (lstatSync(file, { throwIfNoEntry: false }) === undefined) return undefined;
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== owner || (st.mode & 0o022) !== 0 || st.size > 4096) return undefined;
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, 4096, 0);
    return buf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

/** Is PATH a thin tree for a caller of UID? */
export function isThin(path: string, uid: number): boolean {
  if (path === "/") return false; // the host's own root is never a thin tree (no lstat per run)
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return false;
  }
  if (!st.isDirectory() || path === "/") return false;
  if (uid !== 0) return st.uid === uid && readOwned(join(path, THIN_MARK), uid) !== undefined;
  const text = readOwned(join(THIN_RECORDS, recordName(st)), 0);
  if (text === undefined) return false;
  try {
    const rec = JSON.parse(text) as { birth?: unknown };
    return rec.birth === st.birthtimeMs;
  } catch {
    return false;
  }
}
