// The disassembler: eBPF instructions as text in the kernel verifier's notation, with context
// field names and the assembler's notes, for `sysjail --policy-dump` and the tests.
import { CTX_FIELDS, HELPER_NAMES } from "./abi.js";
import { decode, E, isLdImm64, PSEUDO, type Insn } from "./insn.js";

const ALU_SYM: Record<number, string> = {
  [E.ADD]: "+=", [E.SUB]: "-=", [E.MUL]: "*=", [E.DIV]: "/=", [E.OR]: "|=", [E.AND]: "&=", [E.LSH]: "<<=",
  [E.RSH]: ">>=", [E.MOD]: "%=", [E.XOR]: "^=", [E.MOV]: "=", [E.ARSH]: "s>>=",
};
const JMP_SYM: Record<number, string> = {
  [E.JEQ]: "==", [E.JNE]: "!=", [E.JGT]: ">", [E.JGE]: ">=", [E.JLT]: "<", [E.JLE]: "<=", [E.JSET]: "&",
  [E.JSGT]: "s>", [E.JSGE]: "s>=", [E.JSLT]: "s<", [E.JSLE]: "s<=",
};
const SIZE_NAME: Record<number, string> = { [E.W]: "u32", [E.H]: "u16", [E.B]: "u8", [E.DW]: "u64" };

/** Which context a program gets in r1, to name the fields it loads. */
export type CtxKind = keyof typeof CTX_FIELDS;

function hex(v: number): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

function offs(off: number): string {
  return off < 0 ? `${off}` : `+${off}`;
}

/** One instruction as text; `next` is the second slot of a 64-bit load. */
export function formatInsn(i: Insn, pc: number, next?: Insn): string {
  const cls = i.code & 0x07;
  const op = i.code & 0xf0;
  const x = (i.code & 0x08) !== 0;
  switch (cls) {
    case E.ALU64:
    case E.ALU: {
      const r = cls === E.ALU64 ? "r" : "w";
      if (op === E.NEG) return `${r}${i.dst} = -${r}${i.dst}`;
      if (op === E.END) return `r${i.dst} = ${x ? "be" : "le"}${i.imm} r${i.dst}`;
      const sym = ALU_SYM[op];
      if (!sym) return `(unknown alu ${hex(i.code)})`;
      return `${r}${i.dst} ${sym} ${x ? `${r}${i.src}` : hex(i.imm)}`;
    }
    case E.LDX:
      return `r${i.dst} = *(${SIZE_NAME[i.code & 0x18]} *)(r${i.src} ${offs(i.off)})`;
    case E.STX:
      return `*(${SIZE_NAME[i.code & 0x18]} *)(r${i.dst} ${offs(i.off)}) = r${i.src}`;
    case E.ST:
      return `*(${SIZE_NAME[i.code & 0x18]} *)(r${i.dst} ${offs(i.off)}) = ${hex(i.imm)}`;
    case E.LD:
      if (isLdImm64(i)) {
        if (i.src === PSEUDO.MAP_IDX) return `r${i.dst} = map[idx:${i.imm}]`;
        if (i.src === PSEUDO.MAP_FD) return `r${i.dst} = map[fd:${i.imm}]`;
        const v = (BigInt.asUintN(32, BigInt(next?.imm ?? 0)) << 32n) | BigInt.asUintN(32, BigInt(i.imm));
        return `r${i.dst} = 0x${v.toString(16)} ll`;
      }
      return `(unknown ld ${hex(i.code)})`;
    case E.JMP:
    case E.JMP32: {
      if (cls === E.JMP && op === E.EXIT) return "exit";
      if (cls === E.JMP && op === E.CALL) return `call ${HELPER_NAMES[i.imm] ? `bpf_${HELPER_NAMES[i.imm]}` : "helper"}#${i.imm}`;
      if (cls === E.JMP && op === E.JA) return `goto ${pc + 1 + i.off}`;
      const sym = JMP_SYM[op];
      if (!sym) return `(unknown jmp ${hex(i.code)})`;
      const r = cls === E.JMP ? "r" : "w";
      return `if ${r}${i.dst} ${sym} ${x ? `${r}${i.src}` : hex(i.imm)} goto ${pc + 1 + i.off}`;
    }
    default:
      return `(unknown ${hex(i.code)})`;
  }
}

/** Listing options: the context kind names loads from the context; notes come from the assembler. */
export interface ListingOptions {
  ctx?: CtxKind;
  notes?: readonly (string | undefined)[];
}

/** A whole program, one numbered line per instruction. Registers known to hold the context
 * (r1 at entry, and copies of it) get their loads named after the context field. */
export function disassemble(prog: Uint8Array | readonly Insn[], opts: ListingOptions = {}): string {
  const insns = prog instanceof Uint8Array ? decode(prog) : prog;
  const ctxRegs = new Set<number>([1]);
  const lines: string[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    const i = insns[pc]!;
    const wide = isLdImm64(i);
    let text = formatInsn(i, pc, wide ? insns[pc + 1] : undefined);
    const extra: string[] = [];
    const cls = i.code & 0x07;
    if (opts.ctx && cls === E.LDX && ctxRegs.has(i.src)) {
      const f = CTX_FIELDS[opts.ctx][i.off];
      if (f) extra.push(`ctx.${f}`);
      else {
        const base = Object.entries(CTX_FIELDS[opts.ctx]).filter(([o]) => Number(o) <= i.off).pop();
        if (base) extra.push(`ctx.${base[1]}+${i.off - Number(base[0])}`);
      }
    }
    if (opts.ctx && cls === E.STX && ctxRegs.has(i.dst)) {
      const f = CTX_FIELDS[opts.ctx][i.off];
      if (f) extra.push(`writes ctx.${f}`);
    }
    // follow which registers hold the context pointer (straight-line approximation)
    if ((cls === E.ALU64 && (i.code & 0xf0) === E.MOV && (i.code & 0x08)) && ctxRegs.has(i.src)) ctxRegs.add(i.dst);
    else if (cls === E.JMP && (i.code & 0xf0) === E.CALL) for (const r of [0, 1, 2, 3, 4, 5]) ctxRegs.delete(r);
    else if (cls === E.ALU64 || cls === E.ALU || cls === E.LDX || wide) ctxRegs.delete(i.dst);
    const note = opts.notes?.[pc];
    if (note) extra.push(note);
    if (extra.length) text = `${text.padEnd(40)} ; ${extra.join("; ")}`;
    lines.push(`${String(pc).padStart(4)}: ${text}`);
    if (wide) {
      pc++;
      lines.push(`${String(pc).padStart(4)}: (second half of the 64-bit load)`);
    }
  }
  return lines.join("\n") + "\n";
}
