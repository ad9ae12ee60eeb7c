// What the monitor's listener saw (native/src/notify.c): denials for the run report, and learn
// mode's policy file. The marks on the filter are in mark.ts (cheap to load at a start).
import { ABIS, X32_BIT, type Abi } from "./abi.js";
import { RET } from "./bpf.js";
export { EXEC_ONCE, FLAG_NEW_LISTENER, markForListener, type ListenMode } from "./mark.js";

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
  /** The policy text that refused it (the first call of its kind, by its registers): a
   * fragment or file and line, when known. */
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
 * policy text behind a call (from its name, ABI and the first call's registers), when the
 * caller knows it. */
export function denialsOf(calls: readonly CallEvent[], errnoName: (n: number) => string, ruleOf?: (name: string, abi: string, args: readonly bigint[]) => string): Denial[] {
  return calls
    .filter((c) => ((c.ret & RET.ACTION_FULL) >>> 0) === RET.ERRNO)
    .map((c) => {
      const { name, abi } = nameOf(c.arch, c.nr);
      return {
        syscall: name, abi, count: c.count, args: c.args.map((a) => `0x${BigInt(a).toString(16)}`),
        rule: ruleOf?.(name, abi, c.args.map((a) => BigInt(a))) ?? "", action: `errno ${errnoName(c.ret & RET.DATA)}`,
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
