// The disassembler: seccomp BPF as readable text, and the annotated listing of a compiled policy.
import { AUDIT_ARCH, X32_BIT } from "./abi.js";
import { wordName } from "./assemble.js";
import { actionValue, BPF, DATA, decode, MAX_INSNS, retName, type Insn } from "./bpf.js";
import type { Compilation } from "./compile.js";
import type { Note } from "./dag.js";

const ALU_OPS: Record<number, string> = {
  [BPF.ADD]: "add", [BPF.SUB]: "sub", [BPF.MUL]: "mul", [BPF.DIV]: "div", [BPF.OR]: "or", [BPF.AND]: "and",
  [BPF.LSH]: "lsh", [BPF.RSH]: "rsh", [BPF.NEG]: "neg", [BPF.MOD]: "mod", [BPF.XOR]: "xor",
};
const JMP_OPS: Record<number, string> = { [BPF.JEQ]: "jeq", [BPF.JGT]: "jgt", [BPF.JGE]: "jge", [BPF.JSET]: "jset" };
const ARCH_NAMES = new Map<number, string>(Object.entries(AUDIT_ARCH).map(([n, v]) => [v, `AUDIT_ARCH_${n.toUpperCase()}`]));

function hex(k: number): string {
  return "0x" + (k >>> 0).toString(16);
}

/** One instruction as text; `loaded` is the seccomp_data offset last loaded (to print nr in decimal). */
export function formatInsn(i: Insn, at: number, loaded: number | undefined): string {
  const cls = i.code & 0x07;
  const mode = i.code & 0xe0;
  switch (cls) {
    case BPF.LD:
      if (mode === BPF.ABS) return `ld    [${i.k}]`;
      if (mode === BPF.IMM) return `ld    #${hex(i.k)}`;
      if (mode === BPF.MEM) return `ld    M[${i.k}]`;
      if (mode === BPF.LEN) return "ld    #len";
      return `ld?   code ${hex(i.code)}`;
    case BPF.LDX:
      if (mode === BPF.IMM) return `ldx   #${hex(i.k)}`;
      if (mode === BPF.MEM) return `ldx   M[${i.k}]`;
      if (mode === BPF.LEN) return "ldx   #len";
      return `ldx?  code ${hex(i.code)}`;
    case BPF.ST: return `st    M[${i.k}]`;
    case BPF.STX: return `stx   M[${i.k}]`;
    case BPF.ALU: {
      const op = ALU_OPS[i.code & 0xf0] ?? "alu?";
      if ((i.code & 0xf0) === BPF.NEG) return "neg";
      return `${op.padEnd(5)} ${(i.code & BPF.X) ? "x" : "#" + hex(i.k)}`;
    }
    case BPF.JMP: {
      const op = i.code & 0xf0;
      if (op === BPF.JA) return `ja    ${at + 1 + i.k}`;
      const name = JMP_OPS[op] ?? "j?";
      const operand = (i.code & BPF.X) ? "x" : loaded === DATA.nr && i.k < X32_BIT ? `#${i.k}` : `#${hex(i.k)}`;
      return `${name.padEnd(5)} ${operand.padEnd(12)} ? ${at + 1 + i.jt} : ${at + 1 + i.jf}`;
    }
    case BPF.RET:
      return (i.code & 0x18) === BPF.A ? "ret   a" : `ret   ${retName(i.k)}`;
    case BPF.MISC:
      return (i.code & 0xf8) === BPF.TXA ? "txa" : "tax";
    default:
      return `???   code ${hex(i.code)}`;
  }
}

/** A program as lines `index  instruction  ; note`, with optional region headers. */
export function disassemble(program: Uint8Array | readonly Insn[], notes?: readonly (Note | undefined)[], headers?: ReadonlyMap<number, string>): string {
  const p = program instanceof Uint8Array ? decode(program) : program;
  const width = String(p.length).length;
  const lines: string[] = [];
  let loaded: number | undefined;
  p.forEach((i, n) => {
    const h = headers?.get(n);
    if (h) lines.push(`; -- ${h}`);
    const given = notes?.[n];
    let note = typeof given === "function" ? given() : given ?? "";
    if (!note && (i.code & 0x07) === BPF.LD && (i.code & 0xe0) === BPF.ABS) note = wordName(i.k);
    if (!note && (i.code & 0x07) === BPF.JMP && loaded === DATA.arch) note = ARCH_NAMES.get(i.k) ?? "";
    const text = `${String(n).padStart(width)}  ${formatInsn(i, n, loaded)}`;
    lines.push(note ? `${text.padEnd(40)} ; ${note}` : text);
    if ((i.code & 0x07) === BPF.LD && (i.code & 0xe0) === BPF.ABS) loaded = i.k;
  });
  return lines.join("\n");
}

/** The --policy-dump text: a header naming the machine, ABIs and figures, then the annotated program. */
export function listing(c: Compilation, source: string): string {
  const f = c.filter;
  const native = c.plans[0]!.abi;
  const abiLine = (p: Compilation["plans"][number]) => {
    const how = p.mode === "refuse"
      ? "refused whole: every call fails with ENOSYS"
      : p.role === "native" ? "native: the policy as written" : "the same policy, translated to its own numbers (emulation)";
    const arch = p.role === "x32" ? `AUDIT_ARCH 0x${p.abi.auditArch.toString(16)}, numbers with bit 0x40000000` : `AUDIT_ARCH 0x${p.abi.auditArch.toString(16)}`;
    const extra = p.abi.name === "i386" && p.mode === "translate" ? "; socketcall and ipc refused (ENOSYS), libc uses the direct calls" : "";
    return `;   ${p.abi.name.padEnd(8)} ${arch}: ${how}${extra}`;
  };
  const header = [
    `; sysjail seccomp-BPF filter for ${c.machine.name} hosts (system call tables from Linux ${native.kernel})`,
    `; policy: ${source}`,
    `; ABIs, told apart by seccomp_data.arch (AUDIT_ARCH)${c.machine.x32 ? " and, for x32, by the number" : ""}:`,
    ...c.plans.map(abiLine),
    ";   any other arch: the process is killed",
    `; calls no rule names: ${retName(actionValue(c.defaultAction))}`,
    `; ${f.instructions} instructions (the kernel loads at most ${MAX_INSNS}), worst path ${f.worstPath} instructions`,
    "; argument-independent calls return from number tests alone (the kernel's action cache applies);",
    "; struct sock_filter, little-endian; jumps show their targets as ? true : false",
    "",
  ];
  return header.join("\n") + disassemble(c.asm.insns, c.asm.notes, c.asm.headers) + "\n";
}
