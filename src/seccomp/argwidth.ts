// How many bits of each register argument the kernel reads, for calls whose parameters are narrower
// than a register.
//
// Security reasoning: SYSCALL_DEFINE wrappers take every argument as a full register and cast it to
// the declared C type, so for an `int` or `unsigned int` parameter the kernel ignores the high 32 bits
// (and for umode_t, everything above bit 15). seccomp_data holds the full register. A rule such as
// "ioctl cmd == TIOCSTI -> EPERM" compared on 64 bits is bypassed by setting any high bit: the filter
// sees 0x1_00005412, which is not TIOCSTI, and the kernel runs TIOCSTI. So a comparison must look at
// exactly the bits the kernel uses. This table gives those widths for the calls policies filter on;
// for calls not listed, comparisons are on all 64 bits (write `argN:32` to narrow one by hand).
// On 32-bit ABIs (i386, arm) no comparison ever looks above the low 32 bits: compat entry code only
// uses the low half of each register, whatever the upper half holds.
import type { ArgWidth } from "./types.js";

const L = 64, I = 32, M = 16;

const WIDTHS: Readonly<Record<string, readonly ArgWidth[]>> = {
  socket: [I, I, I],
  socketpair: [I, I, I, L],
  bind: [I, L, I], connect: [I, L, I], listen: [I, I], accept4: [I, L, L, I], shutdown: [I, I],
  setsockopt: [I, I, I, L, I], getsockopt: [I, I, I, L, L],
  sendto: [I, L, L, I, L, I], recvfrom: [I, L, L, I, L, L], sendmsg: [I, L, I], recvmsg: [I, L, I],
  ioctl: [I, I, L],
  fcntl: [I, I, L],
  // legacy clone uses lower_32_bits(flags); unshare checks every bit of its unsigned long
  clone: [I, L, L, L, L],
  unshare: [L],
  setns: [I, I],
  mknod: [L, M, I],
  mknodat: [I, L, M, I],
  open: [L, I, M], openat: [I, L, I, M], creat: [L, M],
  chmod: [L, M], fchmod: [I, M], fchmodat: [I, L, M], fchmodat2: [I, L, M, I], mkdir: [L, M], mkdirat: [I, L, M],
  personality: [I],
  prctl: [I, L, L, L, L],
  prlimit64: [I, I, L, L],
  setrlimit: [I, L], getrlimit: [I, L],
  kill: [I, I], tkill: [I, I], tgkill: [I, I, I],
  reboot: [I, I, I, L],
  sethostname: [L, I], setdomainname: [L, I],
  umount2: [L, I],
  keyctl: [I, L, L, L, L],
  bpf: [I, L, I],
  perf_event_open: [L, I, I, I, L],
  userfaultfd: [I],
  io_uring_setup: [I, L],
  madvise: [L, L, I],
  mprotect: [L, L, L],
  getrandom: [L, L, I],
  seccomp: [I, I, L],
  clock_settime: [I, L], clock_adjtime: [I, L],
  syslog: [I, L, I],
  quotactl: [I, L, I, L],
  ptrace: [L, L, L, L],
  close: [I], dup: [I], dup2: [I, I], dup3: [I, I, I],
  read: [I, L, L], write: [I, L, L],
  setuid: [I], setgid: [I], setreuid: [I, I], setregid: [I, I], setresuid: [I, I, I], setresgid: [I, I, I],
  msgget: [I, I], semget: [I, I, I], shmget: [I, L, I],
};

/** The width the kernel reads for argument `arg` of `call` on a 64-bit ABI (64 when unknown). */
export function knownArgWidth(call: string, arg: number): ArgWidth {
  if (!Object.hasOwn(WIDTHS, call)) return 64;
  return WIDTHS[call]?.[arg] ?? 64;
}
