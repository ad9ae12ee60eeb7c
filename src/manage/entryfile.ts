// Reading, rewriting and removing registry entry files safely, also in another user's directory.
import { closeSync, constants, fchownSync, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { jailFiles, nameFile } from "../registry/paths.js";
import type { JailEntry } from "../registry/types.js";
import { runAsOwner, shAsOwner } from "./owner.js";

/** Reads a regular file without following a symlink at its last component; undefined on any problem. */
export function readNoFollow(p: string, max = 4 << 20): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > max) return undefined;
    return readFileSync(fd, "utf8");
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The entry of jail JID in DIR as it is on disk now, or undefined. */
export function readEntry(dir: string, jid: number): JailEntry | undefined {
  const text = readNoFollow(jailFiles(dir, jid).entry);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as JailEntry;
  } catch {
    return undefined;
  }
}

/** Replaces an entry atomically: a fresh O_EXCL|O_NOFOLLOW temporary file renamed into place. In a
 * user's directory (root acting for them) the file is handed to that user, as the original was. */
export function writeEntry(dir: string, dirOwner: number, entry: JailEntry): void {
  const who = runAsOwner(dirOwner);
  if (who) {
    // another user's directory: written by that user (a symlink it planted for a directory of
    // the path then leads only where that user may write anyway), renamed into place
    const script = 'umask 077; t="$1/jails/.$2.$$.tmp"; cat >"$t" && mv -f "$t" "$1/jails/$2.json" || { rm -f "$t"; exit 1; }';
    if (shAsOwner(script, [dir, String(entry.jid)], who, JSON.stringify(entry)) !== 0) {
      throw Object.assign(new Error(`cannot write the entry of jail ${entry.jid} in ${dir} as uid ${dirOwner}`), { code: "EIO" });
    }
    return;
  }
  const { entry: file } = jailFiles(dir, entry.jid);
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, JSON.stringify(entry));
    if ((process.getuid?.() ?? 0) === 0 && dirOwner !== 0) fchownSync(fd, dirOwner, statSync(dir).gid);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/** Removes a jail's registry files (entry, reservation, and its name lock when it still names it);
 * in another user's directory as that user (DIROWNER), so its own permissions decide. */
export function removeEntryFiles(dir: string, jid: number, name: string, dirOwner = process.getuid?.() ?? 0): void {
  const who = runAsOwner(dirOwner);
  const okName = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(name);
  if (who) {
    const script = 'rm -f -- "$1/jails/$2.json" "$1/jails/$2.jid"; [ -n "$3" ] && [ ! -L "$1/names/$3" ] && [ "$(head -c 32 "$1/names/$3" 2>/dev/null)" = "$2" ] && rm -f -- "$1/names/$3"; exit 0';
    shAsOwner(script, [dir, String(jid), okName ? name : ""], who);
    return;
  }
  const f = jailFiles(dir, jid);
  rmSync(f.entry, { force: true });
  rmSync(f.reservation, { force: true });
  if (!okName) return;
  const nf = nameFile(dir, name);
  if (readNoFollow(nf)?.trim() === String(jid)) rmSync(nf, { force: true });
}
