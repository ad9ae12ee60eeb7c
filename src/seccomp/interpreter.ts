// A classic-BPF interpreter for seccomp programs (for tests and audits), the kernel's load-time
// checks, and the kernel's action-cache emulation (which calls resolve without running the filter).
import { BPF, DATA, decode, MAX_INSNS, RET, type Insn } from "./bpf.js";

/** struct seccomp_data as the filter sees it. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six register arguments (unsigned 64-bit; missing ones are 0). */
  args?: readonly (bigint | number)[];
}

/** The outcome of one run: the return value, how many instructions ran, and whether an argument was read. */
export interface RunResult {
  ret: number;
  steps: number;
  readArgs: boolean;
}

/** The 64 bytes of seccomp_data, little-endian. */
export function dataBytes(d: SeccompData): DataView {
  const v = new DataView(new ArrayBuffer(DATA.size));
  v.setUint32(DATA.nr, d.nr >>> 0, true);
  v.setUint32(DATA.arch, d.arch >>> 0, true);
  v.setBigUint64(DATA.ip, BigInt.asUintN(64, d.instructionPointer ?? 0n), true);
  for (let i = 0; i < 6; i++) v.setBigUint64(DATA.args + 8 * i, BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), true);
  return v;
}

function toInsns(p: Uint8Array | readonly Insn[]): readonly Insn[] {
  return p instanceof Uint8Array ? decode(p) : p;
}

/** Runs a seccomp filter on one call, with the kernel's semantics for the instructions seccomp accepts. */
export function runFilter(program: Uint8Array | readonly Insn[], d: SeccompData): RunResult {
  const p = toInsns(program);
  const data = dataBytes(d);
  const mem = new Uint32Array(16);
  let a = 0, x = 0, pc = 0, steps = 0, readArgs = false;
  for (;;) {
    const i = p[pc];
    if (!i) throw new Error(`BPF: ran off the end at ${pc}`);
    steps++;
    pc++;
    const cls = i.code & 0x07;
    switch (cls) {
      case BPF.LD: {
        const mode = i.code & 0xe0;
        if (mode === BPF.ABS) {
          if ((i.code & 0x18) !== BPF.W || i.k % 4 !== 0 || i.k + 4 > DATA.size) throw new Error(`BPF: bad load at ${pc - 1}`);
          if (i.k >= DATA.args) readArgs = true;
          a = data.getUint32(i.k, true);
        } else if (mode === BPF.IMM) a = i.k >>> 0;
        else if (mode === BPF.MEM) a = mem[i.k & 15]!;
        else if (mode === BPF.LEN) a = DATA.size;
        else throw new Error(`BPF: unsupported load 0x${i.code.toString(16)} at ${pc - 1}`);
        break;
      }
      case BPF.LDX: {
        const mode = i.code & 0xe0;
        if (mode === BPF.IMM) x = i.k >>> 0;
        else if (mode === BPF.MEM) x = mem[i.k & 15]!;
        else if (mode === BPF.LEN) x = DATA.size;
        else throw new Error(`BPF: unsupported ldx at ${pc - 1}`);
        break;
      }
      case BPF.ST: mem[i.k & 15] = a; break;
      case BPF.STX: mem[i.k & 15] = x; break;
      case BPF.ALU: a = alu(i, a, (i.code & BPF.X) ? x : i.k >>> 0); break;
      case BPF.JMP: {
        const op = i.code & 0xf0;
        if (op === BPF.JA) { pc += i.k; break; }
        const src = (i.code & BPF.X) ? x : i.k >>> 0;
        let taken: boolean;
        if (op === BPF.JEQ) taken = a === src;
        else if (op === BPF.JGT) taken = a > src;
        else if (op === BPF.JGE) taken = a >= src;
        else if (op === BPF.JSET) taken = (a & src) !== 0;
        else throw new Error(`BPF: bad jump at ${pc - 1}`);
        pc += taken ? i.jt : i.jf;
        break;
      }
      case BPF.RET: return { ret: ((i.code & 0x18) === BPF.A ? a : i.k) >>> 0, steps, readArgs };
      case BPF.MISC: if ((i.code & 0xf8) === BPF.TXA) a = x; else x = a; break;
      default: throw new Error(`BPF: bad instruction class at ${pc - 1}`);
    }
  }
}

function alu(i: Insn, a: number, v: number): number {
  switch (i.code & 0xf0) {
    case BPF.ADD: return (a + v) >>> 0;
    case BPF.SUB: return (a - v) >>> 0;
    case BPF.MUL: return Number((BigInt(a) * BigInt(v)) & 0xffffffffn);
    case BPF.DIV: if (v === 0) throw new Error("BPF: division by zero"); return Math.floor(a / v) >>> 0;
    case BPF.MOD: if (v === 0) throw new Error("BPF: division by zero"); return (a % v) >>> 0;
    case BPF.OR: return (a | v) >>> 0;
    case BPF.AND: return (a & v) >>> 0;
    case BPF.XOR: return (a ^ v) >>> 0;
    case BPF.LSH: return v >= 32 ? 0 : (a << v) >>> 0;
    case BPF.RSH: return v >= 32 ? 0 : a >>> v;
    case BPF.NEG: return (-a) >>> 0;
    default: throw new Error("BPF: bad ALU op");
  }
}

/**
 * The checks the kernel makes when it loads a filter (bpf_check_classic and seccomp_check_filter):
 * length, only seccomp's instruction set, aligned in-bounds loads, jumps inside the program, and
 * a return at the end. Returns the problems found (empty when the kernel would accept it).
 */
export function verifyProgram(program: Uint8Array | readonly Insn[]): string[] {
  const p = toInsns(program);
  const errs: string[] = [];
  if (p.length === 0 || p.length > MAX_INSNS) errs.push(`length ${p.length} is outside 1..${MAX_INSNS}`);
  p.forEach((i, n) => {
    const cls = i.code & 0x07;
    if (cls === BPF.LD && (i.code & 0xe0) === BPF.ABS) {
      if ((i.code & 0x18) !== BPF.W || i.k % 4 !== 0 || i.k + 4 > DATA.size) errs.push(`${n}: load outside seccomp_data`);
    } else if (cls === BPF.LD || cls === BPF.LDX) {
      const mode = i.code & 0xe0;
      if (mode !== BPF.IMM && mode !== BPF.MEM && mode !== BPF.LEN) errs.push(`${n}: load mode seccomp refuses`);
      if (mode === BPF.MEM && i.k > 15) errs.push(`${n}: scratch slot out of range`);
    } else if (cls === BPF.JMP) {
      const op = i.code & 0xf0;
      if (op === BPF.JA) { if (n + 1 + i.k >= p.length) errs.push(`${n}: ja past the end`); }
      else if (n + 1 + i.jt >= p.length || n + 1 + i.jf >= p.length) errs.push(`${n}: jump past the end`);
    } else if (cls === BPF.ALU && (i.code & 0xf0) === BPF.DIV && !(i.code & BPF.X) && i.k === 0) {
      errs.push(`${n}: division by zero`);
    }
  });
  const last = p[p.length - 1];
  if (last && (last.code & 0x07) !== BPF.RET) errs.push("last instruction is not a return");
  return errs;
}

/**
 * Mirrors the kernel's seccomp_is_const_allow(): with only nr and arch known, follow the filter
 * through `ld nr/arch`, `ja`, `jeq/jge/jgt/jset #k` and `and #k`; the call is cached as allowed
 * when that reaches `ret ALLOW`. Anything else (an argument load) means "run the filter each time".
 */
export function isCachedAllow(program: Uint8Array | readonly Insn[], arch: number, nr: number): boolean {
  const p = toInsns(program);
  let a = 0;
  for (let pc = 0; pc < p.length; pc++) {
    const i = p[pc]!;
    switch (i.code) {
      case BPF.LD | BPF.W | BPF.ABS:
        if (i.k === DATA.nr) a = nr >>> 0;
        else if (i.k === DATA.arch) a = arch >>> 0;
        else return false;
        break;
      case BPF.RET | BPF.K: return i.k >>> 0 === RET.ALLOW;
      case BPF.JMP | BPF.JA: pc += i.k; break;
      case BPF.JMP | BPF.JEQ | BPF.K: pc += a === i.k >>> 0 ? i.jt : i.jf; break;
      case BPF.JMP | BPF.JGE | BPF.K: pc += a >= i.k >>> 0 ? i.jt : i.jf; break;
      case BPF.JMP | BPF.JGT | BPF.K: pc += a > i.k >>> 0 ? i.jt : i.jf; break;
      case BPF.JMP | BPF.JSET | BPF.K: pc += (a & i.k) !== 0 ? i.jt : i.jf; break;
      case BPF.ALU | BPF.AND | BPF.K: a = (a & i.k) >>> 0; break;
      default: return false;
    }
  }
  return false;
}
