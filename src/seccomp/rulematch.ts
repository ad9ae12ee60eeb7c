// Which rule of a policy decided a call, from the call's number and argument registers as the
// kernel copied them into its seccomp_data (the listener's notification): the rules' conditions
// evaluated as the compiled filter evaluates them (the ABI's widths, masks, unsigned compares).
// Nothing here reads a jailed process's memory; it only names a rule for the run report.
import type { Abi } from "./abi.js";
import type { CallRule, Condition, DefaultRule, Rule } from "./types.js";
import type { NormCondition } from "./dag.js";
import { normalize } from "./validate.js";

function holds(c: NormCondition, args: readonly bigint[]): boolean {
  if ("and" in c) return c.and.every((x) => holds(x, args));
  if ("or" in c) return c.or.some((x) => holds(x, args));
  if ("not" in c) return !holds(c.not, args);
  const full = (1n << BigInt(c.width)) - 1n;
  const a = BigInt.asUintN(64, args[c.arg] ?? 0n) & full & c.mask;
  switch (c.op) {
    case "==": return a === c.value;
    case "!=": return a !== c.value;
    case "<": return a < c.value;
    case "<=": return a <= c.value;
    case ">": return a > c.value;
    case ">=": return a >= c.value;
  }
  return false;
}

/** True when CONDITION holds for a call of `call` on `abi` with these argument registers. */
export function conditionHolds(cond: Condition, call: string, abi: Abi, args: readonly bigint[]): boolean {
  return holds(normalize(cond, call, abi), args);
}

/** The rule that decides a call: the last call rule naming it whose condition holds on ARGS,
 * else the last default rule (undefined: the compiler's own default, ENOSYS). */
export function decidingRule(rules: readonly Rule[], call: string, abi: Abi, args: readonly bigint[]): CallRule | DefaultRule | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    if (r.kind === "call" && r.call === call && (!r.when || conditionHolds(r.when, call, abi, args))) return r;
  }
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    if (r.kind === "default") return r;
  }
  return undefined;
}
