// Compiler tests: encodings, ABI handling, 64-bit comparisons at their boundaries, widths, far
// jumps, the instruction limit, and that argument-free calls stay in the kernel's action cache.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SysjailError } from "../../src/errors.js";
import { compilePolicy } from "../../src/seccomp/index.js";
import { decode } from "../../src/seccomp/bpf.js";
import { isCachedAllow, runFilter, verifyProgram } from "../../src/seccomp/interpreter.js";
import type { CompareOp, Comparison, Rule, Target } from "../../src/seccomp/types.js";
import { ABIS, ALLOW, AUDIT_ARCH, call, ENOSYS, EPERM, errno, KILL, nr, reference, run, X32_BIT } from "./helpers.js";

const X64: Target = { arch: "x64" };
const allowAll: Rule = { kind: "default", action: { kind: "allow" } };
const deny = (callName: string, when?: Comparison): Rule =>
  when ? { kind: "call", call: callName, action: { kind: "errno", errno: EPERM }, when } : { kind: "call", call: callName, action: { kind: "errno", errno: EPERM } };

function mustThrowPolicy(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SysjailError, `not a SysjailError: ${String(e)}`);
    assert.equal(e.code, "EPOLICY");
    assert.equal(e.exitCode, 64);
    assert.equal(e.phase, "usage");
    assert.match(e.message, pattern);
    return true;
  });
}

describe("compiler: actions and ABIs", () => {
  it("encodes every action and the default", () => {
    const rules: Rule[] = [
      { kind: "default", action: { kind: "kill" } },
      { kind: "call", call: "read", action: { kind: "allow" } },
      { kind: "call", call: "write", action: { kind: "errno", errno: 5 } },
      { kind: "call", call: "getpid", action: { kind: "log" } },
      { kind: "call", call: "getppid", action: { kind: "trap", data: 7 } },
      { kind: "call", call: "gettid", action: { kind: "kill" } },
    ];
    const f = compilePolicy(rules, X64);
    assert.deepEqual(verifyProgram(f.program), []);
    assert.equal(f.instructions, f.program.length / 8);
    assert.equal(run(f.program, call("x86_64", "read")), ALLOW);
    assert.equal(run(f.program, call("x86_64", "write")), errno(5));
    assert.equal(run(f.program, call("x86_64", "getpid")), 0x7ffc0000);
    assert.equal(run(f.program, call("x86_64", "getppid")), 0x00030007);
    assert.equal(run(f.program, call("x86_64", "gettid")), KILL);
    assert.equal(run(f.program, call("x86_64", "close")), KILL);
  });

  it("kills calls from an arch the kernel should never report", () => {
    const f = compilePolicy([allowAll], X64);
    assert.equal(run(f.program, { arch: AUDIT_ARCH.aarch64, nr: 0 }), KILL);
    assert.equal(run(f.program, { arch: 0, nr: 0 }), KILL);
  });

  it("translates the policy to i386 numbers, and refuses socketcall and ipc there", () => {
    const rules: Rule[] = [allowAll, deny("getppid"), { kind: "call", call: "socketcall", action: { kind: "allow" } }];
    const f = compilePolicy(rules, X64);
    assert.deepEqual(f.arches, ["x86_64", "i386"]);
    assert.equal(run(f.program, call("i386", "getppid")), errno(EPERM));
    assert.equal(run(f.program, call("x86_64", "getppid")), errno(EPERM));
    assert.equal(nr("i386", "getppid"), 64);
    assert.equal(run(f.program, { arch: AUDIT_ARCH.x86_64, nr: 64 }), ALLOW); // semget on x86_64, allowed
    assert.equal(run(f.program, call("i386", "socketcall", 1, 0)), errno(ENOSYS));
    assert.equal(run(f.program, call("i386", "ipc", 1, 0)), errno(ENOSYS));
    assert.equal(run(f.program, call("i386", "socket", 2, 1, 0)), ALLOW);
  });

  it("refuses foreign ABIs whole when asked, by target or by rule", () => {
    for (const [rules, target] of [[[allowAll], { arch: "x64", foreign: "refuse" }], [[allowAll, { kind: "abi", abi: "i386", mode: "refuse" }], X64]] as [Rule[], Target][]) {
      const f = compilePolicy(rules, target);
      assert.deepEqual(f.arches, ["x86_64"]);
      assert.equal(run(f.program, call("i386", "getpid")), errno(ENOSYS));
      assert.equal(run(f.program, call("x86_64", "getpid")), ALLOW);
    }
  });

  it("refuses x32 by default and translates it on request", () => {
    const refused = compilePolicy([allowAll, deny("getppid")], X64);
    assert.equal(run(refused.program, call("x32", "getpid")), errno(ENOSYS));
    assert.equal(run(refused.program, { arch: AUDIT_ARCH.x86_64, nr: 0xffffffff }), errno(ENOSYS));
    const translated = compilePolicy([allowAll, deny("getppid"), { kind: "abi", abi: "x32", mode: "translate" }], X64);
    assert.deepEqual(translated.arches, ["x86_64", "i386", "x32"]);
    assert.equal(run(translated.program, call("x32", "getpid")), ALLOW);
    assert.equal(run(translated.program, call("x32", "getppid")), errno(EPERM));
    assert.equal(nr("x32", "getppid"), X32_BIT + 110);
    // x32-only numbers (512..547) are x32 calls; the same numbers without the bit are not x86_64 calls
    assert.equal(run(translated.program, call("x32", "ioctl")), ALLOW);
    assert.equal(nr("x32", "ioctl"), X32_BIT + 514);
  });

  it("never refuses the native ABI: an abi rule naming it (written for another host) changes nothing", () => {
    const f = compilePolicy([allowAll, { kind: "abi", abi: "x86_64", mode: "refuse" }], X64);
    assert.equal(run(f.program, call("x86_64", "getpid")), ALLOW);
    const arm = compilePolicy([allowAll, { kind: "abi", abi: "arm", mode: "refuse" }], { arch: "arm" });
    assert.equal(run(arm.program, call("arm", "getpid")), ALLOW);
  });

  it("compiles for arm64 hosts: aarch64 native and arm emulation", () => {
    const f = compilePolicy([deny("getppid"), { kind: "call", call: "getppid", action: { kind: "allow" }, when: { arg: 0, op: "==", value: 1 } }, { kind: "call", call: "ARM_set_tls", action: { kind: "allow" } }], { arch: "arm64" });
    assert.deepEqual(f.arches, ["aarch64", "arm"]);
    assert.equal(run(f.program, call("aarch64", "getppid")), errno(EPERM));
    assert.equal(run(f.program, call("arm", "getppid")), errno(EPERM));
    assert.equal(run(f.program, call("arm", "getppid", 1)), ALLOW);
    assert.equal(run(f.program, call("arm", "ARM_set_tls", 0x1000)), ALLOW);
    assert.equal(run(f.program, call("aarch64", "read")), errno(ENOSYS));
    assert.equal(run(f.program, { arch: AUDIT_ARCH.x86_64, nr: 0 }), KILL);
  });

  it("accepts node's and the kernel's arch names, and refuses unknown ones", () => {
    for (const a of ["x64", "x86_64", "arm64", "aarch64", "ia32", "i386", "arm"]) {
      const f = compilePolicy([allowAll], { arch: a });
      assert.deepEqual(verifyProgram(f.program), []);
    }
    assert.deepEqual(compilePolicy([allowAll], { arch: "ia32" }).arches, ["i386"]);
    mustThrowPolicy(() => compilePolicy([allowAll], { arch: "mips" }), /no system call tables for architecture 'mips'/);
  });

  it("rejects malformed typed rules", () => {
    mustThrowPolicy(() => compilePolicy([{ kind: "call", call: "no_such_call", action: { kind: "allow" } }], X64), /rule 1: unknown system call near 'no_such_call'/);
    mustThrowPolicy(() => compilePolicy([{ kind: "call", call: "read", action: { kind: "errno", errno: 5000 } }], X64), /errno must be 0..4095/);
    mustThrowPolicy(() => compilePolicy([{ kind: "call", call: "read", action: { kind: "allow" }, when: { arg: 6, op: "==", value: 0 } }], X64), /argument index/);
    mustThrowPolicy(() => compilePolicy([{ kind: "call", call: "read", action: { kind: "allow" }, when: { arg: 0, op: "=~" as CompareOp, value: 0 } }], X64), /unknown comparison/);
    mustThrowPolicy(() => compilePolicy([{ kind: "call", call: "read", action: { kind: "allow" }, when: { arg: 0, op: "==", value: 1n << 64n } }], X64), /64-bit integer/);
    mustThrowPolicy(() => compilePolicy([{ kind: "bogus" } as unknown as Rule], X64), /unknown rule kind/);
    mustThrowPolicy(() => compilePolicy([{ kind: "call", call: "read", action: { kind: "allow" }, at: { file: "p.policy", line: 3, column: 9 }, when: { arg: 0, op: "==", value: 1.5 } }], X64), /^p\.policy:3:9: /);
  });
});

describe("compiler: argument comparisons", () => {
  const ops: CompareOp[] = ["==", "!=", "<", "<=", ">", ">="];
  const M64 = (1n << 64n) - 1n;
  const values = [0n, 1n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1_ffff_ffffn, 0x8000_0000_0000_0000n, M64 - 1n, M64, 0x1234_5678_9abc_def0n];
  const around = (v: bigint) => [v - 1n, v, v + 1n, v ^ (1n << 32n), v ^ 1n, v ^ (1n << 63n), v + (1n << 32n), v - (1n << 32n)].map((x) => BigInt.asUintN(64, x));
  const truth = (a: bigint, op: CompareOp, v: bigint) =>
    op === "==" ? a === v : op === "!=" ? a !== v : op === "<" ? a < v : op === "<=" ? a <= v : op === ">" ? a > v : a >= v;

  it("compares 64-bit arguments correctly on both halves at every boundary", () => {
    for (const op of ops) {
      for (const v of values) {
        const f = compilePolicy([allowAll, deny("read", { arg: 2, op, value: v })], X64);
        for (const a of [...values, ...around(v)]) {
          const got = runFilter(f.program, { arch: AUDIT_ARCH.x86_64, nr: 0, args: [0, 0, a] }).ret;
          assert.equal(got, truth(a, op, v) ? errno(EPERM) : ALLOW, `arg2=0x${a.toString(16)} ${op} 0x${v.toString(16)}`);
        }
      }
    }
  });

  it("compares masked values on both halves", () => {
    const masks = [0xffn, 0xf0000000_0000000fn, 0xffffffff_00000000n, 1n << 40n, 0x10000000n];
    for (const op of ops) for (const mask of masks) for (const v of [0n, mask, mask & 0xfn, 1n << 40n, 0x10n]) {
      const f = compilePolicy([allowAll, deny("read", { arg: 2, op, value: v, mask })], X64);
      for (const a of [0n, M64, mask, ~mask & M64, 0x1234_5678_9abc_def0n, 1n << 40n, 0x1fn]) {
        const got = runFilter(f.program, { arch: AUDIT_ARCH.x86_64, nr: 0, args: [0, 0, a] }).ret;
        assert.equal(got, truth(a & mask, op, v) ? errno(EPERM) : ALLOW, `(0x${a.toString(16)} & 0x${mask.toString(16)}) ${op} 0x${v.toString(16)}`);
      }
    }
  });

  it("looks only at the bits the kernel reads: ioctl's 32-bit cmd cannot be dodged with a high half", () => {
    const f = compilePolicy([allowAll, deny("ioctl", { arg: 1, op: "==", value: 0x5412 })], X64);
    assert.equal(run(f.program, call("x86_64", "ioctl", 0, 0x5412)), errno(EPERM));
    assert.equal(run(f.program, call("x86_64", "ioctl", 0, 0xdead_0000_5412n)), errno(EPERM));
    assert.equal(run(f.program, call("x86_64", "ioctl", 0, 0x5413)), ALLOW);
    // forcing 64 bits makes the high half count (documented escape hatch for 64-bit parameters)
    const wide = compilePolicy([allowAll, deny("ioctl", { arg: 1, op: "==", value: 0x5412, width: 64 })], X64);
    assert.equal(run(wide.program, call("x86_64", "ioctl", 0, 0xdead_0000_5412n)), ALLOW);
  });

  it("compares umode_t arguments on 16 bits", () => {
    const f = compilePolicy([allowAll, deny("mknod", { arg: 1, op: "==", value: 0o20600 })], X64);
    assert.equal(run(f.program, call("x86_64", "mknod", 0, 0o20600)), errno(EPERM));
    assert.equal(run(f.program, call("x86_64", "mknod", 0, 0x7_0000 | 0o20600)), errno(EPERM));
  });

  it("ignores the upper half of registers on 32-bit ABIs, whatever the width asked", () => {
    const f = compilePolicy([allowAll, deny("unshare", { arg: 0, op: "==", value: 0x10000000, width: 64 }), deny("read", { arg: 2, op: ">", value: 0x1_0000_0000n })], X64);
    assert.equal(run(f.program, call("i386", "unshare", 0xffff_ffff_1000_0000n)), errno(EPERM));
    assert.equal(run(f.program, call("x86_64", "unshare", 0xffff_ffff_1000_0000n)), ALLOW);
    // on i386 the value 2^32 reduces to 0, so "> 0" on the low half
    assert.equal(run(f.program, call("i386", "read", 0, 0, 5)), errno(EPERM));
    assert.equal(run(f.program, call("i386", "read", 0, 0, 0x1_0000_0000n)), ALLOW);
  });

  it("combines conditions with and, or and not", () => {
    const when = { or: [{ and: [{ arg: 0, op: "==" as const, value: 1 }, { arg: 1, op: "!=" as const, value: 2 }] }, { not: { arg: 2, op: "<" as const, value: 10 } }] };
    const rules: Rule[] = [allowAll, { kind: "call", call: "read", action: { kind: "errno", errno: EPERM }, when }];
    const f = compilePolicy(rules, X64);
    for (const a0 of [0, 1]) for (const a1 of [1, 2]) for (const a2 of [9, 10, 11]) {
      const c = call("x86_64", "read", a0, a1, a2);
      assert.equal(run(f.program, c), reference(rules, X64, c), `${a0} ${a1} ${a2}`);
    }
  });

  it("lets the last matching rule win, and drops rules an unconditional one overrides", () => {
    const rules: Rule[] = [
      { kind: "call", call: "read", action: { kind: "errno", errno: 1 }, when: { arg: 0, op: "==", value: 1 } },
      { kind: "call", call: "read", action: { kind: "allow" } },
      { kind: "call", call: "read", action: { kind: "errno", errno: 2 }, when: { arg: 0, op: "==", value: 2 } },
    ];
    const f = compilePolicy(rules, X64);
    assert.equal(run(f.program, call("x86_64", "read", 1)), ALLOW);
    assert.equal(run(f.program, call("x86_64", "read", 2)), errno(2));
    assert.equal(run(f.program, call("x86_64", "read", 3)), ALLOW);
  });
});

describe("compiler: program shape", () => {
  it("keeps argument-free calls on number tests only, so the kernel's action cache applies", () => {
    const rules: Rule[] = [
      { kind: "call", call: "getppid", action: { kind: "allow" } },
      { kind: "call", call: "read", action: { kind: "allow" } },
      { kind: "call", call: "ioctl", action: { kind: "allow" } },
      { kind: "call", call: "ioctl", action: { kind: "errno", errno: 1 }, when: { arg: 1, op: "==", value: 0x5412 } },
    ];
    const f = compilePolicy(rules, X64);
    for (const abi of ["x86_64", "i386"] as const) {
      assert.ok(isCachedAllow(f.program, ABIS[abi].auditArch, nr(abi, "getppid")), `${abi} getppid cached`);
      assert.ok(isCachedAllow(f.program, ABIS[abi].auditArch, nr(abi, "read")));
      assert.ok(!isCachedAllow(f.program, ABIS[abi].auditArch, nr(abi, "ioctl")), "ioctl needs its argument");
      assert.ok(!isCachedAllow(f.program, ABIS[abi].auditArch, nr(abi, "write")), "write is refused");
      const r = runFilter(f.program, { arch: ABIS[abi].auditArch, nr: nr(abi, "getppid") });
      assert.equal(r.readArgs, false);
    }
  });

  it("reaches calls by binary search: the path grows with log2 of the number of ranges", () => {
    const names = [...ABIS.x86_64.numbers.keys()];
    // alternate allowed and refused calls: the worst case for merging ranges
    const rules: Rule[] = names.map((n, i) => ({ kind: "call", call: n, action: i % 2 ? { kind: "allow" } : { kind: "errno", errno: 1 } }));
    const f = compilePolicy(rules, { arch: "x64", foreign: "refuse" });
    // ~2 * 383 ranges: a linear scan would need hundreds of steps
    assert.ok(f.worstPath <= 4 + 1 + 12 + 2, `worst path ${f.worstPath}`);
    for (const n of names.slice(0, 50)) {
      const c = call("x86_64", n);
      assert.equal(run(f.program, c), reference(rules, { arch: "x64", foreign: "refuse" }, c));
    }
  });

  it("reaches far targets through ja when a jump would exceed 255 instructions", () => {
    const calls = [...ABIS.x86_64.numbers.keys()].slice(0, 150);
    const rules: Rule[] = [allowAll, ...calls.map((n, i): Rule => ({
      kind: "call", call: n, action: { kind: "errno", errno: 1 + (i % 30) },
      when: { or: [{ arg: 0, op: "==", value: i }, { arg: 1, op: ">", value: BigInt(i) << 33n }, { arg: 2, op: "==", value: i, mask: 0xff }] },
    }))];
    const f = compilePolicy(rules, X64);
    const insns = decode(f.program);
    assert.ok(insns.some((x) => x.code === 0x05), "has ja");
    assert.ok(f.instructions > 1000);
    assert.deepEqual(verifyProgram(f.program), []);
    calls.forEach((n, i) => {
      for (const abi of ["x86_64", "i386"] as const) {
        if (!ABIS[abi].numbers.has(n)) continue;
        for (const args of [[i, 0, 0], [0, (BigInt(i) << 33n) + 1n, 0], [0, 0, 0x100 + i], [1000, 0, 0]]) {
          const c = call(abi, n, ...args);
          assert.equal(run(f.program, c), reference(rules, X64, c), `${abi} ${n} ${args}`);
        }
      }
    });
  });

  it("refuses a program over the kernel's 4096-instruction limit with a clear error", () => {
    const calls = [...ABIS.x86_64.numbers.keys()].slice(0, 300);
    // distinct checks per call (identical ones would be shared)
    const rules: Rule[] = [allowAll, ...calls.map((n, i): Rule => ({
      kind: "call", call: n, action: { kind: "errno", errno: 1 },
      when: { or: [0, 1, 2, 3, 4, 5].map((a) => ({ arg: a, op: "==" as const, value: (BigInt(i + 1) << 32n) + BigInt(a) })) },
    }))];
    mustThrowPolicy(() => compilePolicy(rules, X64), /compiles to \d+ BPF instructions; the kernel loads at most 4096/);
  });

  it("shares identical argument checks between calls", () => {
    const one = compilePolicy([allowAll, deny("socket", { arg: 0, op: "==", value: 17 })], X64);
    const two = compilePolicy([allowAll, deny("socket", { arg: 0, op: "==", value: 17 }), deny("socketpair", { arg: 0, op: "==", value: 17 })], X64);
    assert.ok(two.instructions - one.instructions <= 6, `${one.instructions} -> ${two.instructions}`);
  });
});
