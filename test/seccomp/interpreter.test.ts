// Interpreter, load-time checks and action-cache emulation, on hand-written programs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BPF, decode, encode, ins, RET, type Insn } from "../../src/seccomp/bpf.js";
import { dataBytes, isCachedAllow, runFilter, verifyProgram } from "../../src/seccomp/interpreter.js";

const op = (code: number, k = 0, jt = 0, jf = 0): Insn => ({ code, jt, jf, k });

describe("interpreter", () => {
  it("lays out seccomp_data little-endian: nr, arch, ip, six 64-bit args", () => {
    const v = dataBytes({ nr: 59, arch: 0xc000003e, instructionPointer: 0x1122334455667788n, args: [1, 0x1_0000_0002n, -1n] });
    assert.equal(v.getUint32(0, true), 59);
    assert.equal(v.getUint32(4, true), 0xc000003e);
    assert.equal(v.getUint32(8, true), 0x55667788);
    assert.equal(v.getUint32(12, true), 0x11223344);
    assert.equal(v.getUint32(16, true), 1);
    assert.equal(v.getUint32(24, true), 2);
    assert.equal(v.getUint32(28, true), 1);
    assert.equal(v.getUint32(32, true), 0xffffffff);
    assert.equal(v.getUint32(36, true), 0xffffffff);
  });

  it("runs loads, ALU operations, scratch memory, X and returns", () => {
    const prog: Insn[] = [
      ins.ldAbs(16), // A = arg0 low = 6
      op(BPF.ALU | BPF.ADD | BPF.K, 4), // 10
      op(BPF.ALU | BPF.MUL | BPF.K, 3), // 30
      op(BPF.ALU | BPF.SUB | BPF.K, 2), // 28
      op(BPF.ALU | BPF.DIV | BPF.K, 4), // 7
      op(BPF.ALU | BPF.LSH | BPF.K, 4), // 112
      op(BPF.ALU | BPF.RSH | BPF.K, 1), // 56
      op(BPF.ALU | BPF.OR | BPF.K, 1), // 57
      op(BPF.ALU | BPF.XOR | BPF.K, 0xff), // 198
      op(BPF.ALU | BPF.MOD | BPF.K, 100), // 98
      op(BPF.ST, 3), // M[3] = 98
      op(BPF.LDX | BPF.W | BPF.IMM, 2), // X = 2
      op(BPF.ALU | BPF.AND | BPF.X), // A = 98 & 2 = 2
      op(BPF.MISC | BPF.TAX), // X = 2
      op(BPF.LD | BPF.W | BPF.MEM, 3), // A = 98
      op(BPF.ALU | BPF.ADD | BPF.X), // 100
      op(BPF.ALU | BPF.NEG), // -100
      op(BPF.ALU | BPF.NEG), // 100
      op(BPF.JMP | BPF.JEQ | BPF.K, 100, 1, 0),
      ins.ret(0),
      op(BPF.RET | BPF.A),
    ];
    assert.deepEqual(verifyProgram(prog), []);
    const r = runFilter(prog, { nr: 0, arch: 0, args: [6] });
    assert.equal(r.ret, 100);
    assert.equal(r.steps, 20);
    assert.equal(r.readArgs, true);
  });

  it("takes conditional jumps by unsigned comparison and ja by offset", () => {
    const prog: Insn[] = [
      ins.ldAbs(0),
      ins.jmp(BPF.JGT, 0x7fffffff, 0, 2), // nr > 0x7fffffff (unsigned)
      ins.ja(2),
      ins.ret(3),
      ins.ret(1),
      ins.jmp(BPF.JSET, 0x80000000, 0, 1),
      ins.ret(2),
      ins.ret(4),
    ];
    assert.equal(runFilter(prog, { nr: 0xffffffff, arch: 0 }).ret, 2);
    assert.equal(runFilter(prog, { nr: 5, arch: 0 }).ret, 1);
    assert.equal(runFilter(prog, { nr: 5, arch: 0 }).readArgs, false);
  });

  it("encodes and decodes struct sock_filter little-endian", () => {
    const prog = [ins.ldAbs(4), ins.jmp(BPF.JEQ, 0xc000003e, 1, 0), ins.ret(RET.KILL_PROCESS), ins.ret(RET.ALLOW)];
    const bytes = encode(prog);
    assert.deepEqual([...bytes.slice(8, 16)], [0x15, 0, 1, 0, 0x3e, 0, 0, 0xc0]);
    assert.deepEqual(decode(bytes), prog);
    assert.throws(() => decode(new Uint8Array(7)), /whole number/);
  });
});

describe("load-time checks", () => {
  it("accepts a good program and names every problem in a bad one", () => {
    assert.deepEqual(verifyProgram([ins.ret(RET.ALLOW)]), []);
    assert.match(verifyProgram([]).join(), /length 0/);
    assert.match(verifyProgram([ins.ldAbs(2), ins.ret(0)]).join(), /load outside/);
    assert.match(verifyProgram([ins.ldAbs(64), ins.ret(0)]).join(), /load outside/);
    assert.match(verifyProgram([ins.jmp(BPF.JEQ, 0, 5, 0), ins.ret(0)]).join(), /jump past the end/);
    assert.match(verifyProgram([ins.ja(1), ins.ret(0)]).join(), /ja past the end/);
    assert.match(verifyProgram([ins.ldAbs(0)]).join(), /not a return/);
    assert.match(verifyProgram([op(BPF.LD | BPF.W | BPF.IND), ins.ret(0)]).join(), /load mode/);
    assert.match(verifyProgram([op(BPF.ALU | BPF.DIV | BPF.K, 0), ins.ret(0)]).join(), /division by zero/);
    assert.match(verifyProgram(Array.from({ length: 4097 }, () => ins.ret(0))).join(), /length 4097/);
  });
});

describe("action-cache emulation", () => {
  it("follows nr/arch loads and constant jumps to an allow", () => {
    const prog = [ins.ldAbs(4), ins.jmp(BPF.JEQ, 0xc000003e, 0, 4), ins.ldAbs(0), ins.andK(0xff), ins.jmp(BPF.JSET, 0x80, 1, 0), ins.ret(RET.ALLOW), ins.ret(RET.ERRNO | 1)];
    assert.equal(isCachedAllow(prog, 0xc000003e, 5), true);
    assert.equal(isCachedAllow(prog, 0xc000003e, 0x180), false);
    assert.equal(isCachedAllow(prog, 0x40000003, 5), false);
  });

  it("gives up at an argument load, as the kernel does", () => {
    const prog = [ins.ldAbs(0), ins.jmp(BPF.JEQ, 1, 0, 2), ins.ldAbs(16), ins.ret(RET.ALLOW), ins.ret(RET.ALLOW)];
    assert.equal(isCachedAllow(prog, 0, 1), false);
    assert.equal(isCachedAllow(prog, 0, 2), true);
    assert.equal(isCachedAllow([op(BPF.LD | BPF.W | BPF.IMM, 1), ins.ret(RET.ALLOW)], 0, 0), false);
  });
});
