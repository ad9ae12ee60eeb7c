// Compiles the jail's system-call filter (src/seccomp) for the host's architecture.
import type { JailSpec } from "../spec/types.js";

/** seccomp(2) flags the helper passes with the filter. */
export const SECCOMP_FLAGS = 0;

/** The compiled filter of a spec's policy (wired to src/seccomp once it lands). */
export function buildFilter(_spec: JailSpec, _arch: string): { program: Uint8Array; flags: number } | undefined {
  return undefined;
}
