// A small eBPF interpreter for tests: runs generated programs against made-up contexts, packets
// and maps, so their decisions can be checked without a kernel. It covers what sysjail emits
// (ALU, jumps, loads and stores, 64-bit loads of map references, helper calls); it is not a verifier.
import { decode, E, isLdImm64, PSEUDO, type Insn } from "./insn.js";

/** A memory region a pointer can point into. `ptrs` gives pointer-valued fields by offset. */
export interface Mem {
  name: string;
  bytes: Uint8Array;
  ptrs?: Map<number, Ptr>;
  /** Offsets the program may write (default: all). */
  writable?: (off: number, size: number) => boolean;
}

/** A pointer: a region and an offset into it. */
export interface Ptr {
  mem: Mem;
  off: number;
}

type Val = bigint | Ptr;

/** Helper implementations by id; they get the argument registers r1-r5 and the machine. */
export type HelperFn = (args: Val[], vm: Machine) => Val;

/** What a run needs: the context, the maps (by fd_array index) and the helpers. */
export interface RunOptions {
  ctx: Mem;
  maps?: Mem[];
  helpers?: Record<number, HelperFn>;
  /** Stop after this many instructions (a runaway loop is a bug in the program). */
  maxSteps?: number;
}

/** The machine state helpers may use to read and write memory. */
export interface Machine {
  read(p: Ptr, size: number): Uint8Array;
  write(p: Ptr, data: Uint8Array): void;
}

const M64 = (1n << 64n) - 1n;
const isPtr = (v: Val): v is Ptr => typeof v === "object";

/** A fresh region of `size` zero bytes. */
export function mem(name: string, size: number): Mem {
  return { name, bytes: new Uint8Array(size) };
}

function check(p: Ptr, size: number): void {
  if (p.off < 0 || p.off + size > p.mem.bytes.byteLength) throw new RangeError(`access ${p.mem.name}[${p.off}..+${size}] out of bounds`);
}

function load(p: Ptr, size: number): Val {
  const ptr = p.mem.ptrs?.get(p.off);
  if (ptr) return ptr;
  check(p, size);
  const dv = new DataView(p.mem.bytes.buffer, p.mem.bytes.byteOffset);
  switch (size) {
    case 1: return BigInt(dv.getUint8(p.off));
    case 2: return BigInt(dv.getUint16(p.off, true));
    case 4: return BigInt(dv.getUint32(p.off, true));
    default: return dv.getBigUint64(p.off, true);
  }
}

function store(p: Ptr, size: number, v: Val): void {
  if (isPtr(v)) throw new Error(`storing a pointer into ${p.mem.name} is not modelled`);
  check(p, size);
  if (p.mem.writable && !p.mem.writable(p.off, size)) throw new Error(`write to read-only ${p.mem.name}[${p.off}]`);
  const dv = new DataView(p.mem.bytes.buffer, p.mem.bytes.byteOffset);
  if (size === 1) dv.setUint8(p.off, Number(v & 0xffn));
  else if (size === 2) dv.setUint16(p.off, Number(v & 0xffffn), true);
  else if (size === 4) dv.setUint32(p.off, Number(v & 0xffffffffn), true);
  else dv.setBigUint64(p.off, v & M64, true);
}

const SIZES: Record<number, number> = { [E.W]: 4, [E.H]: 2, [E.B]: 1, [E.DW]: 8 };

function scalar(v: Val, what: string): bigint {
  if (isPtr(v)) throw new Error(`${what}: pointer used as a number`);
  return v;
}

function alu(op: number, a: Val, b: bigint, wide: boolean): Val {
  if (isPtr(a)) {
    if (op === E.ADD) return { mem: a.mem, off: a.off + Number(BigInt.asIntN(64, b)) };
    if (op === E.SUB) return { mem: a.mem, off: a.off - Number(BigInt.asIntN(64, b)) };
    throw new Error("pointer arithmetic other than add/sub");
  }
  const mask = wide ? M64 : 0xffffffffn;
  const bits = wide ? 64 : 32;
  const x = a & mask, y = b & mask;
  let r: bigint;
  switch (op) {
    case E.ADD: r = x + y; break;
    case E.SUB: r = x - y; break;
    case E.MUL: r = x * y; break;
    case E.DIV: r = y === 0n ? 0n : x / y; break;
    case E.MOD: r = y === 0n ? x : x % y; break;
    case E.OR: r = x | y; break;
    case E.AND: r = x & y; break;
    case E.XOR: r = x ^ y; break;
    case E.LSH: r = x << (y & BigInt(bits - 1)); break;
    case E.RSH: r = x >> (y & BigInt(bits - 1)); break;
    case E.ARSH: r = BigInt.asIntN(bits, x) >> (y & BigInt(bits - 1)); break;
    case E.MOV: r = y; break;
    case E.NEG: r = -x; break;
    default: throw new Error(`alu op 0x${op.toString(16)}`);
  }
  return r & mask;
}

function cond(op: number, a: Val, b: Val, wide: boolean): boolean {
  if (isPtr(a) || isPtr(b)) {
    if (isPtr(a) && isPtr(b) && a.mem === b.mem) return cond(op, BigInt(a.off), BigInt(b.off), true);
    if (isPtr(a) && !isPtr(b) && b === 0n && (op === E.JEQ || op === E.JNE)) return op === E.JNE; // non-null pointer
    throw new Error("comparison of unrelated pointers");
  }
  const bits = wide ? 64 : 32;
  const x = BigInt.asUintN(bits, a), y = BigInt.asUintN(bits, b);
  const sx = BigInt.asIntN(bits, a), sy = BigInt.asIntN(bits, b);
  switch (op) {
    case E.JEQ: return x === y;
    case E.JNE: return x !== y;
    case E.JGT: return x > y;
    case E.JGE: return x >= y;
    case E.JLT: return x < y;
    case E.JLE: return x <= y;
    case E.JSET: return (x & y) !== 0n;
    case E.JSGT: return sx > sy;
    case E.JSGE: return sx >= sy;
    case E.JSLT: return sx < sy;
    case E.JSLE: return sx <= sy;
    default: throw new Error(`jump op 0x${op.toString(16)}`);
  }
}

/** Runs a program; resolves to r0 at exit. Throws on anything the kernel's verifier would refuse
 * that the interpreter notices (bad access, pointer misuse, unknown helper). */
export function run(prog: Uint8Array | readonly Insn[], opts: RunOptions): bigint {
  const insns = prog instanceof Uint8Array ? decode(prog) : prog;
  const stack = mem("stack", 512);
  const regs: Val[] = Array.from({ length: 11 }, () => 0n);
  regs[1] = { mem: opts.ctx, off: 0 };
  regs[10] = { mem: stack, off: 512 };
  const vm: Machine = {
    read: (p, size) => { check(p, size); return p.mem.bytes.slice(p.off, p.off + size); },
    write: (p, data) => { check(p, data.byteLength); p.mem.bytes.set(data, p.off); },
  };
  const max = opts.maxSteps ?? 100000;
  let pc = 0;
  for (let steps = 0; steps < max; steps++) {
    const i = insns[pc];
    if (!i) throw new Error(`fell off the end at ${pc}`);
    const cls = i.code & 0x07, op = i.code & 0xf0, x = (i.code & 0x08) !== 0;
    const src = (): bigint => (x ? scalar(regs[i.src]!, `insn ${pc}`) : BigInt(i.imm));
    switch (cls) {
      case E.ALU64:
      case E.ALU: {
        const wide = cls === E.ALU64;
        if (op === E.MOV && x) regs[i.dst] = wide ? regs[i.src]! : scalar(regs[i.src]!, `insn ${pc}`) & 0xffffffffn;
        else if (op === E.END) {
          const v = scalar(regs[i.dst]!, `insn ${pc}`), n = i.imm / 8;
          let out = 0n;
          for (let b = 0; b < n; b++) out = (out << 8n) | ((v >> BigInt(8 * b)) & 0xffn);
          regs[i.dst] = x ? out : v & ((1n << BigInt(i.imm)) - 1n);
        } else regs[i.dst] = alu(op, op === E.MOV ? 0n : regs[i.dst]!, wide ? BigInt.asUintN(64, src()) : src(), wide);
        pc++;
        break;
      }
      case E.LDX: {
        const base = regs[i.src]!;
        if (!isPtr(base)) throw new Error(`insn ${pc}: load through a number`);
        regs[i.dst] = load({ mem: base.mem, off: base.off + i.off }, SIZES[i.code & 0x18]!);
        pc++;
        break;
      }
      case E.STX:
      case E.ST: {
        const base = regs[i.dst]!;
        if (!isPtr(base)) throw new Error(`insn ${pc}: store through a number`);
        const v = cls === E.STX ? regs[i.src]! : BigInt(i.imm);
        store({ mem: base.mem, off: base.off + i.off }, SIZES[i.code & 0x18]!, v);
        pc++;
        break;
      }
      case E.LD: {
        if (!isLdImm64(i)) throw new Error(`insn ${pc}: unsupported load 0x${i.code.toString(16)}`);
        if (i.src === PSEUDO.MAP_IDX) {
          const m = opts.maps?.[i.imm];
          if (!m) throw new Error(`insn ${pc}: no map at index ${i.imm}`);
          regs[i.dst] = { mem: m, off: 0 };
        } else {
          regs[i.dst] = (BigInt.asUintN(32, BigInt(insns[pc + 1]?.imm ?? 0)) << 32n) | BigInt.asUintN(32, BigInt(i.imm));
        }
        pc += 2;
        break;
      }
      case E.JMP:
      case E.JMP32: {
        if (cls === E.JMP && op === E.EXIT) return scalar(regs[0]!, "exit");
        if (cls === E.JMP && op === E.CALL) {
          const fn = opts.helpers?.[i.imm];
          if (!fn) throw new Error(`insn ${pc}: helper ${i.imm} not provided`);
          regs[0] = fn(regs.slice(1, 6), vm);
          for (let r = 1; r <= 5; r++) regs[r] = 0n;
          pc++;
          break;
        }
        if (cls === E.JMP && op === E.JA) { pc += 1 + i.off; break; }
        const b: Val = x ? regs[i.src]! : BigInt(i.imm);
        pc += cond(op, regs[i.dst]!, b, cls === E.JMP) ? 1 + i.off : 1;
        break;
      }
      default:
        throw new Error(`insn ${pc}: unsupported class ${cls}`);
    }
  }
  throw new Error(`no exit after ${max} instructions`);
}
