// HOME for a container's process whose environment has none, as runc gives it.
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JailRoot } from "../host/jailfile.js";
import { lookupUser } from "../host/users.js";
import { checkRootDir } from "./rootdir.js";

/** Adds HOME to ENV when it has none: UID's home in the container's /etc/passwd (read confined
 * to ROOT, every byte the image's: src/host/users.ts), "/" when the image has no such user; an
 * unusable database (a link, a FIFO, a malformed line) gives "/" and a warning naming it.
 * MEMO: a --root (the caller's, checked) where the answers of confined reads are kept (homeMemo). */
export function addHome(env: Record<string, string>, uid: number, root: JailRoot, warn: (m: string) => void, memo?: string): void {
  if (Object.hasOwn(env, "HOME")) return;
  env.HOME = "/";
  if (!(Number.isInteger(uid) && uid >= 0 && uid <= 65535) || noPasswd(root)) return;
  const kept = memo !== undefined && "dir" in root ? homeMemo(memo, root.dir, uid) : undefined;
  if (kept?.home !== undefined) {
    env.HOME = kept.home;
    return;
  }
  try {
    env.HOME = lookupUser(String(uid), root)?.home ?? "/";
    kept?.save(env.HOME);
  } catch (e) {
    warn(`HOME left at "/": ${(e instanceof Error ? e.message : String(e)).replace(/^sysjail: /, "")}`);
  }
}

/** The identity of DIR/etc/passwd as lstat gives it (device, inode, size, modification and
 * change times), or undefined when etc is not a directory or passwd not a regular file. */
function passwdIdentity(dir: string): { dev: number; ino: number; id: string } | undefined {
  const etc = lstatSync(`${dir}/etc`, { throwIfNoEntry: false });
  if (!etc?.isDirectory()) return undefined;
  const pw = lstatSync(`${dir}/etc/passwd`, { throwIfNoEntry: false });
  if (!pw?.isFile()) return undefined;
  return { dev: pw.dev, ino: pw.ino, id: `${pw.dev} ${pw.ino} ${pw.size} ${pw.mtimeMs} ${pw.ctimeMs}` };
}

/** The HOME a confined read of the image DIR's /etc/passwd gave for UID before, while that file
 * is the one it read then (the same identity), and how to keep a new answer. Why: the confined
 * read runs the helper (node:child_process and a process, about 17 ms of every create of an
 * image with a passwd file and no HOME in config.json, which is most). Security: nothing of the
 * image is read here; each answer kept came from a confined read (src/host/users.ts), and is
 * kept only when the file's identity was the same before and after it, under the caller's
 * --root (checked: root's or the caller's, writable by no one else; never made here), as the
 * seccomp policy files are. The identity only decides whether to read again: a file changed
 * since (any write changes its change time) or a path that is no longer a directory and a
 * regular file is read confined again, and whatever an identity matches, the value is one the
 * image's own file gave, never anything of the host's. Every failure: no memo, the read decides. */
function homeMemo(root: string, dir: string, uid: number): { home?: string; save: (home: string) => void } | undefined {
  try {
    if (!checkRootDir(root)) return undefined;
    const before = passwdIdentity(dir);
    if (!before) return undefined;
    const file = join(root, "home", `${uid}.${before.dev}.${before.ino}`);
    const save = (home: string) => {
      try {
        if (home.includes("\n") || passwdIdentity(dir)?.id !== before.id) return;
        mkdirSync(join(root, "home"), { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") return;
      }
      try {
        writeFileSync(`${file}.${process.pid}.tmp`, `${before.id}\n${home}`, { mode: 0o600 });
        renameSync(`${file}.${process.pid}.tmp`, file);
      } catch {
        /* an unwritable --root only costs time */
      }
    };
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return { save };
    }
    const nl = text.indexOf("\n");
    const home = text.slice(nl + 1);
    return nl > 0 && text.slice(0, nl) === before.id && home.startsWith("/") ? { home, save } : { save };
  } catch {
    return undefined;
  }
}

/** Whether ROOT (a directory) plainly has no /etc/passwd: its etc is a directory, not a link, and
 * holds no entry of that name. Nothing is read through this: it only spares the confined read
 * (a helper process, milliseconds on every create) when there is nothing to read. A link or
 * anything else there goes to the confined read. */
function noPasswd(root: JailRoot): boolean {
  if (!("dir" in root)) return false;
  try {
    if (!lstatSync(join(root.dir, "etc")).isDirectory()) return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT";
  }
  return lstatSync(join(root.dir, "etc", "passwd"), { throwIfNoEntry: false }) === undefined;
}
