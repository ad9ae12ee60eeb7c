// The compiler's revision: part of any cache key for compiled filters, since the same policy
// compiles to different programs when the compiler or the default policy changes.
import { BASE, CHFLAGS, DOMAINS, HARDENING, HOSTNAME, IPC, NESTING, NO_NESTING, RAW_SOCKETS, RLIMIT } from "./default-policy.js";
import { version as tablesVersion } from "./tables/x86_64.js";
import { PROMISES } from "./pledge.js";

/** Bumped whenever a change to src/seccomp can change a compiled program for the same inputs. */
export const COMPILER_REVISION = 4;

/** A short string naming what a compiled filter depends on besides its inputs (cheap to import). */
export function compilerFingerprint(): string {
  let h = 0x811c9dc5;
  for (const t of [BASE, DOMAINS, RAW_SOCKETS, IPC, CHFLAGS, RLIMIT, HOSTNAME, NO_NESTING, NESTING, HARDENING]) {
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193) >>> 0;
  }
  const groups = JSON.stringify(PROMISES);
  for (let i = 0; i < groups.length; i++) h = Math.imul(h ^ groups.charCodeAt(i), 0x01000193) >>> 0;
  return `r${COMPILER_REVISION}-linux${tablesVersion}-${h.toString(16)}`;
}
