// Classic BPF as seccomp uses it: opcodes, struct sock_filter encoding, seccomp_data offsets, return values.
import { errnoName } from "../errors.js";
import type { Action } from "./types.js";

/** One struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Instruction classes and fields (linux/bpf_common.h). */
export const BPF = {
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  W: 0x00, H: 0x08, B: 0x10,
  IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0,
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80,
  MOD: 0x90, XOR: 0xa0,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00, X: 0x08, A: 0x10,
  TAX: 0x00, TXA: 0x80,
} as const;

/** The kernel's limit on one filter's length (BPF_MAXINSNS). */
export const MAX_INSNS = 4096;

/** Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6] (u64, little-endian here). */
export const DATA = { nr: 0, arch: 4, ip: 8, args: 16, size: 64 } as const;

/** Offset of the low (half 0) or high (half 1) 32-bit word of argument i on a little-endian machine. */
export function argWord(i: number, half: 0 | 1): number {
  return DATA.args + 8 * i + 4 * half;
}

/** SECCOMP_RET_* values (linux/seccomp.h). */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  ACTION_FULL: 0xffff0000,
  DATA: 0x0000ffff,
} as const;

/** The 32-bit return value for an action. */
export function actionValue(a: Action): number {
  switch (a.kind) {
    case "allow": return RET.ALLOW;
    case "errno": return (RET.ERRNO | (a.errno & RET.DATA)) >>> 0;
    case "kill": return RET.KILL_PROCESS;
    case "log": return RET.LOG;
    case "trap": return (RET.TRAP | ((a.data ?? 0) & RET.DATA)) >>> 0;
  }
}

/** Encodes instructions as the struct sock_filter array the kernel loads (little-endian). */
export function encode(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((ins, i) => {
    view.setUint16(i * 8, ins.code, true);
    view.setUint8(i * 8 + 2, ins.jt);
    view.setUint8(i * 8 + 3, ins.jf);
    view.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}

/** Decodes a struct sock_filter array; the length must be a multiple of 8. */
export function decode(program: Uint8Array): Insn[] {
  if (program.length % 8 !== 0) throw new RangeError(`BPF program of ${program.length} bytes is not a whole number of instructions`);
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const out: Insn[] = [];
  for (let off = 0; off < program.length; off += 8) {
    out.push({ code: view.getUint16(off, true), jt: view.getUint8(off + 2), jf: view.getUint8(off + 3), k: view.getUint32(off + 4, true) });
  }
  return out;
}

/** Constructors for the instructions the compiler emits. */
export const ins = {
  ldAbs: (off: number): Insn => ({ code: BPF.LD | BPF.W | BPF.ABS, jt: 0, jf: 0, k: off }),
  andK: (k: number): Insn => ({ code: BPF.ALU | BPF.AND | BPF.K, jt: 0, jf: 0, k: k >>> 0 }),
  jmp: (op: number, k: number, jt: number, jf: number): Insn => ({ code: BPF.JMP | op | BPF.K, jt, jf, k: k >>> 0 }),
  ja: (k: number): Insn => ({ code: BPF.JMP | BPF.JA, jt: 0, jf: 0, k }),
  ret: (k: number): Insn => ({ code: BPF.RET | BPF.K, jt: 0, jf: 0, k: k >>> 0 }),
};

/** Readable text for a seccomp return value: "allow", "errno EPERM", "kill", "trap 0", ... */
export function retName(k: number): string {
  const action = (k & RET.ACTION_FULL) >>> 0, data = k & RET.DATA;
  switch (action) {
    case RET.ALLOW: return "allow";
    case RET.ERRNO: return `errno ${errnoName(data)}`;
    case RET.KILL_PROCESS: return "kill";
    case RET.KILL_THREAD: return "kill-thread";
    case RET.LOG: return "log";
    case RET.TRAP: return `trap ${data}`;
    case RET.TRACE: return `trace ${data}`;
    case RET.USER_NOTIF: return "user-notif";
    default: return `ret 0x${(k >>> 0).toString(16)}`;
  }
}
