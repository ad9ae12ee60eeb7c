// unveil: OpenBSD's path permissions (r, w, x, c) for a jail's command or the calling process,
// checked here and turned into Landlock access rights for the kernel's ABI (src/plan/landlock.ts).
import { printable, usageError } from "../errors.js";
import type { UnveilSpec } from "./types.js";

/** Most unveiled paths one jail or process may name. */
export const MAX_UNVEIL = 64;

/** Checks PERMS: a non-empty set of r, w, x, c, each at most once. */
export function checkPerms(perms: string, what: string): string {
  if (!/^[rwxc]{1,4}$/.test(perms) || new Set(perms).size !== perms.length) {
    throw usageError(`${what}: bad permissions '${printable(perms, 200)}' (allowed: a set of r, w, x, c)`);
  }
  return perms;
}

/** Checks one path: absolute, no NUL, no "." or ".." component, at most 4096 bytes. */
export function checkUnveilPath(path: string, what: string): string {
  if (!path.startsWith("/") || path.includes("\0") || path.length > 4096 || path.split("/").some((c) => c === "." || c === "..")) {
    throw usageError(`${what}: '${printable(path, 200)}' must be an absolute path without . or .. components`);
  }
  return path.length > 1 ? path.replace(/\/+$/, "") || "/" : path;
}

/** Parses one --unveil PATH:PERMS (the last colon separates them). */
export function parseUnveilArg(arg: string, what = "--unveil"): UnveilSpec {
  const i = arg.lastIndexOf(":");
  if (i <= 0) throw usageError(`${what}: '${printable(arg, 200)}' is not PATH:PERMS (PERMS a set of r, w, x, c)`);
  return { path: checkUnveilPath(arg.slice(0, i), what), perms: checkPerms(arg.slice(i + 1), what) };
}

/** Checks a list (library `unveil: { path: perms }` or parsed arguments); at most MAX_UNVEIL. */
export function checkUnveil(list: UnveilSpec[], what = "unveil"): UnveilSpec[] {
  if (list.length > MAX_UNVEIL) throw usageError(`${what}: at most ${MAX_UNVEIL} paths, not ${list.length}`);
  return list.map((u) => ({ path: checkUnveilPath(u.path, what), perms: checkPerms(u.perms, what) }));
}
