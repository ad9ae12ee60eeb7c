// sysjail --policy-dump: the compiled system-call filter, disassembled for audits.
import type { JailSpec } from "../spec/types.js";

/** The readable dump of a spec's compiled policy (the compiler is loaded only here). */
export async function dumpPolicy(spec: JailSpec): Promise<string> {
  const { dumpJailFilter } = await import("../seccomp/index.js");
  return dumpJailFilter(spec.policy);
}
