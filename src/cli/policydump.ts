// sysjail --policy-dump: the compiled system-call filter, disassembled for audits.
import { dumpJailFilter } from "../seccomp/index.js";
import type { JailSpec } from "../spec/types.js";

/** The readable dump of a spec's compiled policy. */
export function dumpPolicy(spec: JailSpec): string {
  return dumpJailFilter(spec.policy);
}
