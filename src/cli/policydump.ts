// sysjail --policy-dump: the compiled system-call filter, disassembled for audits.
import type { JailSpec } from "../spec/types.js";

/** The readable dump of a spec's compiled policy. */
export function dumpPolicy(_spec: JailSpec): string {
  return "policy dump: the seccomp compiler is not wired yet\n";
}
