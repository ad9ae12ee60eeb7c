// eBPF instructions: opcode fields (linux/bpf.h, linux/bpf_common.h), struct bpf_insn encoding.

/** One struct bpf_insn: u8 code, u4 dst, u4 src, s16 off, s32 imm. A 64-bit immediate load
 * (ld_imm64) takes two of these; the second carries the upper 32 bits in imm. */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Instruction classes, sizes, modes, operations and sources. */
export const E = {
  // classes
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07,
  // sizes
  W: 0x00, H: 0x08, B: 0x10, DW: 0x18,
  // modes
  IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, ATOMIC: 0xc0,
  // sources
  K: 0x00, X: 0x08,
  // alu operations
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80,
  MOD: 0x90, XOR: 0xa0, MOV: 0xb0, ARSH: 0xc0, END: 0xd0,
  // jump operations
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40, JNE: 0x50, JSGT: 0x60, JSGE: 0x70,
  CALL: 0x80, EXIT: 0x90, JLT: 0xa0, JLE: 0xb0, JSLT: 0xc0, JSLE: 0xd0,
} as const;

/** ld_imm64 source-register values (BPF_PSEUDO_*): what the 64-bit immediate refers to. */
export const PSEUDO = { MAP_FD: 1, MAP_VALUE: 2, MAP_IDX: 5 } as const;

/** The kernel's limit for unprivileged programs; ours stay far below it. */
export const MAX_PROG_INSNS = 4096;

/** Size in bytes of one encoded instruction. */
export const INSN_SIZE = 8;

/** Width of a memory access in bytes, by size field. */
export const SIZE_BYTES: Record<number, number> = { [E.W]: 4, [E.H]: 2, [E.B]: 1, [E.DW]: 8 };

/** True when `i` is the first half of a 64-bit immediate load. */
export function isLdImm64(i: Insn): boolean {
  return i.code === (E.LD | E.DW | E.IMM);
}

/** Encodes instructions as the kernel reads them (little-endian struct bpf_insn). */
export function encode(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * INSN_SIZE);
  const dv = new DataView(out.buffer);
  insns.forEach((i, n) => {
    const at = n * INSN_SIZE;
    if (i.dst < 0 || i.dst > 10 || i.src < 0 || i.src > 15) throw new RangeError(`insn ${n}: bad register`);
    if (i.off < -32768 || i.off > 32767) throw new RangeError(`insn ${n}: offset ${i.off} out of range`);
    dv.setUint8(at, i.code);
    dv.setUint8(at + 1, (i.dst & 0x0f) | ((i.src & 0x0f) << 4));
    dv.setInt16(at + 2, i.off, true);
    dv.setInt32(at + 4, i.imm | 0, true);
  });
  return out;
}

/** Decodes struct bpf_insn records; the length must be a multiple of 8. */
export function decode(bytes: Uint8Array): Insn[] {
  if (bytes.byteLength % INSN_SIZE) throw new RangeError(`eBPF program of ${bytes.byteLength} bytes: not a multiple of 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let at = 0; at < bytes.byteLength; at += INSN_SIZE) {
    const regs = dv.getUint8(at + 1);
    out.push({ code: dv.getUint8(at), dst: regs & 0x0f, src: regs >> 4, off: dv.getInt16(at + 2, true), imm: dv.getInt32(at + 4, true) });
  }
  return out;
}
