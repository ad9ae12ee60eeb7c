// What the probe (fixtures/probe.c) must print for each rule of the default policy, on every ABI
// the kernel runs. Shared by the real-kernel tests: kernel.test.ts (filter loaded by a small
// loader, outside any jail) and jail.integration.test.ts (through `sysjail` in a real jail).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One probe run: sysjail flags, probe arguments, and the expected output line. */
export interface ProbeCase {
  name: string;
  /** sysjail --allow-* flags (the same PolicyOptions for the loader). */
  flags?: string[];
  /** Probe arguments; `{tmp}` is a writable scratch directory. */
  args: string[];
  want: RegExp;
  /** Expected output when the probe runs as jailed root (where the kernel itself refuses more). */
  inJail?: RegExp;
  /** Expected output when run by host root outside any jail. */
  onHost?: RegExp;
}

const E = (name: string) => new RegExp(`^err ${name}$`);
const OK = /^ok \d+$/;
const KEY = "0x5157a11"; // a SysV key no one uses: msgget without IPC_CREAT fails with ENOENT when allowed

export const CASES: ProbeCase[] = [
  // socket families and raw sockets, sysjail(1) semantics
  { name: "socket inet", args: ["socket", "2", "1", "0"], want: OK },
  { name: "socket inet6", args: ["socket", "10", "2", "0"], want: OK },
  { name: "socket unix", args: ["socket", "1", "1", "0"], want: OK },
  { name: "socket netlink route", args: ["socket", "16", "3", "0"], want: OK },
  { name: "socket netlink audit", args: ["socket", "16", "3", "9"], want: E("EPROTONOSUPPORT") },
  { name: "socket AF_ALG", args: ["socket", "38", "5", "0"], want: E("EPROTONOSUPPORT") },
  { name: "socket AF_PACKET", args: ["socket", "17", "3", "0"], want: E("EPERM") },
  { name: "socket raw inet", args: ["socket", "2", "3", "1"], want: E("EPERM") },
  { name: "socket IPPROTO_RAW (the kernel alone would say EPROTONOSUPPORT)", args: ["socket", "2", "2", "255"], want: E("EPERM") },
  { name: "socket AF_VSOCK", args: ["socket", "40", "1", "0"], want: E("EPROTONOSUPPORT") },
  { name: "socket AF_PACKET with a high half (int family)", args: ["sys", "41", "0xffffffff00000011", "3", "0"], want: E("EPERM") },
  { name: "socketpair unix", args: ["socketpair", "1", "1", "0"], want: OK },
  { name: "socketpair AF_ALG", args: ["socketpair", "38", "5", "0"], want: E("EPROTONOSUPPORT") },
  { name: "--allow-all-domains: AF_ALG", flags: ["--allow-all-domains"], args: ["socket", "38", "5", "0"], want: /^(ok \d+|err EAFNOSUPPORT)$/ },
  { name: "--allow-all-domains: AF_PACKET stays raw", flags: ["--allow-all-domains"], args: ["socket", "17", "3", "0"], want: E("EPERM") },
  { name: "--allow-all-domains: AF_VSOCK stays refused", flags: ["--allow-all-domains"], args: ["socket", "40", "1", "0"], want: E("EPROTONOSUPPORT") },
  { name: "--allow-raw-sockets: raw inet", flags: ["--allow-raw-sockets"], args: ["socket", "2", "3", "1"], want: OK },
  { name: "--allow-raw-sockets: AF_PACKET", flags: ["--allow-raw-sockets"], args: ["socket", "17", "3", "0"], want: OK },
  { name: "--allow-raw-sockets: AF_ALG stays refused", flags: ["--allow-raw-sockets"], args: ["socket", "38", "5", "0"], want: E("EPROTONOSUPPORT") },
  // System V IPC
  { name: "msgget", args: ["sys", "68", KEY, "0"], want: E("EPERM") },
  { name: "semget", args: ["sys", "64", KEY, "1", "0"], want: E("EPERM") },
  { name: "shmget", args: ["sys", "29", KEY, "4096", "0"], want: E("EPERM") },
  { name: "--allow-ipc: msgget", flags: ["--allow-ipc"], args: ["sys", "68", KEY, "0"], want: E("ENOENT") },
  // file flags
  { name: "chattr", args: ["chattr", "{tmp}/flags"], want: E("EPERM") },
  { name: "FS_IOC_FSSETXATTR", args: ["fsxattr", "{tmp}/flags"], want: E("EPERM") },
  { name: "FS_IOC32_SETFLAGS (the 32-bit number)", args: ["file-ioctl", "{tmp}/flags", "0x40046602"], want: E("EPERM") },
  { name: "--allow-chflags: FS_IOC32_SETFLAGS", flags: ["--allow-chflags"], args: ["file-ioctl", "{tmp}/flags", "0x40046602"], want: /^(ok 0|err (ENOTTY|EOPNOTSUPP|ENOTSUP|EINVAL))$/ },
  { name: "file_setattr", args: ["sys", "469", "-100", "0", "0", "0", "0"], want: E("EPERM") },
  { name: "--allow-chflags: chattr", flags: ["--allow-chflags"], args: ["chattr", "{tmp}/flags"], want: /^(ok 0|err (ENOTTY|EOPNOTSUPP|ENOTSUP|EINVAL))$/ },
  { name: "--allow-chflags: file_setattr", flags: ["--allow-chflags"], args: ["sys", "469", "-100", "0", "0", "0", "0"], want: /^err (EINVAL|EFAULT|E2BIG)$/ },
  // resource limits
  { name: "raise a hard limit", args: ["rlimit-raise"], want: /^(ok 0|err EPERM)$/, inJail: E("EPERM") },
  { name: "--allow-rlimit: still no raising a hard limit in a jail", flags: ["--allow-rlimit"], args: ["rlimit-raise"], want: /^(ok 0|err EPERM)$/, inJail: E("EPERM") },
  { name: "own limits", args: ["prlimit-self"], want: /^ok 0$/ },
  { name: "another process's limits", args: ["prlimit-child"], want: E("EPERM") },
  { name: "--allow-rlimit: another process's limits", flags: ["--allow-rlimit"], args: ["prlimit-child"], want: /^ok 0$/ },
  // host name; reboot stays allowed (a jail's pid namespace turns it into "halt this jail")
  { name: "sethostname (to itself)", args: ["sethostname-same"], want: E("EPERM") },
  { name: "setdomainname (to itself)", args: ["setdomainname-same"], want: E("EPERM") },
  { name: "reboot reaches the kernel (bad magic: EINVAL)", args: ["reboot-badmagic"], want: E("EINVAL") },
  // hardening
  { name: "add_key", args: ["sys", "248", "0", "0", "0", "0", "0"], want: E("ENOSYS") },
  { name: "request_key", args: ["sys", "249", "0", "0", "0", "0"], want: E("ENOSYS") },
  { name: "keyctl", args: ["sys", "250", "0", "0", "0"], want: E("ENOSYS") },
  { name: "bpf", args: ["sys", "321", "1000", "0", "0"], want: E("EPERM") },
  { name: "perf_event_open", args: ["sys", "298", "0", "0", "-1", "-1", "0"], want: E("EACCES") },
  { name: "userfaultfd", args: ["sys", "323", "-1"], want: E("EPERM") },
  { name: "io_uring_setup", args: ["sys", "425", "1", "0"], want: E("ENOSYS") },
  { name: "io_uring_enter", args: ["sys", "426", "-1", "0", "0", "0", "0", "0"], want: E("ENOSYS") },
  { name: "io_uring_register", args: ["sys", "427", "-1", "0", "0", "0"], want: E("ENOSYS") },
  { name: "kexec_load", args: ["sys", "246", "0", "1000", "0", "0x8000"], want: E("EPERM") },
  { name: "kexec_file_load", args: ["sys", "320", "-1", "-1", "0", "0", "0x8000"], want: E("EPERM") },
  { name: "init_module", args: ["sys", "175", "0", "0", "0"], want: E("EPERM") },
  { name: "finit_module", args: ["sys", "313", "-1", "0", "0"], want: E("EPERM") },
  { name: "delete_module", args: ["sys", "176", "0", "0"], want: E("EPERM") },
  { name: "open_by_handle_at", args: ["sys", "304", "-1", "0", "0"], want: E("EPERM") },
  { name: "mount", args: ["mount-missing"], want: E("EPERM") },
  { name: "umount2", args: ["sys", "166", "0", "0"], want: E("EPERM") },
  { name: "pivot_root", args: ["sys", "155", "0", "0"], want: E("EPERM") },
  { name: "fsopen", args: ["sys", "430", "0", "0"], want: E("EPERM") },
  { name: "fsconfig", args: ["sys", "431", "-1", "0", "0", "0", "0"], want: E("EPERM") },
  { name: "fsmount", args: ["sys", "432", "-1", "0", "0"], want: E("EPERM") },
  { name: "fspick", args: ["sys", "433", "-1", "0", "0"], want: E("EPERM") },
  { name: "move_mount", args: ["sys", "429", "-1", "0", "-1", "0", "0"], want: E("EPERM") },
  { name: "open_tree", args: ["sys", "428", "-1", "0", "0"], want: E("EPERM") },
  { name: "open_tree_attr", args: ["sys", "467", "-1", "0", "0", "0", "0"], want: E("EPERM") },
  { name: "mount_setattr", args: ["sys", "442", "-1", "0", "0", "0", "0"], want: E("EPERM") },
  { name: "swapon", args: ["sys", "167", "0", "0"], want: E("EPERM") },
  { name: "swapoff", args: ["sys", "168", "0"], want: E("EPERM") },
  { name: "acct", args: ["acct-missing"], want: E("EPERM") },
  { name: "settimeofday", args: ["sys", "164", "0", "0"], want: E("EPERM") },
  { name: "clock_settime", args: ["sys", "227", "0", "0"], want: E("EPERM") },
  { name: "adjtimex", args: ["sys", "159", "0"], want: E("EPERM") },
  { name: "clock_adjtime", args: ["sys", "305", "0", "0"], want: E("EPERM") },
  { name: "syslog", args: ["sys", "103", "10", "0", "0"], want: E("EPERM") },
  { name: "iopl", args: ["sys", "172", "0"], want: E("EPERM") },
  { name: "ioperm", args: ["sys", "173", "0", "0", "0"], want: E("EPERM") },
  { name: "quotactl", args: ["sys", "179", "0", "0", "0", "0"], want: E("EPERM") },
  { name: "quotactl_fd", args: ["sys", "443", "-1", "0", "0", "0"], want: E("EPERM") },
  { name: "setns", args: ["sys", "308", "-1", "0"], want: E("EPERM") },
  { name: "personality query", args: ["sys", "135", "0xffffffff"], want: OK },
  { name: "personality ADDR_NO_RANDOMIZE", args: ["sys", "135", "0x40000"], want: OK },
  { name: "personality READ_IMPLIES_EXEC", args: ["sys", "135", "0x400000"], want: E("EPERM") },
  { name: "unshare CLONE_NEWUSER", args: ["sys", "272", "0x10000000"], want: E("EPERM") },
  { name: "clone CLONE_NEWUSER", args: ["clone-newuser"], want: E("EPERM") },
  { name: "clone3 (libc falls back to clone)", args: ["sys", "435", "0", "0"], want: E("ENOSYS") },
  { name: "TIOCSTI", args: ["tty-ioctl", "0x5412"], want: E("EPERM") },
  { name: "TIOCSTI with a high half (the kernel truncates cmd)", args: ["tty-ioctl", "0xffffffff00005412"], want: E("EPERM") },
  { name: "TIOCLINUX", args: ["tty-ioctl", "0x541c"], want: E("EPERM") },
  { name: "TCGETS still works", args: ["tty-ioctl", "0x5401"], want: /^ok 0$/ },
  { name: "mknod char device", args: ["mknod", "chr", "{tmp}/chr"], want: E("EPERM") },
  { name: "mknod block device", args: ["mknod", "blk", "{tmp}/blk"], want: E("EPERM") },
  { name: "mknod fifo", args: ["mknod", "fifo", "{tmp}/fifo"], want: /^ok 0$/ },
  { name: "mknod(2) char device", args: ["mknod-legacy", "chr", "{tmp}/chr"], want: E("EPERM") },
  { name: "mknod(2) fifo", args: ["mknod-legacy", "fifo", "{tmp}/fifo"], want: /^ok 0$/ },
  { name: "ptrace a child", args: ["ptrace-child"], want: /^ok 0$/ },
  // i386 through int $0x80: the same policy with i386 numbers
  { name: "i386 getpid", args: ["i386", "20"], want: OK },
  { name: "i386 unshare CLONE_NEWUSER", args: ["i386", "310", "0x10000000"], want: E("EPERM") },
  { name: "i386 unshare CLONE_NEWUSER, junk in the upper half of ebx", args: ["i386", "310", "0xffffffff10000000"], want: E("EPERM") },
  { name: "i386 socket inet", args: ["i386", "359", "2", "1", "0"], want: OK },
  { name: "i386 socket AF_PACKET", args: ["i386", "359", "17", "3", "0"], want: E("EPERM") },
  { name: "i386 socket AF_ALG", args: ["i386", "359", "38", "5", "0"], want: E("EPROTONOSUPPORT") },
  { name: "i386 socketcall", args: ["socketcall", "17", "3", "0"], want: E("ENOSYS") },
  { name: "i386 ipc", args: ["i386", "117", "13", KEY, "0"], want: E("ENOSYS") },
  { name: "i386 io_uring_setup", args: ["i386", "425", "1", "0"], want: E("ENOSYS") },
  { name: "i386 mount", args: ["i386", "21", "0", "0", "0", "0", "0"], want: E("EPERM") },
  { name: "i386 msgget", args: ["i386", "399", KEY, "0"], want: E("EPERM") },
  { name: "--allow-ipc: i386 msgget", flags: ["--allow-ipc"], args: ["i386", "399", KEY, "0"], want: E("ENOENT") },
  { name: "i386 keyctl", args: ["i386", "288", "0", "0"], want: E("ENOSYS") },
  { name: "i386 bpf", args: ["i386", "357", "1000", "0", "0"], want: E("EPERM") },
  { name: "i386 sethostname (NULL, 4)", args: ["i386", "74", "0", "4"], want: E("EPERM") },
  { name: "i386 stime", args: ["i386", "25", "0"], want: E("EPERM") },
  { name: "i386 clock_settime64", args: ["i386", "404", "0", "0"], want: E("EPERM") },
  { name: "i386 clock_adjtime64", args: ["i386", "405", "0", "0"], want: E("EPERM") },
  { name: "i386 umount", args: ["i386", "22", "0"], want: E("EPERM") },
  { name: "i386 umount2", args: ["i386", "52", "0", "0"], want: E("EPERM") },
  { name: "i386 clone3", args: ["i386", "435", "0", "0"], want: E("ENOSYS") },
  { name: "i386 personality READ_IMPLIES_EXEC", args: ["i386", "136", "0x400000"], want: E("EPERM") },
  // x32 is refused whole
  { name: "x32 getpid", args: ["x32", "39"], want: E("ENOSYS") },
  { name: "x32 read", args: ["x32", "0", "0", "0", "0"], want: E("ENOSYS") },
];

/** PolicyOptions fields for sysjail's --allow-* flags. */
export const FLAG_OPTIONS: Record<string, string> = {
  "--allow-raw-sockets": "allowRawSockets",
  "--allow-all-domains": "allowAllDomains",
  "--allow-ipc": "allowIpc",
  "--allow-chflags": "allowChflags",
  "--allow-rlimit": "allowRlimit",
};

/** The repository root (this file is build/test/seccomp/probe-cases.js once compiled). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Builds a fixture with gcc -static into a fresh temp dir (the caller removes it); throws, leaving
 * nothing, if it cannot: gcc and a static C library are required (docs/TESTING.md), never skipped. */
export function buildFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "sysjail-fixture-"));
  const out = join(dir, name);
  try {
    execFileSync("gcc", ["-O2", "-static", "-o", out, join(ROOT, "test", "seccomp", "fixtures", `${name}.c`)], { stdio: "pipe" });
    return out;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot build ${name} with gcc -static: ${String((e as { stderr?: Buffer }).stderr ?? e).split("\n")[0]}`);
  }
}
