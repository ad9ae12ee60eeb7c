// The eBPF assembler: a builder with registers, labels and notes; build() resolves jumps.
import { E, encode, PSEUDO, type Insn } from "./insn.js";

/** A register operand (r0..r10). Plain numbers are immediates. */
export interface Reg {
  readonly reg: number;
}

/** r0: return values; r1-r5: helper arguments (clobbered by calls); r6-r9: kept; r10: frame pointer. */
export const R = {
  r0: { reg: 0 }, r1: { reg: 1 }, r2: { reg: 2 }, r3: { reg: 3 }, r4: { reg: 4 }, r5: { reg: 5 },
  r6: { reg: 6 }, r7: { reg: 7 }, r8: { reg: 8 }, r9: { reg: 9 }, r10: { reg: 10 },
} as const satisfies Record<string, Reg>;

/** Memory access widths. */
export type Size = "b" | "h" | "w" | "dw";
const SIZE: Record<Size, number> = { b: E.B, h: E.H, w: E.W, dw: E.DW };

/** ALU operations by name. */
export type AluOp = "add" | "sub" | "mul" | "div" | "or" | "and" | "lsh" | "rsh" | "mod" | "xor" | "mov" | "arsh";
const ALU: Record<AluOp, number> = {
  add: E.ADD, sub: E.SUB, mul: E.MUL, div: E.DIV, or: E.OR, and: E.AND, lsh: E.LSH, rsh: E.RSH,
  mod: E.MOD, xor: E.XOR, mov: E.MOV, arsh: E.ARSH,
};

/** Conditional jumps by name (unsigned unless the name starts with "js"). */
export type JmpOp = "jeq" | "jne" | "jgt" | "jge" | "jlt" | "jle" | "jset" | "jsgt" | "jsge" | "jslt" | "jsle";
const JMP: Record<JmpOp, number> = {
  jeq: E.JEQ, jne: E.JNE, jgt: E.JGT, jge: E.JGE, jlt: E.JLT, jle: E.JLE, jset: E.JSET,
  jsgt: E.JSGT, jsge: E.JSGE, jslt: E.JSLT, jsle: E.JSLE,
};

/** An assembled program: instructions and the note attached to each (for listings). */
export interface Program {
  insns: Insn[];
  notes: (string | undefined)[];
}

interface Pending {
  at: number;
  label: string;
}

const isReg = (x: Reg | number): x is Reg => typeof x === "object";

function imm32(v: number): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new RangeError(`immediate ${v} does not fit 32 bits`);
  return v | 0;
}

/** Builds one program. Every method returns `this`, so a program reads top to bottom. */
export class Asm {
  readonly #insns: Insn[] = [];
  readonly #notes: (string | undefined)[] = [];
  readonly #labels = new Map<string, number>();
  readonly #pending: Pending[] = [];
  #note: string | undefined;
  #unique = 0;

  /** The index the next instruction gets. */
  get pc(): number {
    return this.#insns.length;
  }

  #emit(i: Insn): this {
    this.#insns.push(i);
    this.#notes.push(this.#note);
    this.#note = undefined;
    return this;
  }

  /** Attaches a note to the next instruction (shown by the disassembler). */
  note(text: string): this {
    this.#note = this.#note ? `${this.#note}; ${text}` : text;
    return this;
  }

  /** A label name not used before, from a readable stem. */
  fresh(stem: string): string {
    return `${stem}.${++this.#unique}`;
  }

  /** Places a label at the next instruction. */
  label(name: string): this {
    if (this.#labels.has(name)) throw new Error(`label ${name} placed twice`);
    this.#labels.set(name, this.pc);
    return this;
  }

  /** 64-bit ALU operation: dst = dst OP src. */
  alu(op: AluOp, dst: Reg, src: Reg | number): this {
    return this.#alu(E.ALU64, op, dst, src);
  }

  /** 32-bit ALU operation (the upper half of dst is zeroed). */
  alu32(op: AluOp, dst: Reg, src: Reg | number): this {
    return this.#alu(E.ALU, op, dst, src);
  }

  #alu(cls: number, op: AluOp, dst: Reg, src: Reg | number): this {
    return isReg(src)
      ? this.#emit({ code: cls | ALU[op] | E.X, dst: dst.reg, src: src.reg, off: 0, imm: 0 })
      : this.#emit({ code: cls | ALU[op] | E.K, dst: dst.reg, src: 0, off: 0, imm: imm32(src) });
  }

  /** dst = src (64-bit). */
  mov(dst: Reg, src: Reg | number): this {
    return this.alu("mov", dst, src);
  }

  /** dst = src (32-bit, zero-extended). */
  mov32(dst: Reg, src: Reg | number): this {
    return this.alu32("mov", dst, src);
  }

  /** dst = *(size *)(src + off). */
  ldx(size: Size, dst: Reg, src: Reg, off: number): this {
    return this.#emit({ code: E.LDX | E.MEM | SIZE[size], dst: dst.reg, src: src.reg, off, imm: 0 });
  }

  /** *(size *)(dst + off) = src. */
  stx(size: Size, dst: Reg, off: number, src: Reg): this {
    return this.#emit({ code: E.STX | E.MEM | SIZE[size], dst: dst.reg, src: src.reg, off, imm: 0 });
  }

  /** *(size *)(dst + off) = imm. */
  st(size: Size, dst: Reg, off: number, imm: number): this {
    return this.#emit({ code: E.ST | E.MEM | SIZE[size], dst: dst.reg, src: 0, off, imm: imm32(imm) });
  }

  /** dst = a 64-bit constant (two instruction slots). */
  ldImm64(dst: Reg, value: bigint): this {
    const v = BigInt.asUintN(64, value);
    this.#emit({ code: E.LD | E.DW | E.IMM, dst: dst.reg, src: 0, off: 0, imm: Number(v & 0xffffffffn) | 0 });
    return this.#emit({ code: 0, dst: 0, src: 0, off: 0, imm: Number(v >> 32n) | 0 });
  }

  /** dst = the map at `index` of the loader's fd_array (BPF_PSEUDO_MAP_IDX). */
  ldMap(dst: Reg, index: number): this {
    this.#emit({ code: E.LD | E.DW | E.IMM, dst: dst.reg, src: PSEUDO.MAP_IDX, off: 0, imm: imm32(index) });
    return this.#emit({ code: 0, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** if (dst OP src) goto label (64-bit compare). */
  jmp(op: JmpOp, dst: Reg, src: Reg | number, label: string): this {
    return this.#jump(E.JMP, op, dst, src, label);
  }

  /** if (dst OP src) goto label, comparing the lower 32 bits only. */
  jmp32(op: JmpOp, dst: Reg, src: Reg | number, label: string): this {
    return this.#jump(E.JMP32, op, dst, src, label);
  }

  #jump(cls: number, op: JmpOp, dst: Reg, src: Reg | number, label: string): this {
    this.#pending.push({ at: this.pc, label });
    return isReg(src)
      ? this.#emit({ code: cls | JMP[op] | E.X, dst: dst.reg, src: src.reg, off: 0, imm: 0 })
      : this.#emit({ code: cls | JMP[op] | E.K, dst: dst.reg, src: 0, off: 0, imm: imm32(src) });
  }

  /** goto label. */
  ja(label: string): this {
    this.#pending.push({ at: this.pc, label });
    return this.#emit({ code: E.JMP | E.JA, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** r0 = helper(r1, ..., r5); r1-r5 are clobbered. */
  call(helper: number): this {
    return this.#emit({ code: E.JMP | E.CALL, dst: 0, src: 0, off: 0, imm: helper });
  }

  /** return r0. */
  exit(): this {
    return this.#emit({ code: E.JMP | E.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** r0 = value; return. */
  ret(value: number): this {
    return this.mov(R.r0, value).exit();
  }

  /** Resolves labels; throws on an unknown label or a jump out of range. */
  build(): Program {
    if (this.#note !== undefined) throw new Error(`note "${this.#note}" after the last instruction`);
    const insns = this.#insns.map((i) => ({ ...i }));
    for (const p of this.#pending) {
      const to = this.#labels.get(p.label);
      if (to === undefined) throw new Error(`jump to unknown label ${p.label}`);
      if (to >= insns.length) throw new Error(`label ${p.label} is past the last instruction`);
      const off = to - (p.at + 1);
      if (off < -32768 || off > 32767) throw new RangeError(`jump to ${p.label} out of range`);
      insns[p.at]!.off = off;
    }
    return { insns, notes: [...this.#notes] };
  }

  /** build(), encoded for BPF_PROG_LOAD. */
  bytes(): Uint8Array {
    return encode(this.build().insns);
  }
}
