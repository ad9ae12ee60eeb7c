// HOME for a container's process whose environment has none, as runc gives it.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { JailRoot } from "../host/jailfile.js";
import { lookupUser } from "../host/users.js";

/** Adds HOME to ENV when it has none: UID's home in the container's /etc/passwd (read confined
 * to ROOT, every byte the image's: src/host/users.ts), "/" when the image has no such user; an
 * unusable database (a link, a FIFO, a malformed line) gives "/" and a warning naming it. */
export function addHome(env: Record<string, string>, uid: number, root: JailRoot, warn: (m: string) => void): void {
  if (Object.hasOwn(env, "HOME")) return;
  env.HOME = "/";
  if (!(Number.isInteger(uid) && uid >= 0 && uid <= 65535) || noPasswd(root)) return;
  try {
    env.HOME = lookupUser(String(uid), root)?.home ?? "/";
  } catch (e) {
    warn(`HOME left at "/": ${(e instanceof Error ? e.message : String(e)).replace(/^sysjail: /, "")}`);
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
