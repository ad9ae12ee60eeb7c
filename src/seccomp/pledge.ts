// pledge(2)'s promises as rules of our policy language: each promise grants a group of calls (some
// only with conditions on their register arguments); a pledge refuses every call its promises do
// not grant. It is appended after the default policy (and any policy files), so it only narrows.
import { allCallNames } from "./abi.js";
import { parsePolicyFile } from "./parser.js";
import { EXEC_ONCE } from "./mark.js";
import type { Rule } from "./types.js";
import type { PromiseName } from "./promises.js";

/** A grant: a call, allowed always or only when the condition (our policy language) holds. */
type Grant = [call: string, when?: string];

// open(2) flags as the kernel reads them (x86, arm and aarch64 agree on these bits).
const O_ACCMODE = 3, O_CREAT = 0x40, O_TRUNC = 0x200, O_TMPFILE = 0x400000;
const OPEN_MASK = O_ACCMODE | O_CREAT | O_TRUNC | O_TMPFILE;
const AT_EMPTY_PATH = 0x1000;
const PROT_EXEC = 4;
const CLONE_THREAD = 0x10000;

const all = (...calls: string[]): Grant[] => calls.map((c) => [c]);

/** The promises and the calls each grants (docs/PLEDGE.md lists them in words). `open`-like calls
 * are not here: their flags decide which promise they need (openGrants). */
export const PROMISES: Readonly<Record<PromiseName, readonly Grant[]>> = {
  stdio: [
    ...all("read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
      "close", "close_range", "dup", "dup2", "dup3", "fstat", "fstat64", "lseek", "_llseek", "fsync", "fdatasync",
      "ftruncate", "ftruncate64", "sendfile", "sendfile64", "splice", "tee", "copy_file_range",
      "munmap", "madvise", "mremap", "msync", "mincore", "mlock", "munlock", "brk", "membarrier",
      "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
      "getuid32", "geteuid32", "getgid32", "getegid32", "getresuid32", "getresgid32", "getgroups32",
      "getpgid", "getpgrp", "getsid", "getrlimit", "ugetrlimit", "getrusage", "times", "getpriority", "getcpu",
      "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64", "gettimeofday", "time",
      "nanosleep", "clock_nanosleep", "clock_nanosleep_time64", "getitimer", "setitimer", "alarm", "pause",
      "exit", "exit_group", "restart_syscall", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigreturn",
      "rt_sigsuspend", "rt_sigpending", "rt_sigtimedwait", "rt_sigtimedwait_time64", "sigaltstack", "tgkill", "tkill",
      "getrandom", "futex", "futex_time64", "futex_waitv", "set_robust_list", "get_robust_list", "set_tid_address",
      "rseq", "arch_prctl", "set_thread_area", "get_thread_area", "sched_yield", "sched_getaffinity",
      "sched_getparam", "sched_getscheduler", "uname", "umask", "getcwd", "pipe", "pipe2",
      "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64", "shutdown",
      "getsockname", "getpeername", "getsockopt",
      "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
      "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
      "eventfd", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime", "timerfd_settime64",
      "timerfd_gettime64", "signalfd", "signalfd4", "wait4", "waitid", "capget", "ARM_set_tls", "ARM_cacheflush"),
    ["socketpair", "arg0 == AF_UNIX"],
    ["prlimit64", "arg0 == 0 && arg2 == 0"],
    ["fcntl", "arg1 not in [5, 6, 7, 12, 13, 14, 36, 37, 38]"],
    ["fcntl64", "arg1 not in [5, 6, 7, 12, 13, 14, 36, 37, 38]"],
    ["ioctl", "arg1 in [FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TCGETS]"],
    ["prctl", "arg0 in [PR_SET_NAME, PR_GET_NAME, 0x53564d41, 3, 4]"],
    ["newfstatat", `arg3 & ${AT_EMPTY_PATH} != 0`],
    ["fstatat64", `arg3 & ${AT_EMPTY_PATH} != 0`],
    ["statx", `arg2 & ${AT_EMPTY_PATH} != 0`],
    // Threads are stdio (OpenBSD's __tfork); a new process needs proc.
    ["clone", `arg0 & ${CLONE_THREAD} != 0`],
    // Without prot_exec, only a mapping of a file may be executable (what the dynamic loader
    // does); anonymous memory never becomes executable, and mprotect never adds PROT_EXEC.
    ["mmap", `arg2 & ${PROT_EXEC} == 0 || arg4:32 != 0xffffffff`],
    ["mmap2", `arg2 & ${PROT_EXEC} == 0 || arg4:32 != 0xffffffff`],
    ["mprotect", `arg2 & ${PROT_EXEC} == 0`],
    ["pkey_mprotect", `arg2 & ${PROT_EXEC} == 0`],
  ],
  rpath: all("stat", "lstat", "stat64", "lstat64", "newfstatat", "fstatat64", "statx", "statfs", "statfs64", "fstatfs",
    "fstatfs64", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "chdir",
    "fchdir", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "getxattrat", "listxattrat"),
  wpath: all("truncate", "truncate64"),
  cpath: all("mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat",
    "symlink", "symlinkat"),
  dpath: all("mknod", "mknodat"),
  tmppath: [],
  fattr: all("chmod", "fchmod", "fchmodat", "fchmodat2", "utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "setxattrat", "removexattrat"),
  chown: all("chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32"),
  flock: all("flock", "fcntl", "fcntl64"),
  inet: [["socket", "arg0 in [AF_INET, AF_INET6]"], ["socketpair", "arg0 in [AF_INET, AF_INET6]"], ...sockCalls(),
    ["setsockopt", "!(arg1 == 0 && arg2 in [32, 33, 34, 35, 36, 39, 40, 41, 42, 43, 44, 45, 46]) && !(arg1 == 41 && arg2 in [17, 18, 19, 20, 21])"]],
  mcast: all("setsockopt"),
  unix: [["socket", "arg0 == AF_UNIX"], ...sockCalls(), ...all("setsockopt")],
  dns: [["socket", "arg0 in [AF_INET, AF_INET6] && arg1 & SOCK_TYPE_MASK == SOCK_DGRAM"], ...all("connect", "bind", "getsockname")],
  route: [["socket", "arg0 == AF_NETLINK && arg2 == NETLINK_ROUTE"], ...all("bind", "getsockname")],
  tty: [["ioctl", "arg1 in [TCGETS, TCSETS, 0x5403, 0x5404, TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP, TIOCSPGRP, TIOCSCTTY, 0x80045430, 0x40045431, 0x540b, 0x540a, 0x5409]"]],
  proc: [...all("fork", "vfork", "clone", "kill", "setpgid", "setsid", "setpriority", "prlimit64", "setrlimit",
    "sched_setaffinity", "sched_setscheduler", "sched_setparam", "unshare")],
  exec: all("execve", "execveat"),
  prot_exec: all("mmap", "mmap2", "mprotect", "pkey_mprotect"),
  settime: all("settimeofday", "clock_settime", "clock_settime64", "adjtimex", "clock_adjtime", "clock_adjtime64"),
  id: all("setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
    "setuid32", "setgid32", "setreuid32", "setregid32", "setresuid32", "setresgid32", "setgroups32", "setfsuid32",
    "setfsgid32", "capset"),
  vminfo: all("sysinfo"),
  // Accepted for OpenBSD programs, with nothing beyond stdio on Linux: the filter cannot see what
  // they govern there (sysctl names, SCM_RIGHTS in a message's memory, the path of a tmp file,
  // device ioctls of OpenBSD's own drivers); files they need come with rpath and unveil.
  ps: [], getpw: [], sendfd: [], recvfd: [], audio: [], video: [], bpf: [], pf: [], disklabel: [], drm: [], vmm: [],
  wroute: [], tape: [], unveil: [],
  error: [],
};

function sockCalls(): Grant[] {
  return all("connect", "bind", "listen", "accept", "accept4", "getsockname", "getpeername", "getsockopt");
}

/** Calls C libraries try and fall back from on ENOSYS: a pledge answers ENOSYS, never kills. */
const PROBED = ["clone3", "openat2", "io_uring_setup", "io_uring_enter", "io_uring_register", "statmount", "listmount"];

/** The condition under which open/openat/creat are allowed for these promises: an exact list of
 * the (access mode, O_CREAT, O_TRUNC, O_TMPFILE) combinations the promises grant. */
function openValues(p: Set<string>): number[] {
  const out: number[] = [];
  for (const acc of [0, 1, 2]) for (const creat of [0, O_CREAT]) for (const trunc of [0, O_TRUNC]) for (const tmp of [0, O_TMPFILE]) {
    if (creat && tmp) continue;
    const reads = acc === 0 || acc === 2, writes = acc === 1 || acc === 2 || trunc !== 0;
    if (reads && !p.has("rpath")) continue;
    if (writes && !p.has("wpath")) continue;
    if (creat && !p.has("cpath")) continue;
    if (tmp && !(p.has("cpath") || p.has("tmppath"))) continue;
    out.push(acc | creat | trunc | tmp);
  }
  return out;
}

/** The policy text of a pledge: for each call no promise grants outright, one rule refusing it
 * unless one of its grants' conditions holds. `kill` (SIGSYS) unless the promises include
 * `error`, which answers EPERM instead. */
export function pledgePolicyText(promises: readonly string[], execOnce = true): string {
  const p = new Set(promises);
  const action = p.has("error") ? "errno EPERM" : "kill";
  const conds = new Map<string, string[] | "always">();
  for (const name of p) {
    for (const [call, when] of PROMISES[name as PromiseName] ?? []) {
      const cur = conds.get(call);
      if (cur === "always") continue;
      if (when === undefined) conds.set(call, "always");
      else conds.set(call, [...(cur ?? []), when]);
    }
  }
  const ov = openValues(p);
  const openCond = (arg: number) => (ov.length ? [`arg${arg} & ${OPEN_MASK} in [${ov.join(", ")}]`] : []);
  conds.set("open", openCond(1));
  conds.set("openat", openCond(2));
  conds.set("creat", p.has("cpath") && p.has("wpath") ? "always" : []);
  const lines = [`# pledge "${promises.join(" ")}"`];
  for (const call of allCallNames().sort()) {
    if (PROBED.includes(call)) { lines.push(`${call} errno ENOSYS`); continue; }
    // A jail's command is started by an exec under its filter: without "exec", that one exec
    // goes to the monitor's listener, which lets it run and refuses every later one (notify.c).
    if (execOnce && !p.has("exec") && (call === "execve" || call === "execveat")) { lines.push(`${call} trap ${EXEC_ONCE}`); continue; }
    const c = conds.get(call);
    if (c === "always") continue;
    if (!c || c.length === 0) lines.push(`${call} ${action}`);
    else lines.push(`${call} !(${c.map((x) => `(${x})`).join(" || ")}) ${action}`);
  }
  return lines.join("\n") + "\n";
}

/** The rules of a pledge, to append after the rest of a policy. */
export function pledgeRules(promises: readonly string[], execOnce = true): Rule[] {
  return parsePolicyFile(pledgePolicyText(promises, execOnce), `<pledge>`);
}
