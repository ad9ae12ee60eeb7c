// The names of pledge(2)'s promises and their check: cheap to import (the groups of calls each
// grants are in pledge.ts, loaded with the compiler).
import { usageError } from "../errors.js";

/** Every promise sysjail knows (OpenBSD's names; docs/PLEDGE.md says what each grants on Linux). */
export const PROMISE_NAMES = [
  "stdio", "rpath", "wpath", "cpath", "dpath", "tmppath", "fattr", "chown", "flock", "inet", "mcast", "unix", "dns",
  "route", "tty", "proc", "exec", "prot_exec", "settime", "id", "vminfo", "ps", "getpw", "sendfd", "recvfd", "audio",
  "video", "bpf", "pf", "disklabel", "drm", "vmm", "wroute", "tape", "unveil", "error",
] as const;
/** A promise name. */
export type PromiseName = (typeof PROMISE_NAMES)[number];

/** The promises a string holds (space-separated, duplicates dropped), each checked: an unknown one
 * is a usage error naming it and what is allowed. */
export function parsePromises(text: string, what = "--pledge"): PromiseName[] {
  const names = text.split(/[ \t]+/).filter(Boolean);
  if (names.length === 0) throw usageError(`${what}: no promise given (allowed: ${PROMISE_NAMES.join(" ")})`);
  for (const n of names) {
    if (!(PROMISE_NAMES as readonly string[]).includes(n)) {
      throw usageError(`${what}: unknown promise '${n.replace(/[^\x21-\x7e]/g, "?").slice(0, 40)}' (allowed: ${PROMISE_NAMES.join(" ")})`);
    }
  }
  return [...new Set(names)] as PromiseName[];
}
