// The eBPF assembler, encoder, disassembler and interpreter.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Asm, R } from "../../src/ebpf/asm.js";
import { decode, encode, E, PSEUDO } from "../../src/ebpf/insn.js";
import { disassemble, formatInsn } from "../../src/ebpf/disasm.js";
import { mem, run } from "../../src/ebpf/interp.js";
import { Helper } from "../../src/ebpf/abi.js";

describe("encoding", () => {
  it("lays out struct bpf_insn: code, dst|src<<4, s16 off, s32 imm (little-endian)", () => {
    const b = encode([{ code: E.JMP | E.JEQ | E.K, dst: 7, src: 0, off: -2, imm: -1 }]);
    assert.deepEqual([...b], [0x15, 0x07, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert.deepEqual(decode(b), [{ code: 0x15, dst: 7, src: 0, off: -2, imm: -1 }]);
  });
  it("refuses bad registers and offsets", () => {
    assert.throws(() => encode([{ code: 0, dst: 11, src: 0, off: 0, imm: 0 }]), /register/);
    assert.throws(() => encode([{ code: 0, dst: 0, src: 0, off: 40000, imm: 0 }]), /offset/);
    assert.throws(() => decode(new Uint8Array(7)), /multiple of 8/);
  });
});

describe("the assembler", () => {
  it("resolves labels forward and backward, counting 64-bit loads as two slots", () => {
    const a = new Asm();
    a.mov(R.r0, 0).label("top").ldImm64(R.r1, 0x1122334455667788n).jmp("jeq", R.r0, 3, "out")
      .alu("add", R.r0, 1).ja("top").label("out").exit();
    const p = a.build();
    assert.equal(p.insns.length, 7);
    assert.equal(p.insns[3]!.off, 2); // jeq at 3 -> out at 6
    assert.equal(p.insns[5]!.off, -5); // ja at 5 -> top at 1
    assert.equal(p.insns[1]!.imm, 0x55667788);
    assert.equal(p.insns[2]!.imm, 0x11223344);
    assert.equal(run(p.insns, { ctx: mem("ctx", 8) }), 3n);
  });
  it("refers to maps by fd_array index (BPF_PSEUDO_MAP_IDX)", () => {
    const p = new Asm().ldMap(R.r1, 0).ret(0).build();
    assert.equal(p.insns[0]!.src, PSEUDO.MAP_IDX);
    assert.equal(p.insns[0]!.code, E.LD | E.DW | E.IMM);
  });
  it("reports unknown and doubly placed labels, immediates out of range, dangling notes", () => {
    assert.throws(() => new Asm().ja("nowhere").exit().build(), /unknown label/);
    assert.throws(() => new Asm().label("x").label("x"), /twice/);
    assert.throws(() => new Asm().mov(R.r0, 2 ** 33), /32 bits/);
    assert.throws(() => new Asm().exit().note("x").build(), /after the last/);
  });
  it("32-bit jumps compare the lower words (an address word above 2^31 stays unsigned)", () => {
    const p = new Asm().mov32(R.r1, 0xffff0000).mov(R.r0, 0).jmp32("jne", R.r1, 0xffff0000, "out").mov(R.r0, 1).label("out").exit().build();
    assert.equal(run(p.insns, { ctx: mem("ctx", 8) }), 1n);
    const q = new Asm().mov32(R.r1, 0xffff0000).mov(R.r0, 0).jmp("jne", R.r1, 0xffff0000, "out").mov(R.r0, 1).label("out").exit().build();
    assert.equal(run(q.insns, { ctx: mem("ctx", 8) }), 0n, "a 64-bit compare sign-extends the immediate");
  });
});

describe("the disassembler", () => {
  it("prints the verifier's notation with context fields and notes", () => {
    const a = new Asm();
    a.mov(R.r6, R.r1).note("the address").ldx("w", R.r7, R.r6, 4).ldMap(R.r1, 0).call(Helper.map_lookup_elem)
      .jmp32("jeq", R.r7, 0x100007f, "x").stx("w", R.r6, 4, R.r7).label("x").ret(1);
    const p = a.build();
    const text = disassemble(p.insns, { ctx: "sock_addr", notes: p.notes });
    assert.match(text, /1: r7 = \*\(u32 \*\)\(r6 \+4\)\s+; ctx\.user_ip4; the address/);
    assert.match(text, /2: r1 = map\[idx:0\]/);
    assert.match(text, /4: call bpf_map_lookup_elem#1/);
    assert.match(text, /5: if w7 == 0x100007f goto 7/);
    assert.match(text, /6: \*\(u32 \*\)\(r6 \+4\) = r7\s+; writes ctx\.user_ip4/);
    assert.match(text, /8: exit/);
  });
  it("formats every instruction class", () => {
    assert.equal(formatInsn({ code: E.ALU | E.MOV | E.K, dst: 1, src: 0, off: 0, imm: 5 }, 0), "w1 = 0x5");
    assert.equal(formatInsn({ code: E.ST | E.MEM | E.W, dst: 10, src: 0, off: -16, imm: 0 }, 0), "*(u32 *)(r10 -16) = 0x0");
    assert.equal(formatInsn({ code: E.JMP | E.JA, dst: 0, src: 0, off: 3, imm: 0 }, 2), "goto 6");
    assert.equal(formatInsn({ code: E.ALU64 | E.RSH | E.K, dst: 5, src: 0, off: 0, imm: 4 }, 0), "r5 >>= 0x4");
  });
});
