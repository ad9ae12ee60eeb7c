// Policy types: rules per system call, their actions and argument conditions, as the library takes them.

/** What the filter answers for a call. */
export type Action =
  | { kind: "allow" }
  /** Fail the call with this errno (1..4095) without running it. */
  | { kind: "errno"; errno: number }
  /** Kill the whole process (SECCOMP_RET_KILL_PROCESS). */
  | { kind: "kill" }
  /** Run the call and log it to the audit log (SECCOMP_RET_LOG). */
  | { kind: "log" }
  /** Deliver SIGSYS to the thread, si_errno carrying `data` (SECCOMP_RET_TRAP). */
  | { kind: "trap"; data?: number };

/** Comparison operators; all comparisons are unsigned. */
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** Bits of an argument the kernel reads: 64 for long and pointers, 32 for int, 16 for umode_t. */
export type ArgWidth = 16 | 32 | 64;

/**
 * One comparison of a register argument: `(arg & mask) op value`, on `width` bits.
 * Values and masks are taken modulo 2^width, so -1 means "all ones" at any width.
 * Without a width, the compiler uses the width the kernel reads for that parameter when it knows
 * the call's signature, else 64; 32-bit ABIs never compare more than the low 32 bits.
 */
export interface Comparison {
  arg: number;
  op: CompareOp;
  value: bigint | number;
  mask?: bigint | number;
  width?: ArgWidth;
}

/** A condition: comparisons combined with and, or and not. */
export type Condition = Comparison | { and: Condition[] } | { or: Condition[] } | { not: Condition };

/** Where a rule came from, for error messages. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/** A rule for one system call (by name); the last rule that matches a call decides. */
export interface CallRule {
  kind: "call";
  call: string;
  action: Action;
  when?: Condition;
  at?: SourcePos;
}

/** The action for every call that no rule names (default: errno ENOSYS). */
export interface DefaultRule {
  kind: "default";
  action: Action;
  at?: SourcePos;
}

/** ABI names sysjail knows. */
export type AbiName = "x86_64" | "i386" | "x32" | "aarch64" | "arm";

/** Whether an ABI runs with the policy translated to its numbers, or is refused (ENOSYS) whole. */
export type AbiMode = "translate" | "refuse";

/** Choice for an ABI: "foreign" is every compat ABI of the machine (i386 on x86_64, arm on aarch64). */
export interface AbiRule {
  kind: "abi";
  abi: "foreign" | AbiName;
  mode: AbiMode;
  at?: SourcePos;
}

/** A policy is an ordered list of rules. */
export type Rule = CallRule | DefaultRule | AbiRule;

/** What compilePolicy targets: the machine and what to do with its other ABIs. */
export interface Target {
  /** Node's process.arch ("x64", "arm64", "ia32", "arm") or an ABI name ("x86_64", "aarch64", ...). */
  arch: string;
  /** Foreign ABIs (i386 on x86_64, arm on aarch64): default "translate". */
  foreign?: AbiMode;
  /** x32 on x86_64: default "refuse". */
  x32?: AbiMode;
}

/** A compiled filter: struct sock_filter[] bytes (little-endian) and its figures. */
export interface CompiledFilter {
  program: Uint8Array;
  instructions: number;
  /** Longest path through the program, in instructions executed (including the return). */
  worstPath: number;
  /** ABIs the filter lets run (native first); refused ABIs are not listed. */
  arches: string[];
}
