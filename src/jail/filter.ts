// Compiles the jail's system-call filter (src/seccomp) for the host's architecture.
import { compileJailFilter, SECCOMP_FILTER_FLAGS } from "../seccomp/index.js";
import type { JailSpec } from "../spec/types.js";

/** The compiled filter of a spec's policy, with the seccomp(2) flags the helper passes. */
export function buildFilter(spec: JailSpec, arch: string): { program: Uint8Array; flags: number } {
  const f = compileJailFilter(spec.policy, arch);
  return { program: f.program, flags: SECCOMP_FILTER_FLAGS };
}
