// The terminal guard: a fixed second seccomp filter that refuses TIOCSTI and TIOCLINUX whatever
// the jail's own policy says. A foreground jail's command holds the caller's terminal: with
// TIOCSTI it could type commands into the admin's shell (TIOCLINUX pastes on a virtual console).
// The default policy refuses both; a policy file that allows ioctl (or --replace-policy) would
// not, so this filter is stacked under it: the kernel runs every filter and the most
// restrictive answer wins. Hand-assembled (no system-call table loaded at start-up).
import { argWord, DATA, encode, ins, BPF, RET, type Insn } from "./bpf.js";

const EPERM = 1;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
/** [audit arch, ioctl numbers]: x86_64 (and x32), i386 (also on x86_64), arm, aarch64. */
const ARCHES: [number, number[]][] = [
  [0xc000003e, [16, 0x40000000 + 514]],
  [0x40000003, [54]],
  [0x40000028, [54]],
  [0xc00000b7, [29]],
];

let program: Uint8Array | undefined;

/** The guard's program (the same for every host: it names each architecture's ioctl). */
export function ttyGuardProgram(): Uint8Array {
  if (program) return program;
  // layout: per arch a block [jeq arch (A = arch), ld nr, jeq n...]; then ALLOW, CHECK, DENY
  const blocks: Insn[][] = ARCHES.map(([arch, nrs]) => [
    ins.jmp(BPF.JEQ, arch, 0, 0), ins.ldAbs(DATA.nr), ...nrs.map((n) => ins.jmp(BPF.JEQ, n, 0, 0)),
  ]);
  const out: Insn[] = [ins.ldAbs(DATA.arch)];
  for (const b of blocks) out.push(...b);
  const allow = out.length;
  out.push(ins.ret(RET.ALLOW));
  const check = out.length;
  out.push(ins.ldAbs(argWord(1, 0)), ins.jmp(BPF.JEQ, TIOCSTI, 0, 0), ins.jmp(BPF.JEQ, TIOCLINUX, 0, 0), ins.ret(RET.ALLOW));
  const deny = out.length;
  out.push(ins.ret(RET.ERRNO | EPERM));
  const rel = (from: number, to: number) => to - from - 1;
  let blockStart = 1;
  for (const b of blocks) {
    const next = blockStart + b.length;
    // jeq arch: on to the block's own load, else the next block (or ALLOW after the last)
    out[blockStart] = { ...out[blockStart]!, jt: 0, jf: rel(blockStart, next === allow ? allow : next) };
    for (let i = 2; i < b.length; i++) {
      const at = blockStart + i;
      out[at] = { ...out[at]!, jt: rel(at, check), jf: i === b.length - 1 ? rel(at, allow) : 0 };
    }
    blockStart = next;
  }
  out[check + 1] = { ...out[check + 1]!, jt: rel(check + 1, deny), jf: 0 };
  out[check + 2] = { ...out[check + 2]!, jt: rel(check + 2, deny), jf: 0 };
  program = encode(out);
  return program;
}

/** Whether a jail's own policy needs the guard: only a policy file (or a replaced default)
 * can let TIOCSTI or TIOCLINUX through; the default policy refuses both itself. */
export function needsTtyGuard(policy: { files: readonly string[]; replaceDefault: boolean }): boolean {
  return policy.files.length > 0 || policy.replaceDefault;
}
