// The jail's filter with a listener (native/src/notify.c): which answers go to the monitor.
// Loaded at a listening jail's start, so it carries its few call numbers itself rather than the
// system-call tables (test/seccomp/pledge.test.ts checks them against the tables).
import { RET } from "./bpf.js";
import { runFilter } from "./interpreter.js";

/** execve and execveat of each ABI, with its audit arch. */
const X86_64 = { auditArch: 0xc000003e, nrs: [59, 322] }, I386 = { auditArch: 0x40000003, nrs: [11, 358] };
const AARCH64 = { auditArch: 0xc00000b7, nrs: [221, 281] }, ARM = { auditArch: 0x40000028, nrs: [11, 387] };
/** Per machine (Node's or uname's name), execve and execveat of its native and foreign ABIs. */
export const EXEC_NUMBERS: Readonly<Record<string, readonly { auditArch: number; nrs: number[] }[]>> = {
  x64: [X86_64, I386], x86_64: [X86_64, I386], arm64: [AARCH64, ARM], aarch64: [AARCH64, ARM], ia32: [I386], i386: [I386], arm: [ARM],
};

/** sendmsg's number in the helper's own (native) ABI, per arch: the listener's hand-over call. */
const SENDMSG: Readonly<Record<string, number>> = { x64: 46, x86_64: 46, arm64: 211, aarch64: 211, ia32: 370, i386: 370, arm: 296 };

/** seccomp(2)'s SECCOMP_FILTER_FLAG_NEW_LISTENER. */
export const FLAG_NEW_LISTENER = 8;
/** The TRAP data that marks the jail's one exec under a pledge without "exec" (notify.c). */
export const EXEC_ONCE = 0xe0e;

/** How the monitor listens: "answer" refusals (explained denials), or "learn" every call. */
export type ListenMode = "answer" | "learn";

/** The program the kernel runs: every errno answer (and the exec-once mark; in learn mode also
 * every allow and log answer) becomes USER_NOTIF, so that call goes to the monitor, which
 * answers from the unmarked program. Kill answers stay kills; allowed calls (outside learn
 * mode) never reach the monitor and cost nothing more. */
export function markForListener(program: Uint8Array, mode: ListenMode, arch: string): Uint8Array {
  // the filter cache (src/jail/filter.ts) hands out the same program for the same policy, and
  // nothing writes into a program once made: mark it once per process, not at every start
  const key = `${mode} ${arch}`;
  const seen = marked.get(program)?.get(key);
  if (seen) return seen;
  const out = markProgram(program, mode, arch);
  const byKey = marked.get(program) ?? new Map<string, Uint8Array>();
  byKey.set(key, out);
  marked.set(program, byKey);
  return out;
}

/** Marked programs by their unmarked program, then by mode and arch. */
const marked = new WeakMap<Uint8Array, Map<string, Uint8Array>>();

/** A listening jail's filter: PROGRAM marked, FLAGS with NEW_LISTENER, and how the listener
 * reaches the monitor. `handOver`: the command sends it on its exec channel (SCM_RIGHTS) right
 * after loading the filter and execs without waiting (no exec prefix) -- chosen only when the
 * marked program itself lets that sendmsg through whatever its arguments (it reads none for
 * sendmsg in the helper's ABI and allows it), so the hand-over can never wait on a listener
 * nobody holds yet. Otherwise the exec prefix (markForListener) keeps the command's exec
 * waiting until the monitor has taken the listener with pidfd_getfd. */
export function listeningFilter(program: Uint8Array, flags: number, mode: ListenMode, arch: string): { program: Uint8Array; flags: number; handOver: boolean } {
  const key = `send ${mode} ${arch}`;
  let out = marked.get(program)?.get(key);
  if (!out) {
    out = markRets(new Uint8Array(program), mode); // a copy (Buffer.slice would share the bytes)
    const byKey = marked.get(program) ?? new Map<string, Uint8Array>();
    byKey.set(key, out);
    marked.set(program, byKey);
  }
  if (sendmsgPasses(out, arch)) return { program: out, flags: flags | FLAG_NEW_LISTENER, handOver: true };
  return { program: markForListener(program, mode, arch), flags: flags | FLAG_NEW_LISTENER, handOver: false };
}

/** PROGRAM answers the helper's sendmsg with ALLOW without reading an argument. */
function sendmsgPasses(program: Uint8Array, arch: string): boolean {
  const nr = SENDMSG[arch], abi = EXEC_NUMBERS[arch]?.[0];
  if (nr === undefined || !abi) return false;
  try {
    const r = runFilter(program, { nr, arch: abi.auditArch });
    return !r.readArgs && ((r.ret & RET.ACTION_FULL) >>> 0) === RET.ALLOW;
  } catch {
    return false;
  }
}

function markProgram(program: Uint8Array, mode: ListenMode, arch: string): Uint8Array {
  return markRets(withExecPrefix(program, arch), mode);
}

/** OUT with its errno (and exec-once; in learn mode also allow and log) returns made USER_NOTIF, in place. */
function markRets(out: Uint8Array, mode: ListenMode): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i + 8 <= out.length; i += 8) {
    if (dv.getUint16(i, true) !== 0x06) continue; // BPF_RET | BPF_K
    const k = dv.getUint32(i + 4, true), action = (k & RET.ACTION_FULL) >>> 0;
    const mark = action === RET.ERRNO || (action === RET.TRAP && (k & RET.DATA) === EXEC_ONCE)
      || (mode === "learn" && (action === RET.ALLOW || action === RET.LOG));
    if (mark) dv.setUint32(i + 4, RET.USER_NOTIF, true);
  }
  return out;
}

/** PROGRAM with a prefix that sends every execve and execveat to the monitor (which answers
 * them from the unmarked program, so the policy is unchanged): the command's own exec then waits
 * until the monitor holds the listener, which it takes before any code of the jail runs. */
function withExecPrefix(program: Uint8Array, arch: string): Uint8Array {
  const abis = EXEC_NUMBERS[arch];
  if (!abis) throw new Error(`markForListener: no exec numbers for ${arch}`);
  const insns: [number, number, number, number][] = []; // code, jt, jf, k
  for (const abi of abis) {
    const [ex, exat] = abi.nrs;
    // 5 instructions a block; NOTIF sits 2 after the last block (past a `ja 1`)
    const left = (abis.length - 1 - abis.indexOf(abi)) * 5;
    insns.push([0x20, 0, 0, 4]); // ld [arch]
    insns.push([0x15, 0, 3, abi.auditArch]); // jeq arch ? next : next block
    insns.push([0x20, 0, 0, 0]); // ld [nr]
    insns.push([0x15, left + 2, 0, ex ?? 0xffffffff]); // jeq execve -> NOTIF
    insns.push([0x15, left + 1, 0, exat ?? 0xffffffff]); // jeq execveat -> NOTIF
  }
  insns.push([0x05, 0, 0, 1]); // ja over NOTIF
  insns.push([0x06, 0, 0, RET.USER_NOTIF]); // ret USER_NOTIF
  const out = new Uint8Array(insns.length * 8 + program.length);
  const dv = new DataView(out.buffer);
  insns.forEach(([code, jt, jf, k], i) => { dv.setUint16(i * 8, code, true); dv.setUint8(i * 8 + 2, jt); dv.setUint8(i * 8 + 3, jf); dv.setUint32(i * 8 + 4, k >>> 0, true); });
  out.set(program, insns.length * 8);
  return out;
}

