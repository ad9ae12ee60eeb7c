// The jail's filter with a listener (native/src/notify.c): which answers go to the monitor, the
// calls it saw as denials for the run report, and learn mode's policy file.
import { ABIS, X32_BIT, machineFor, type Abi } from "./abi.js";
import { RET } from "./bpf.js";

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
  const out = withExecPrefix(program, arch);
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
  const m = machineFor(arch);
  if (!m) throw new Error(`markForListener: no tables for ${arch}`);
  const insns: [number, number, number, number][] = []; // code, jt, jf, k
  const abis = [m.native, ...m.foreign].map((n) => ABIS[n]);
  for (const abi of abis) {
    const ex = abi.numbers.get("execve"), exat = abi.numbers.get("execveat");
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

/** One kind of call the monitor saw (notify.c's "call" event). */
export interface CallEvent {
  ev: "call";
  arch: number;
  nr: number;
  ret: number;
  count: number;
  args: string[];
  vals: string[][];
}

/** A refused call of a run report. */
export interface Denial {
  syscall: string;
  abi: string;
  /** The first call's six argument registers (hex). */
  args: string[];
  count: number;
  /** The policy text that refused it: a fragment or file, when known. */
  rule: string;
  /** What the caller got: "errno EPERM", "errno ENOSYS", ... */
  action: string;
}

/** The ABI of an audit arch and call number (x32 numbers carry their bit). */
export function abiOf(arch: number, nr: number): Abi | undefined {
  if (arch === ABIS.x86_64.auditArch) return nr & X32_BIT ? ABIS.x32 : ABIS.x86_64;
  return Object.values(ABIS).find((a) => a.auditArch === arch);
}

/** The call's name for a number ("#470" when unknown). */
export function nameOf(arch: number, nr: number): { name: string; abi: string } {
  const abi = abiOf(arch, nr);
  const n = abi?.names.get(nr);
  return { name: n?.[0] ?? `#${nr}`, abi: abi?.name ?? `arch-0x${arch.toString(16)}` };
}

/** The denials among the calls seen (errno answers), most frequent first. `ruleOf` names the
 * policy text behind a call, when the caller knows it. */
export function denialsOf(calls: readonly CallEvent[], errnoName: (n: number) => string, ruleOf?: (name: string) => string): Denial[] {
  return calls
    .filter((c) => ((c.ret & RET.ACTION_FULL) >>> 0) === RET.ERRNO)
    .map((c) => {
      const { name, abi } = nameOf(c.arch, c.nr);
      return {
        syscall: name, abi, count: c.count, args: c.args.map((a) => `0x${BigInt(a).toString(16)}`),
        rule: ruleOf?.(name) ?? "", action: `errno ${errnoName(c.ret & RET.DATA)}`,
      };
    })
    .sort((a, b) => b.count - a.count || a.syscall.localeCompare(b.syscall));
}

/** Which argument (0-based) of a call is a constant worth a condition in a learned policy: the
 * socket family, the ioctl request, clone's flags, fcntl's command, prctl's option. */
const CONST_ARG: Readonly<Record<string, number>> = {
  socket: 0, socketpair: 0, ioctl: 1, clone: 0, unshare: 0, fcntl: 1, fcntl64: 1, prctl: 0, personality: 0,
};

/** The policy file learn mode writes: the calls that ran (and were allowed), with a condition on
 * the constant argument where it took at most 8 values, and counts as comments. `old` is a
 * learned file to merge with (its allow lines are kept). */
export function learnedPolicy(calls: readonly CallEvent[], old = ""): string {
  const allow = new Map<string, { count: number; vals: Set<string> | "any" }>();
  for (const line of old.split("\n")) {
    const m = /^([a-z0-9_]+)(?: arg(\d) in \[([0-9x, ]*)\])? allow/.exec(line.trim());
    if (!m) continue;
    const cur = allow.get(m[1]!) ?? { count: 0, vals: new Set<string>() };
    if (!m[2] || cur.vals === "any") cur.vals = "any";
    else for (const v of m[3]!.split(",").map((s) => s.trim()).filter(Boolean)) cur.vals.add(BigInt(v).toString());
    const c = /# (\d+) call/.exec(line);
    cur.count += c ? Number(c[1]) : 0;
    allow.set(m[1]!, cur);
  }
  for (const c of calls) {
    const act = (c.ret & RET.ACTION_FULL) >>> 0;
    if (act !== RET.ALLOW && act !== RET.LOG) continue;
    const { name } = nameOf(c.arch, c.nr);
    if (name.startsWith("#")) continue;
    const cur = allow.get(name) ?? { count: 0, vals: new Set<string>() };
    cur.count += c.count;
    const a = CONST_ARG[name];
    const vals = a === undefined ? undefined : c.vals[a];
    if (a === undefined || !vals || vals.includes("*") || cur.vals === "any") cur.vals = "any";
    else for (const v of vals) cur.vals.add(v);
    allow.set(name, cur);
  }
  const lines = [
    "# learned by sysjail --learn: the calls this program made (merged with earlier runs)",
    "# run it with: sysjail --replace-policy --policy THIS-FILE ...",
  ];
  for (const [name, { count, vals }] of [...allow].sort((a, b) => a[0].localeCompare(b[0]))) {
    const a = CONST_ARG[name];
    const cond = vals === "any" || a === undefined || vals.size === 0 || vals.size > 8
      ? "" : ` arg${a} in [${[...vals].map((v) => `0x${BigInt(v).toString(16)}`).join(", ")}]`;
    lines.push(`${name}${cond} allow${" ".repeat(Math.max(1, 40 - name.length - cond.length))}# ${count} call${count === 1 ? "" : "s"}`);
  }
  return `${lines.join("\n")}\n`;
}
