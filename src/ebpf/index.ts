// The eBPF toolkit: instruction encoding, the assembler, the disassembler and a test interpreter.
export { E, PSEUDO, INSN_SIZE, MAX_PROG_INSNS, encode, decode, isLdImm64, type Insn } from "./insn.js";
export { Asm, R, type Reg, type Size, type AluOp, type JmpOp, type Program } from "./asm.js";
export { disassemble, formatInsn, type CtxKind, type ListingOptions } from "./disasm.js";
export { run, mem, type Mem, type Ptr, type HelperFn, type RunOptions, type Machine } from "./interp.js";
export * from "./abi.js";
