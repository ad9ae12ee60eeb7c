// Test helpers: an independent reference evaluator of rules (what the filter should answer),
// and small utilities shared by the seccomp tests.
import { ABIS, AUDIT_ARCH, X32_BIT, machineFor, type Abi } from "../../src/seccomp/abi.js";
import { knownArgWidth } from "../../src/seccomp/argwidth.js";
import { actionValue, RET } from "../../src/seccomp/bpf.js";
import { runFilter } from "../../src/seccomp/interpreter.js";
import type { AbiMode, Condition, Rule, Target } from "../../src/seccomp/types.js";

export const ENOSYS = 38;
export const EPERM = 1;
export const EACCES = 13;
export const EPROTONOSUPPORT = 93;
export const ALLOW = RET.ALLOW;
export const KILL = RET.KILL_PROCESS;

/** The return value for errno `e`. */
export function errno(e: number): number {
  return (RET.ERRNO | e) >>> 0;
}

/** A call as the tests describe it. */
export interface Call {
  arch: number;
  nr: number;
  args?: (bigint | number)[];
}

/** Number of `name` on ABI `abi` (throws if the ABI lacks it, so tests cannot silently test nothing). */
export function nr(abi: keyof typeof ABIS, name: string): number {
  const n = ABIS[abi].numbers.get(name);
  if (n === undefined) throw new Error(`${abi} has no ${name}`);
  return n;
}

/** A call on ABI `abi` by name. */
export function call(abi: keyof typeof ABIS, name: string, ...args: (bigint | number)[]): Call {
  return { arch: ABIS[abi].auditArch, nr: nr(abi, name), args };
}

/** Runs a compiled program on a call and returns the seccomp return value. */
export function run(program: Uint8Array, c: Call): number {
  return runFilter(program, { arch: c.arch, nr: c.nr, args: c.args ?? [] }).ret;
}

function holds(c: Condition, callName: string, abi: Abi, args: bigint[]): boolean {
  if ("and" in c) return c.and.every((x) => holds(x, callName, abi, args));
  if ("or" in c) return c.or.some((x) => holds(x, callName, abi, args));
  if ("not" in c) return !holds(c.not, callName, abi, args);
  let width = BigInt(c.width ?? knownArgWidth(callName, c.arg));
  if (abi.bits === 32 && width > 32n) width = 32n;
  const full = (1n << width) - 1n;
  const a = BigInt.asUintN(64, args[c.arg] ?? 0n) & full;
  const m = c.mask === undefined ? full : BigInt.asUintN(64, BigInt(c.mask)) & full;
  const v = BigInt.asUintN(64, BigInt(c.value)) & full;
  const x = a & m;
  switch (c.op) {
    case "==": return x === v;
    case "!=": return x !== v;
    case "<": return x < v;
    case "<=": return x <= v;
    case ">": return x > v;
    case ">=": return x >= v;
  }
}

/**
 * What the policy means for one call, computed straight from the rules (no BPF): the ABI from
 * arch and number, refusals, then the last matching rule, else the default action.
 */
export function reference(rules: readonly Rule[], target: Target, c: Call): number {
  const m = machineFor(target.arch)!;
  const modes = new Map<string, AbiMode>([[m.native, "translate"]]);
  for (const f of m.foreign) modes.set(f, target.foreign ?? "translate");
  if (m.x32) modes.set(m.x32, target.x32 ?? "refuse");
  for (const r of rules) {
    if (r.kind !== "abi" || r.abi === m.native) continue;
    if (r.abi === "foreign") for (const f of m.foreign) modes.set(f, r.mode);
    else if (modes.has(r.abi)) modes.set(r.abi, r.mode);
  }
  let abi: Abi | undefined;
  const nrU = c.nr >>> 0;
  if (c.arch >>> 0 === ABIS[m.native].auditArch) abi = m.x32 && nrU >= X32_BIT ? ABIS[m.x32] : ABIS[m.native];
  else abi = m.foreign.map((f) => ABIS[f]).find((a) => a.auditArch === c.arch >>> 0);
  if (!abi) return KILL;
  if (modes.get(abi.name) === "refuse") return errno(ENOSYS);
  const names = abi.names.get(nrU) ?? [];
  if (abi.name === "i386" && names.some((n) => n === "socketcall" || n === "ipc")) return errno(ENOSYS);
  const args = (c.args ?? []).map((x) => BigInt.asUintN(64, BigInt(x)));
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    if (r.kind !== "call" || !names.includes(r.call)) continue;
    if (r.when === undefined || holds(r.when, r.call, abi, args)) return actionValue(r.action);
  }
  let dflt = errno(ENOSYS);
  for (const r of rules) if (r.kind === "default") dflt = actionValue(r.action);
  return dflt;
}

/** A small deterministic PRNG (xorshift), so failures can be replayed from the seed. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number { return this.u32() % n; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
  chance(p: number): boolean { return this.u32() / 2 ** 32 < p; }
}

export { AUDIT_ARCH, X32_BIT, ABIS };
