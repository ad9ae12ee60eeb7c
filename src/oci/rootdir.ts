// --root and --console-socket are input: they and every directory above them must be the caller's or root's.
import { lstatSync, readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { ociError } from "./config.js";

/** The prefixes of the absolute path P, "/" first. */
function prefixes(p: string): string[] {
  const out: string[] = [];
  for (let d = p; ; d = dirname(d)) {
    out.unshift(d);
    if (d === dirname(d)) return out;
  }
}

/** Whether UID is how a user namespace shows a directory's unmapped owner (the overflow uid, in
 * a namespace that does not map every id): so a rootless engine's runtime sees /, /run and
 * /run/user, host root's. Such an ancestor is accepted when it is not writable by others (the
 * mode rule still applies); the state directory itself must be the caller's. */
function unmappedOwner(uid: number): boolean {
  try {
    if (uid !== Number(readFileSync("/proc/sys/kernel/overflowuid", "utf8"))) return false;
    return readFileSync("/proc/self/uid_map", "utf8").trim().split(/\s+/).join(" ") !== "0 0 4294967295";
  } catch {
    return false;
  }
}

/** Refuses ABS (the value VALUE of OPTION) when another user could change what it names: each
 * directory on the way must belong to root or the caller and be writable by no one else (an
 * ancestor may be sticky), a symbolic link on the way must be root's or the caller's, and what it
 * leads to is checked the same way. The last component is a directory held to the same rule,
 * not even sticky (LEAF "dir"), or a file only its owner counts for (LEAF "file"). Returns
 * false when something on the way does not exist yet (nothing to trust), true when all of it
 * exists and was checked. */
function checkTrusted(value: string, option: string, leaf: "dir" | "file", rule: string): boolean {
  const me = process.geteuid?.() ?? 0;
  const abs = resolve(value);
  const check = (path: string, st: Stats, last: boolean) => {
    const modeCounts = !st.isSymbolicLink() && !(last && leaf === "file");
    const owner = st.uid === 0 || st.uid === me || (!last && unmappedOwner(st.uid));
    const why = !owner ? `is owned by uid ${st.uid}`
      : modeCounts && (st.mode & 0o022) !== 0 && (last || (st.mode & 0o1000) === 0) ? "is writable by others" : undefined;
    if (why) throw ociError(`${option} ${value}: ${path} ${why} (${rule})`);
  };
  let link = false;
  const walk = (p: string, follow: boolean): boolean => {
    for (const d of prefixes(p)) {
      let st: Stats | undefined;
      try { st = follow ? statSync(d) : lstatSync(d); } catch { return false; } // missing: nothing to trust yet
      check(d, st, d === p);
      if (!follow && st.isSymbolicLink()) link = true;
    }
    return true;
  };
  if (!walk(abs, false)) return false;
  // no link on the way: the path is its own real path (`resolve` removed . and ..), and each
  // part of it was just found to be one only root or the caller can change. Node's realpathSync
  // (its JavaScript, compiled cold in every create) is then not needed
  if (!link) return true;
  let real: string;
  try { real = realpathSync(abs); } catch { return false; }
  return real === abs || walk(real, true);
}

/** Refuses a --root that another user could change (returns when it does not exist yet).
 * Security: `state.json` names the hooks `delete` runs and `procs` the processes `kill` signals,
 * both as the caller (root for an engine), and the seccomp programs `exec` loads are kept there.
 * So the directory and each one above it must belong to root or the caller and be writable by
 * no one else (an ancestor may be sticky, as /tmp is; the state directory itself may not: others
 * could add a container there); a symbolic link on the way must be root's or the caller's too,
 * and the directories it leads to are checked the same way. native/src/oci.c checks alike.
 * True when the whole path exists (and was checked); false when a part is missing yet. */
export function checkRootDir(root: string): boolean {
  return checkTrusted(root, "--root", "dir", "the state directory and those above it must be root's or the caller's, and writable by no one else");
}

/** Refuses a --console-socket another user could have put there or could replace. Security: the
 * container's terminal master goes to whatever listens at the path (the init connects as the
 * caller): another user's socket there would get the container's terminal, its root shell. So
 * the socket must be root's or the caller's, and each directory above it as for --root. */
export function checkConsoleSocket(path: string): void {
  void checkTrusted(path, "--console-socket", "file", "the socket and the directories above it must be root's or the caller's, and writable by no one else");
}
