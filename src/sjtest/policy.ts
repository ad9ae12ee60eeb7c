// The system-call policy (docs/POLICY.md), one test per fragment and per hardening rule, and
// per ABI: the probe makes the raw calls in a path=/ jail. Each breaks when the rule is missing
// from the filter (the kernel would answer otherwise: ENOSYS rules would reach the kernel, which
// knows those calls; most EPERM rules guard calls jail root could make in its own namespaces, or
// that the kernel would answer with EFAULT/EBADF/EINVAL for the junk arguments given).
import { E, OK, probeCheck, type Call } from "./probe.js";
import type { SjTest } from "./types.js";

const KEY = "0x5157a11"; // a SysV key no one uses

/** A test of the default policy: CALLS in a plain path=/ jail (FLAGS for --allow-*). */
function rule(name: string, calls: Call[], flags: string[] = [], arch?: string): SjTest {
  const t: SjTest = { name, run: (ctx) => probeCheck(ctx, name, { flags, calls }) };
  if (arch) t.arch = arch;
  return t;
}
const sys = (nr: number, ...a: string[]): string[] => ["sys", String(nr), ...a];
const i386 = (nr: number, ...a: string[]): string[] => ["i386", String(nr), ...a];

/** The policy's tests. */
export function policyTests(): SjTest[] {
  const tests: SjTest[] = [
    // fragments
    rule("policy-domains", [
      { args: ["socket", "38", "5", "0"], want: E("EPROTONOSUPPORT") }, // AF_ALG
      { args: ["socket", "16", "3", "9"], want: E("EPROTONOSUPPORT") }, // NETLINK_AUDIT
      { args: ["socket", "1", "1", "0"], want: OK }, // the control: AF_UNIX works
    ]),
    rule("policy-raw-sockets", [
      { args: ["socket", "17", "3", "0"], want: E("EPERM") }, // AF_PACKET
      { args: ["socket", "2", "3", "1"], want: E("EPERM") }, // raw ICMP
      { args: ["socket", "2", "2", "255"], want: E("EPERM") }, // IPPROTO_RAW
      { args: sys(41, "0xffffffff00000011", "3", "0"), want: E("EPERM") }, // AF_PACKET, junk high half
    ]),
    rule("policy-sysv-ipc", [
      { args: sys(68, KEY, "0"), want: E("EPERM") }, // msgget
      { args: sys(64, KEY, "1", "0"), want: E("EPERM") }, // semget
      { args: sys(29, KEY, "4096", "0"), want: E("EPERM") }, // shmget
    ]),
    { name: "policy-chflags", run: (ctx) => probeCheck(ctx, "chflags", { calls: [
      { args: ["write", `${ctx.shared}/flags`, "x"], want: OK },
      { args: ["file-ioctl", `${ctx.shared}/flags`, "0x40086602"], want: E("EPERM") }, // FS_IOC_SETFLAGS
      { args: ["file-ioctl", `${ctx.shared}/flags`, "0x40046602"], want: E("EPERM") }, // its 32-bit number
      { args: ["file-ioctl", `${ctx.shared}/flags`, "0x401c5820"], want: E("EPERM") }, // FS_IOC_FSSETXATTR
    ] }) },
    rule("policy-rlimit", [
      { args: ["prlimit-child"], want: E("EPERM") },
      { args: ["sys", "302", "0", "7", "0", "0"], want: /^ok 0$/ }, // the control: reading its own
    ]),
    rule("policy-hostname", [
      { args: ["sethostname-same"], want: E("EPERM") },
      { args: ["setdomainname-same"], want: E("EPERM") },
    ]),
    // hardening rules
    rule("seccomp-keyrings", [
      { args: sys(248, "0", "0", "0", "0", "0"), want: E("ENOSYS") },
      { args: sys(249, "0", "0", "0", "0"), want: E("ENOSYS") },
      { args: sys(250, "0", "0", "0"), want: E("ENOSYS") },
    ]),
    rule("seccomp-bpf", [{ args: sys(321, "1000", "0", "0"), want: E("EPERM") }]),
    rule("seccomp-perf-event-open", [{ args: sys(298, "0", "0", "-1", "-1", "0"), want: E("EACCES") }]),
    rule("seccomp-userfaultfd", [{ args: sys(323, "-1"), want: E("EPERM") }]),
    rule("seccomp-io-uring", [
      { args: sys(425, "1", "0"), want: E("ENOSYS") },
      { args: sys(426, "-1", "0", "0", "0", "0", "0"), want: E("ENOSYS") },
      { args: sys(427, "-1", "0", "0", "0"), want: E("ENOSYS") },
    ]),
    rule("seccomp-kexec", [
      { args: sys(246, "0", "1000", "0", "0x8000"), want: E("EPERM") },
      { args: sys(320, "-1", "-1", "0", "0", "0x8000"), want: E("EPERM") },
    ]),
    rule("seccomp-modules", [
      { args: sys(175, "0", "0", "0"), want: E("EPERM") },
      { args: sys(313, "-1", "0", "0"), want: E("EPERM") },
      { args: sys(176, "0", "0"), want: E("EPERM") },
    ]),
    rule("seccomp-open-by-handle-at", [{ args: sys(304, "-1", "0", "0"), want: E("EPERM") }]),
    rule("seccomp-mount", [
      { args: ["mount-missing"], want: E("EPERM") },
      { args: sys(166, "0", "0"), want: E("EPERM") }, // umount2
      { args: sys(155, "0", "0"), want: E("EPERM") }, // pivot_root
      { args: sys(430, "0", "0"), want: E("EPERM") }, // fsopen
      { args: sys(428, "-1", "0", "0"), want: E("EPERM") }, // open_tree
      { args: sys(429, "-1", "0", "-1", "0", "0"), want: E("EPERM") }, // move_mount
      { args: sys(442, "-1", "0", "0", "0", "0"), want: E("EPERM") }, // mount_setattr
    ]),
    rule("seccomp-swap-acct", [
      { args: sys(167, "0", "0"), want: E("EPERM") },
      { args: sys(168, "0"), want: E("EPERM") },
      { args: ["acct-missing"], want: E("EPERM") },
    ]),
    rule("seccomp-clock", [
      { args: sys(164, "0", "0"), want: E("EPERM") },
      { args: sys(227, "0", "0"), want: E("EPERM") },
      { args: sys(159, "0"), want: E("EPERM") },
      { args: sys(305, "0", "0"), want: E("EPERM") },
    ]),
    rule("seccomp-syslog", [{ args: sys(103, "10", "0", "0"), want: E("EPERM") }]),
    rule("seccomp-ioport", [
      { args: sys(172, "0"), want: E("EPERM") },
      { args: sys(173, "0", "0", "0"), want: E("EPERM") },
    ]),
    rule("seccomp-quotactl", [
      { args: sys(179, "0", "0", "0", "0"), want: E("EPERM") },
      { args: sys(443, "-1", "0", "0", "0"), want: E("EPERM") },
    ]),
    rule("seccomp-setns", [{ args: sys(308, "-1", "0"), want: E("EPERM") }]),
    rule("seccomp-personality", [
      { args: ["personality", "0x400000"], want: E("EPERM") }, // READ_IMPLIES_EXEC
      { args: ["personality", "0xffffffff"], want: OK }, // the query stays allowed
    ]),
    rule("seccomp-new-user-namespace", [
      { args: sys(272, "0x10000000"), want: E("EPERM") },
      { args: ["clone-newuser"], want: E("EPERM") },
    ]),
    rule("seccomp-clone3", [{ args: sys(435, "0", "0"), want: E("ENOSYS") }]),
    rule("seccomp-tty-ioctl", [
      { args: ["tty-ioctl", "0x5412"], want: E("EPERM") }, // TIOCSTI
      { args: ["tty-ioctl", "0xffffffff00005412"], want: E("EPERM") }, // with a high half
      { args: ["tty-ioctl", "0x541c"], want: E("EPERM") }, // TIOCLINUX
      { args: ["tty-ioctl", "0x5401"], want: /^ok 0$/ }, // TCGETS works
    ]),
    { name: "seccomp-mknod", run: (ctx) => probeCheck(ctx, "mknod", { calls: [
      { args: ["mknod", "chr", `${ctx.shared}/chr`], want: E("EPERM") },
      { args: ["mknod", "blk", `${ctx.shared}/blk`], want: E("EPERM") },
      { args: ["mknod", "fifo", `${ctx.shared}/fifo`], want: /^ok 0$/ },
    ] }) },
    rule("seccomp-vsock", [{ args: ["socket", "40", "1", "0"], want: E("EPROTONOSUPPORT") }]),
    rule("seccomp-vsock-all-domains", [{ args: ["socket", "40", "1", "0"], want: E("EPROTONOSUPPORT") }], ["--allow-all-domains"]),
    // ABIs: the same policy through every ABI the kernel runs
    rule("abi-x86_64", [
      { args: sys(39), want: OK },
      { args: sys(272, "0x10000000"), want: E("EPERM") },
      { args: sys(54, "-1", "0", "0", "0", "0"), want: E("EBADF") }, // setsockopt reaches the kernel
    ], [], "x64"),
    rule("abi-i386", [
      { args: i386(20), want: OK }, // getpid
      { args: i386(310, "0x10000000"), want: E("EPERM") }, // unshare CLONE_NEWUSER
      { args: i386(310, "0xffffffff10000000"), want: E("EPERM") }, // junk upper half
      { args: i386(359, "17", "3", "0"), want: E("EPERM") }, // socket AF_PACKET
      { args: i386(359, "38", "5", "0"), want: E("EPROTONOSUPPORT") }, // socket AF_ALG
      { args: i386(102, "1", "0"), want: E("ENOSYS") }, // socketcall
      { args: i386(117, "13", KEY, "0"), want: E("ENOSYS") }, // ipc
      { args: i386(357, "1000", "0", "0"), want: E("EPERM") }, // bpf
      { args: i386(21, "0", "0", "0", "0", "0"), want: E("EPERM") }, // mount
      { args: i386(74, "0", "4"), want: E("EPERM") }, // sethostname
      { args: i386(425, "1", "0"), want: E("ENOSYS") }, // io_uring_setup
    ], [], "x64"),
    rule("abi-x32", [
      { args: ["x32", "39"], want: E("ENOSYS") },
      { args: ["x32", "0", "0", "0", "0"], want: E("ENOSYS") },
    ], [], "x64"),
  ];
  // i386 code runs only where the kernel has IA32 emulation (ia32_emulation=0 turns it off)
  const i386Test = tests.find((t) => t.name === "abi-i386")!;
  i386Test.applies = async (ctx) => (await ctx.exec(ctx.probe, ["i386", "20"])).out.startsWith("ok ");
  return tests;
}
