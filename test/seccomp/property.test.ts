// Property test: on random policies and random (arch, nr, args), the compiled program run by the
// interpreter answers exactly what the rule table means (helpers.reference, which knows no BPF).
import assert from "node:assert/strict";
import { it } from "node:test";
import { compilePolicy } from "../../src/seccomp/index.js";
import { verifyProgram } from "../../src/seccomp/interpreter.js";
import type { Action, ArgWidth, CompareOp, Condition, Rule, Target } from "../../src/seccomp/types.js";
import { ABIS, AUDIT_ARCH, reference, Rng, run, X32_BIT, type Call } from "./helpers.js";
import { machineFor } from "../../src/seccomp/abi.js";

const POOL = ["read", "write", "ioctl", "socket", "clone", "unshare", "mknod", "mknodat", "personality", "prlimit64",
  "kill", "getppid", "mmap", "openat", "socketcall", "ipc", "getrlimit", "ugetrlimit", "ARM_set_tls", "fcntl64", "prctl"];
const OPS: CompareOp[] = ["==", "!=", "<", "<=", ">", ">="];
const EDGE = [0n, 1n, 2n, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, (1n << 63n), (1n << 64n) - 1n, 0x5412n, 0x10000000n];

function randValue(r: Rng): bigint {
  return r.chance(0.7) ? r.pick(EDGE) : r.chance(0.5) ? BigInt(r.int(64)) : r.u64();
}

function randCondition(r: Rng, depth: number, seen: bigint[]): Condition {
  if (r.chance(0.2)) {
    // several constants on one argument: what makes the compiler split a chain on that argument
    const arg = r.int(3), width = r.pick<ArgWidth>([16, 32, 32]);
    const op = r.pick<CompareOp>(["==", "==", "!="]);
    const list = Array.from({ length: 3 + r.int(4) }, () => { const v = r.chance(0.5) ? BigInt(r.int(40)) : randValue(r); seen.push(v); return { arg, width, op, value: v }; });
    return op === "==" ? { or: list } : { and: list };
  }
  if (depth > 0 && r.chance(0.35)) {
    const n = 1 + r.int(3);
    const parts = Array.from({ length: n }, () => randCondition(r, depth - 1, seen));
    const k = r.int(3);
    return k === 0 ? { and: parts } : k === 1 ? { or: parts } : { not: parts[0]! };
  }
  const value = randValue(r);
  seen.push(value);
  const c: Condition = { arg: r.int(6), op: r.pick(OPS), value };
  if (r.chance(0.3)) { c.mask = randValue(r); seen.push(c.mask); }
  if (r.chance(0.3)) c.width = r.pick<ArgWidth>([16, 32, 64]);
  return c;
}

function randAction(r: Rng): Action {
  switch (r.int(5)) {
    case 0: return { kind: "allow" };
    case 1: return { kind: "errno", errno: 1 + r.int(200) };
    case 2: return { kind: "kill" };
    case 3: return { kind: "log" };
    default: return { kind: "trap", data: r.int(100) };
  }
}

function randPolicy(r: Rng): { rules: Rule[]; target: Target; seen: bigint[] } {
  const target: Target = { arch: r.pick(["x64", "x64", "x64", "arm64", "ia32", "arm"]) };
  if (r.chance(0.3)) target.foreign = r.pick(["translate", "refuse"] as const);
  if (r.chance(0.3)) target.x32 = r.pick(["translate", "refuse"] as const);
  const rules: Rule[] = [];
  const seen: bigint[] = [];
  const n = 1 + r.int(14);
  for (let i = 0; i < n; i++) {
    const k = r.int(20);
    if (k === 0) rules.push({ kind: "default", action: randAction(r) });
    else if (k === 1) rules.push({ kind: "abi", abi: r.pick(["foreign", "x32", "i386", "arm"] as const), mode: r.pick(["translate", "refuse"] as const) });
    else {
      const rule: Rule = { kind: "call", call: r.pick(POOL), action: randAction(r) };
      if (r.chance(0.85)) rule.when = randCondition(r, 2, seen);
      rules.push(rule);
    }
  }
  return { rules, target, seen };
}

function randCall(r: Rng, target: Target, seen: bigint[], named: string[]): Call {
  const m = machineFor(target.arch)!;
  const abis = [m.native, m.native, ...m.foreign, ...(m.x32 ? [m.x32] : [])].map((a) => ABIS[a]);
  const abi = r.pick(abis);
  let arch = abi.auditArch;
  if (r.chance(0.03)) arch = r.pick([AUDIT_ARCH.aarch64, AUDIT_ARCH.arm, AUDIT_ARCH.i386, AUDIT_ARCH.x86_64, r.u32()]);
  let nr: number;
  const names = (r.chance(0.8) ? named : POOL).filter((n) => abi.numbers.has(n));
  if (names.length && r.chance(0.8)) nr = abi.numbers.get(r.pick(names))!;
  else nr = r.pick([0, 1, 500, 0xfffff, X32_BIT - 1, X32_BIT, X32_BIT + 1, 0xffffffff, r.u32()]);
  const arg = () => {
    if (seen.length && r.chance(0.8)) {
      const v = r.pick(seen);
      return BigInt.asUintN(64, r.pick([v, v, v, v + 1n, v - 1n, v ^ (1n << 32n), v | 0xffff_ffff_0000_0000n, v & 0xffffn]));
    }
    return r.chance(0.5) ? r.pick(EDGE) : r.u64();
  };
  return { arch, nr, args: [arg(), arg(), arg(), arg(), arg(), arg()] };
}

it("the compiled program agrees with the rule table on random policies and calls", () => {
  let checked = 0, conditional = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const r = new Rng(seed * 7919);
    const { rules, target, seen } = randPolicy(r);
    const f = compilePolicy(rules, target);
    const unconditional = rules.filter((x) => x.kind !== "call" || x.when === undefined);
    assert.deepEqual(verifyProgram(f.program), [], `seed ${seed}`);
    for (let i = 0; i < 150; i++) {
      const c = randCall(r, target, seen, rules.flatMap((x) => (x.kind === "call" ? [x.call] : [])));
      const want = reference(rules, target, c);
      const got = run(f.program, c);
      if (got !== want) {
        assert.fail(`seed ${seed}: ${JSON.stringify(target)} arch 0x${c.arch.toString(16)} nr ${c.nr} args ${c.args!.map((a) => "0x" + a.toString(16)).join(",")}: ` +
          `filter 0x${got.toString(16)} but rules mean 0x${want.toString(16)}\n${JSON.stringify(rules, (_k, v) => (typeof v === "bigint" ? "0x" + v.toString(16) : v))}`);
      }
      checked++;
      if (reference(unconditional, target, c) !== want) conditional++;
    }
  }
  assert.equal(checked, 60000);
  // the generator must reach argument checks often, or the test would prove little
  assert.ok(conditional > checked / 10, `only ${conditional} of ${checked} calls were decided by a condition`);
});
