// ABIs and machines: which system call ABIs a kernel runs for a host architecture, with their numbers.
import * as aarch64 from "./tables/aarch64.js";
import * as arm from "./tables/arm.js";
import * as i386 from "./tables/i386.js";
import * as x32 from "./tables/x32.js";
import * as x86_64 from "./tables/x86_64.js";
import type { AbiName } from "./types.js";

/** AUDIT_ARCH_* values (linux/audit.h): EM_* | 64-bit flag | little-endian flag. */
export const AUDIT_ARCH = {
  x86_64: 0xc000003e,
  i386: 0x40000003,
  aarch64: 0xc00000b7,
  arm: 0x40000028,
} as const;

/** The bit that marks an x32 system call number on x86_64. */
export const X32_BIT = 0x40000000;

/** One system call ABI: its audit arch, register width and numbers. */
export interface Abi {
  name: AbiName;
  auditArch: number;
  /** Register (and so argument) width. */
  bits: 32 | 64;
  /** name -> number. */
  numbers: ReadonlyMap<string, number>;
  /** number -> names (several names may share a number). */
  names: ReadonlyMap<number, readonly string[]>;
  /** Kernel version of the table. */
  kernel: string;
}

function makeAbi(name: AbiName, auditArch: number, bits: 32 | 64, t: { version: string; numbers: Readonly<Record<string, number>> }): Abi {
  const numbers = new Map(Object.entries(t.numbers));
  const names = new Map<number, string[]>();
  for (const [n, v] of numbers) names.set(v, [...(names.get(v) ?? []), n]);
  return { name, auditArch, bits, numbers, names, kernel: t.version };
}

/** Every ABI, by name. */
export const ABIS: Readonly<Record<AbiName, Abi>> = {
  x86_64: makeAbi("x86_64", AUDIT_ARCH.x86_64, 64, x86_64),
  x32: makeAbi("x32", AUDIT_ARCH.x86_64, 64, x32),
  i386: makeAbi("i386", AUDIT_ARCH.i386, 32, i386),
  aarch64: makeAbi("aarch64", AUDIT_ARCH.aarch64, 64, aarch64),
  arm: makeAbi("arm", AUDIT_ARCH.arm, 32, arm),
};

/** A host kind: its native ABI, the compat ABIs its kernel may also run, and x32 where it exists. */
export interface Machine {
  name: AbiName;
  native: AbiName;
  foreign: AbiName[];
  x32?: AbiName;
}

const MACHINES: Record<string, Machine> = {
  x86_64: { name: "x86_64", native: "x86_64", foreign: ["i386"], x32: "x32" },
  aarch64: { name: "aarch64", native: "aarch64", foreign: ["arm"] },
  i386: { name: "i386", native: "i386", foreign: [] },
  arm: { name: "arm", native: "arm", foreign: [] },
};

const ALIASES: Record<string, string> = { x64: "x86_64", amd64: "x86_64", arm64: "aarch64", ia32: "i386", x86: "i386" };

/** The machine for Node's process.arch name or an ABI name; undefined if sysjail has no tables for it. */
export function machineFor(arch: string): Machine | undefined {
  return MACHINES[ALIASES[arch] ?? arch];
}

/** Names of the machines sysjail can compile for. */
export function machineNames(): string[] {
  return Object.keys(MACHINES);
}

/** True if some ABI's table knows the call name. */
export function isKnownCall(name: string): boolean {
  return Object.values(ABIS).some((a) => a.numbers.has(name));
}

/** Every call name any table knows (sorted). */
export function allCallNames(): string[] {
  const s = new Set<string>();
  for (const a of Object.values(ABIS)) for (const n of a.numbers.keys()) s.add(n);
  return [...s].sort();
}

/** The call's name(s) for a number, for listings ("getppid", or "#470" when unknown). */
export function callName(abi: Abi, nr: number): string {
  const n = abi.names.get(nr);
  return n ? n.join("/") : `#${nr}`;
}
