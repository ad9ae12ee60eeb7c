// The refused calls of a run (the monitor's listener, native/src/notify.c) as the run report's
// `denials`, each with the policy text behind it (loaded only for a run that has some).
import type { CallEvent } from "../helper/events.js";
import type { Denial } from "../seccomp/listener.js";
import type { JailSpec } from "../spec/types.js";
import { vis } from "../manage/vis.js";

/** One refused call as a line for a terminal (sysjail -d, jexec -v); jail-controlled text escaped. */
export function denialLine(tool: string, d: Denial): string {
  return `${tool}: denied ${vis(d.syscall)} (${d.abi}) x${d.count}: ${d.action}; rule ${vis(d.rule || "?")}; first args ${d.args.join(" ")}\n`;
}

/** The denials among the calls a listening jail's monitor saw. */
export async function denialsFor(spec: JailSpec, calls: readonly CallEvent[]): Promise<Denial[]> {
  if (calls.length === 0) return [];
  const [{ denialsOf }, { policyRules, ruleNamingIn }, { errnoName }] = await Promise.all([import("../seccomp/listener.js"), import("../seccomp/index.js"), import("../errors.js")]);
  // the rule whose conditions hold on the first refused call's registers (the kernel's copy)
  let rules: ReturnType<typeof policyRules> | undefined;
  try { rules = policyRules(spec.policy); } catch { rules = undefined; }
  return denialsOf(calls, errnoName, (name, abi, args) => {
    try { return rules ? ruleNamingIn(rules, name, { abi, args }) : ""; } catch { return ""; }
  });
}
