// The default jail policy, rule by rule, on every ABI, through the interpreter; flags and files;
// the action cache for hot calls; compile speed; and the reference copies in policy/default/.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SysjailError } from "../../src/errors.js";
import { defaultPolicy, type PolicyOptions } from "../../src/spec/types.js";
import { compileJailFilter, defaultRules } from "../../src/seccomp/index.js";
import { compileRules } from "../../src/seccomp/compile.js";
import { FRAGMENTS } from "../../src/seccomp/default-policy.js";
import { isCachedAllow, verifyProgram } from "../../src/seccomp/interpreter.js";
import { ABIS, ALLOW, call, EACCES, ENOSYS, EPERM, EPROTONOSUPPORT, errno, KILL, nr, run } from "./helpers.js";

const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17, AF_ALG = 38, AF_VSOCK = 40, AF_CAN = 29;
const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_CLOEXEC = 0o2000000, SOCK_NONBLOCK = 0o4000;
const CLONE_NEWUSER = 0x10000000, CLONE_NEWNS = 0x20000, SIGCHLD = 17;
const TIOCSTI = 0x5412, TIOCLINUX = 0x541c, TCGETS = 0x5401;
const S_IFCHR = 0o20000, S_IFBLK = 0o60000, S_IFIFO = 0o10000, S_IFREG = 0o100000;

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const opts = (o: Partial<PolicyOptions> = {}): PolicyOptions => ({ ...defaultPolicy(), ...o });

type Expect = [string, string, (bigint | number)[], number];

/** Expectations that hold on every ABI that has the call (name, args, result). */
const COMMON: Expect[] = [
  ["getppid", "hot call", [], ALLOW],
  ["read", "hot call", [0, 0, 0], ALLOW],
  ["write", "hot call", [1, 0, 0], ALLOW],
  ["execve", "exec", [], ALLOW],
  ["exit_group", "exit", [0], ALLOW],
  ["ptrace", "ptrace stays allowed", [0, 0], ALLOW],
  ["reboot", "reboot halts the jail's pid namespace, so it stays allowed", [0xfee1dead, 672274793, 0], ALLOW],
  ["socket", "AF_INET stream", [AF_INET, SOCK_STREAM, 0], ALLOW],
  ["socket", "AF_INET6 dgram, nonblocking", [AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0], ALLOW],
  ["socket", "AF_UNIX", [AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0], ALLOW],
  ["socket", "AF_UNIX SOCK_RAW is a datagram socket", [AF_UNIX, SOCK_RAW, 0], ALLOW],
  ["socket", "netlink route (raw type, as iproute2 opens it)", [AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0], ALLOW],
  ["socket", "netlink audit", [AF_NETLINK, SOCK_RAW, 9], errno(EPROTONOSUPPORT)],
  ["socket", "AF_ALG", [AF_ALG, 5, 0], errno(EPROTONOSUPPORT)],
  ["socket", "AF_CAN", [AF_CAN, SOCK_RAW, 1], errno(EPERM)],
  ["socket", "AF_PACKET", [AF_PACKET, SOCK_RAW, 0], errno(EPERM)],
  ["socket", "AF_PACKET dgram", [AF_PACKET, SOCK_DGRAM, 0], errno(EPERM)],
  ["socket", "raw inet", [AF_INET, SOCK_RAW, 1], errno(EPERM)],
  ["socket", "raw inet6, with flags", [AF_INET6, SOCK_RAW | SOCK_CLOEXEC, 58], errno(EPERM)],
  ["socket", "IPPROTO_RAW", [AF_INET, SOCK_DGRAM, 255], errno(EPERM)],
  ["socket", "AF_VSOCK", [AF_VSOCK, SOCK_STREAM, 0], errno(EPROTONOSUPPORT)],
  ["socketpair", "unix pair", [AF_UNIX, SOCK_STREAM, 0, 0], ALLOW],
  ["socketpair", "other family", [AF_ALG, SOCK_STREAM, 0, 0], errno(EPROTONOSUPPORT)],
  ["msgget", "SysV IPC", [0, 0o1600], errno(EPERM)],
  ["semget", "SysV IPC", [0, 1, 0], errno(EPERM)],
  ["shmget", "SysV IPC", [0, 4096, 0], errno(EPERM)],
  ["shmat", "SysV IPC", [0, 0, 0], errno(EPERM)],
  ["ioctl", "tty ioctls still work", [0, TCGETS, 0], ALLOW],
  ["ioctl", "chattr", [3, 0x40086602, 0], errno(EPERM)],
  ["ioctl", "chattr, 32-bit form", [3, 0x40046602, 0], errno(EPERM)],
  ["ioctl", "FS_IOC_FSSETXATTR", [3, 0x401c5820, 0], errno(EPERM)],
  ["ioctl", "TIOCSTI", [0, TIOCSTI, 0], errno(EPERM)],
  ["ioctl", "TIOCSTI with a high half (kernel truncates cmd to 32 bits)", [0, 0xffffffff_00005412n, 0], errno(EPERM)],
  ["ioctl", "TIOCLINUX", [0, TIOCLINUX, 0], errno(EPERM)],
  ["file_setattr", "file_setattr sets the same flags", [], errno(EPERM)],
  ["file_getattr", "reading flags", [], ALLOW],
  ["setrlimit", "kernel refuses raising a hard limit itself", [7, 0], ALLOW],
  ["prlimit64", "own limits", [0, 7, 0x1000, 0], ALLOW],
  ["prlimit64", "reading another process's limits", [42, 7, 0, 0x1000], ALLOW],
  ["prlimit64", "setting another process's limits", [42, 7, 0x1000, 0], errno(EPERM)],
  ["sethostname", "hostname", [0, 4], errno(EPERM)],
  ["setdomainname", "domain name", [0, 4], errno(EPERM)],
  ["add_key", "keyrings", [], errno(ENOSYS)],
  ["keyctl", "keyrings", [0, 0], errno(ENOSYS)],
  ["request_key", "keyrings", [], errno(ENOSYS)],
  ["bpf", "bpf", [0, 0, 0], errno(EPERM)],
  ["perf_event_open", "perf", [0, 0, 0, 0, 0], errno(EACCES)],
  ["userfaultfd", "userfaultfd", [0], errno(EPERM)],
  ["io_uring_setup", "io_uring", [1, 0], errno(ENOSYS)],
  ["io_uring_enter", "io_uring", [], errno(ENOSYS)],
  ["io_uring_register", "io_uring", [], errno(ENOSYS)],
  ["kexec_load", "kexec", [], errno(EPERM)],
  ["kexec_file_load", "kexec", [], errno(EPERM)],
  ["init_module", "modules", [], errno(EPERM)],
  ["finit_module", "modules", [], errno(EPERM)],
  ["delete_module", "modules", [], errno(EPERM)],
  ["open_by_handle_at", "file handles", [], errno(EPERM)],
  ["name_to_handle_at", "getting a handle is harmless", [], ALLOW],
  ["mount", "mount", [], errno(EPERM)],
  ["umount2", "umount2", [], errno(EPERM)],
  ["umount", "old umount", [], errno(EPERM)],
  ["pivot_root", "pivot_root", [], errno(EPERM)],
  ["fsopen", "new mount API", [], errno(EPERM)],
  ["fsconfig", "new mount API", [], errno(EPERM)],
  ["fsmount", "new mount API", [], errno(EPERM)],
  ["fspick", "new mount API", [], errno(EPERM)],
  ["move_mount", "new mount API", [], errno(EPERM)],
  ["open_tree", "new mount API", [], errno(EPERM)],
  ["open_tree_attr", "new mount API", [], errno(EPERM)],
  ["mount_setattr", "new mount API", [], errno(EPERM)],
  ["swapon", "swap", [], errno(EPERM)],
  ["swapoff", "swap", [], errno(EPERM)],
  ["acct", "accounting", [], errno(EPERM)],
  ["settimeofday", "clock", [], errno(EPERM)],
  ["stime", "clock", [], errno(EPERM)],
  ["clock_settime", "clock", [0, 0], errno(EPERM)],
  ["clock_settime64", "clock", [0, 0], errno(EPERM)],
  ["adjtimex", "clock", [], errno(EPERM)],
  ["clock_adjtime", "clock", [], errno(EPERM)],
  ["clock_adjtime64", "clock", [], errno(EPERM)],
  ["clock_gettime", "reading the clock", [1, 0], ALLOW],
  ["syslog", "kernel log", [10, 0, 0], errno(EPERM)],
  ["iopl", "port I/O", [3], errno(EPERM)],
  ["ioperm", "port I/O", [0, 0, 0], errno(EPERM)],
  ["quotactl", "quotas", [], errno(EPERM)],
  ["quotactl_fd", "quotas", [], errno(EPERM)],
  ["setns", "setns", [3, 0], errno(EPERM)],
  ["personality", "query", [0xffffffff], ALLOW],
  ["personality", "PER_LINUX", [0], ALLOW],
  ["personality", "PER_LINUX32 | ADDR_NO_RANDOMIZE (setarch -R)", [0x0040008], ALLOW],
  ["personality", "READ_IMPLIES_EXEC", [0x0400000], errno(EPERM)],
  ["personality", "MMAP_PAGE_ZERO", [0x0100000], errno(EPERM)],
  ["personality", "PER_SVR4", [0x04100001], errno(EPERM)],
  ["clone", "fork-like clone", [SIGCHLD, 0, 0, 0, 0], ALLOW],
  ["clone", "thread", [0x3d0f00, 0, 0, 0, 0], ALLOW],
  ["clone", "new mount namespace", [CLONE_NEWNS | SIGCHLD], ALLOW],
  ["clone", "new user namespace", [CLONE_NEWUSER | SIGCHLD], errno(EPERM)],
  ["unshare", "new user namespace", [CLONE_NEWUSER], errno(EPERM)],
  ["unshare", "new user namespace with others", [CLONE_NEWUSER | CLONE_NEWNS], errno(EPERM)],
  ["unshare", "mount namespace", [CLONE_NEWNS], ALLOW],
  ["clone3", "clone3 falls back to clone", [0, 88], errno(ENOSYS)],
  ["mknod", "char device", [0, S_IFCHR | 0o600, 0x103], errno(EPERM)],
  ["mknod", "block device", [0, S_IFBLK | 0o600, 0x801], errno(EPERM)],
  ["mknod", "char device with junk above the 16-bit mode", [0, 0xabc_0000 | S_IFCHR | 0o600, 0x103], errno(EPERM)],
  ["mknod", "fifo", [0, S_IFIFO | 0o600, 0], ALLOW],
  ["mknod", "regular file", [0, S_IFREG | 0o600, 0], ALLOW],
  ["mknodat", "char device", [-100, 0, S_IFCHR | 0o600, 0x103], errno(EPERM)],
  ["mknodat", "fifo", [-100, 0, S_IFIFO | 0o600, 0], ALLOW],
  ["lookup_dcookie", "unnamed calls fail with ENOSYS", [], errno(ENOSYS)],
  ["nfsservctl", "unnamed calls fail with ENOSYS", [], errno(ENOSYS)],
];

function check(program: Uint8Array, abi: keyof typeof ABIS, list: Expect[]): number {
  let n = 0;
  for (const [name, why, args, want] of list) {
    if (!ABIS[abi].numbers.has(name)) continue;
    const c = call(abi, name, ...args);
    assert.equal(run(program, c).toString(16), want.toString(16), `${abi} ${name}(${args.join(", ")}): ${why}`);
    n++;
  }
  return n;
}

describe("default policy", () => {
  const x64 = compileJailFilter(opts(), "x64");
  const a64 = compileJailFilter(opts(), "arm64");

  it("is a valid program for the kernel", () => {
    for (const f of [x64, a64, compileJailFilter(opts(), "ia32"), compileJailFilter(opts(), "arm")]) {
      assert.deepEqual(verifyProgram(f.program), []);
      assert.ok(f.instructions < 1000, `${f.instructions} instructions`);
    }
    assert.deepEqual(x64.arches, ["x86_64", "i386"]);
    assert.deepEqual(a64.arches, ["aarch64", "arm"]);
  });

  it("applies every rule on x86_64, on i386 (int 0x80) and refuses x32", () => {
    assert.ok(check(x64.program, "x86_64", COMMON) > 100);
    assert.ok(check(x64.program, "i386", COMMON) > 100);
    for (const name of ["getpid", "read", "write", "socket", "ioctl", "execve"]) assert.equal(run(x64.program, call("x32", name)), errno(ENOSYS), `x32 ${name}`);
  });

  it("applies every rule on aarch64 and arm", () => {
    assert.ok(check(a64.program, "aarch64", COMMON) > 90);
    assert.ok(check(a64.program, "arm", COMMON) > 100);
    assert.equal(run(a64.program, call("arm", "ARM_set_tls", 0x1000)), ALLOW);
    assert.equal(run(a64.program, call("arm", "ARM_cacheflush", 0, 0x1000, 0)), ALLOW);
  });

  it("refuses i386's multiplexed socketcall and ipc (arguments in memory) with ENOSYS", () => {
    assert.equal(run(x64.program, call("i386", "socketcall", 1, 0x1000)), errno(ENOSYS));
    assert.equal(run(x64.program, call("i386", "ipc", 13, 0)), errno(ENOSYS));
    assert.equal(run(compileJailFilter(opts({ allowIpc: true, allowAllDomains: true }), "x64").program, call("i386", "ipc", 13, 0)), errno(ENOSYS));
  });

  it("kills a call from an unexpected arch", () => {
    assert.equal(run(x64.program, { arch: ABIS.aarch64.auditArch, nr: 0 }), KILL);
  });

  it("keeps hot calls in the kernel's action cache on the native and compat ABIs", () => {
    const hot = ["getppid", "getpid", "read", "write", "close", "fstat", "mmap", "munmap", "brk", "futex", "clock_gettime", "openat", "newfstatat", "lseek", "epoll_wait", "rt_sigprocmask", "sendmsg", "recvmsg", "exit_group", "execve", "clone3"];
    for (const abi of ["x86_64", "i386"] as const) {
      for (const n of hot) {
        if (!ABIS[abi].numbers.has(n) || n === "clone3") continue;
        assert.ok(isCachedAllow(x64.program, ABIS[abi].auditArch, nr(abi, n)), `${abi} ${n} is cached`);
      }
    }
    for (const n of ["socket", "ioctl", "clone", "prlimit64"]) assert.ok(!isCachedAllow(x64.program, ABIS.x86_64.auditArch, nr("x86_64", n)), `${n} depends on arguments`);
    const cached = [...ABIS.x86_64.numbers.values()].filter((v) => isCachedAllow(x64.program, ABIS.x86_64.auditArch, v)).length;
    assert.ok(cached > 280, `${cached} x86_64 calls cached`);
  });

  it("has a short worst path", () => {
    assert.ok(x64.worstPath <= 40, `worst path ${x64.worstPath}`);
  });
});

describe("default policy: --allow-* flags", () => {
  const with_ = (o: Partial<PolicyOptions>) => compileJailFilter(opts(o), "x64").program;
  const both = (p: Uint8Array, name: string, args: (bigint | number)[], want: number) => {
    for (const abi of ["x86_64", "i386"] as const) assert.equal(run(p, call(abi, name, ...args)).toString(16), want.toString(16), `${abi} ${name}(${args})`);
  };

  it("--allow-all-domains lets other families through, but not raw sockets or vsock", () => {
    const p = with_({ allowAllDomains: true });
    both(p, "socket", [AF_ALG, 5, 0], ALLOW);
    both(p, "socket", [AF_NETLINK, SOCK_RAW, 9], ALLOW);
    both(p, "socket", [AF_CAN, SOCK_DGRAM, 2], ALLOW);
    both(p, "socket", [AF_PACKET, SOCK_RAW, 0], errno(EPERM));
    both(p, "socket", [AF_INET, SOCK_RAW, 1], errno(EPERM));
    both(p, "socket", [AF_VSOCK, SOCK_STREAM, 0], errno(EPROTONOSUPPORT));
  });

  it("--allow-raw-sockets lets raw sockets and AF_PACKET through, not other families", () => {
    const p = with_({ allowRawSockets: true });
    both(p, "socket", [AF_INET, SOCK_RAW, 1], ALLOW);
    both(p, "socket", [AF_INET6, SOCK_RAW, 58], ALLOW);
    both(p, "socket", [AF_INET, SOCK_RAW, 255], ALLOW);
    both(p, "socket", [AF_PACKET, SOCK_RAW, 0], ALLOW);
    both(p, "socket", [AF_ALG, 5, 0], errno(EPROTONOSUPPORT));
    both(p, "socket", [AF_VSOCK, SOCK_STREAM, 0], errno(EPROTONOSUPPORT));
    const all = with_({ allowRawSockets: true, allowAllDomains: true });
    both(all, "socket", [AF_CAN, SOCK_RAW, 1], ALLOW);
    both(all, "socket", [AF_VSOCK, SOCK_STREAM, 0], errno(EPROTONOSUPPORT));
  });

  it("--allow-ipc lets SysV IPC through (not i386's ipc multiplexer)", () => {
    const p = with_({ allowIpc: true });
    for (const n of ["msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "shmget", "shmat", "shmdt", "shmctl"]) {
      for (const abi of ["x86_64", "i386"] as const) if (ABIS[abi].numbers.has(n)) assert.equal(run(p, call(abi, n, 0, 0)), ALLOW, `${abi} ${n}`);
    }
    assert.equal(run(p, call("i386", "ipc", 13, 0)), errno(ENOSYS));
  });

  it("--allow-chflags lets the flag ioctls and file_setattr through, not TIOCSTI", () => {
    const p = with_({ allowChflags: true });
    both(p, "ioctl", [3, 0x40086602, 0], ALLOW);
    both(p, "ioctl", [3, 0x401c5820, 0], ALLOW);
    both(p, "file_setattr", [], ALLOW);
    both(p, "ioctl", [0, TIOCSTI, 0], errno(EPERM));
  });

  it("--allow-rlimit lets prlimit64 set other processes' limits", () => {
    const p = with_({ allowRlimit: true });
    both(p, "prlimit64", [42, 7, 0x1000, 0], ALLOW);
    both(p, "prlimit64", [0, 7, 0x1000, 0], ALLOW);
  });

  it("allow.set_hostname lets sethostname and setdomainname through", () => {
    const p = with_({ allowSetHostname: true });
    both(p, "sethostname", [0, 4], ALLOW);
    both(p, "setdomainname", [0, 4], ALLOW);
  });
});

describe("default policy: policy files", () => {
  const dir = mkdtempSync(join(tmpdir(), "sysjail-policy-"));
  const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

  it("adds a file's rules after the default (the last matching rule wins)", () => {
    const f = file("add.policy", "# let this jail use keyrings and ping\nkeyctl allow\nsocket arg0 == AF_INET && arg1 & SOCK_TYPE_MASK == SOCK_RAW && arg2 == IPPROTO_ICMP allow\ngetppid errno EPERM\n");
    const p = compileJailFilter(opts({ files: [f] }), "x64").program;
    assert.equal(run(p, call("x86_64", "keyctl", 0)), ALLOW);
    assert.equal(run(p, call("x86_64", "socket", AF_INET, SOCK_RAW, 1)), ALLOW);
    assert.equal(run(p, call("x86_64", "socket", AF_INET, SOCK_RAW, 6)), errno(EPERM));
    assert.equal(run(p, call("i386", "getppid")), errno(EPERM));
    assert.equal(run(p, call("x86_64", "bpf")), errno(EPERM));
  });

  it("replaces the default with the files when asked (ABI handling stays)", () => {
    const f = file("only.policy", "default allow\nbpf errno EPERM\nabi x32 translate\n");
    const p = compileJailFilter(opts({ files: [f], replaceDefault: true }), "x64").program;
    assert.equal(run(p, call("x86_64", "keyctl", 0)), ALLOW);
    assert.equal(run(p, call("x86_64", "bpf")), errno(EPERM));
    assert.equal(run(p, call("i386", "socketcall", 1, 0)), errno(ENOSYS));
    assert.equal(run(p, call("x32", "getpid")), ALLOW);
    const bare = file("bare.policy", "read, write, exit_group allow\n");
    const q = compileJailFilter(opts({ files: [bare], replaceDefault: true }), "x64").program;
    assert.equal(run(q, call("x86_64", "getpid")), errno(ENOSYS), "no default line: unnamed calls fail with ENOSYS");
  });

  it("reports a bad file as file:line:column with the token, and a missing one by name", () => {
    const bad = file("bad.policy", "# a comment\n@@@ not a rule !!!\n");
    assert.throws(() => compileJailFilter(opts({ files: [bad] }), "x64"), (e: unknown) => {
      assert.ok(e instanceof SysjailError);
      assert.equal(e.message, `${bad}:2:1: unexpected character near '@@@'`);
      assert.equal(e.exitCode, 64);
      return true;
    });
    assert.throws(() => compileJailFilter(opts({ files: [join(dir, "missing.policy")] }), "x64"), /missing\.policy: cannot read policy file: ENOENT/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("caches compilations by options and file contents", () => {
    const a = compileJailFilter(opts(), "x64");
    assert.equal(compileJailFilter(opts(), "x64"), a);
    assert.notEqual(compileJailFilter(opts({ allowIpc: true }), "x64"), a);
  });
});

describe("example policies in policy/examples", () => {
  const ex = (name: string) => join(root, "policy", "examples", `${name}.policy`);

  it("parse and compile, added to the default or replacing it, on x86_64 and arm64", () => {
    for (const name of ["ping", "no-network", "no-debugging", "log-keyrings", "deny-list"]) {
      for (const arch of ["x64", "arm64"]) {
        const f = compileJailFilter(opts({ files: [ex(name)], replaceDefault: name === "deny-list" }), arch);
        assert.deepEqual(verifyProgram(f.program), [], `${name} on ${arch}`);
      }
    }
  });

  it("do what their comments say", () => {
    const ping = compileJailFilter(opts({ files: [ex("ping")] }), "x64").program;
    assert.equal(run(ping, call("x86_64", "socket", AF_INET, SOCK_RAW, 1)), ALLOW);
    assert.equal(run(ping, call("x86_64", "socket", AF_INET6, SOCK_RAW, 58)), ALLOW);
    assert.equal(run(ping, call("x86_64", "socket", AF_INET, SOCK_RAW, 6)), errno(EPERM));
    const local = compileJailFilter(opts({ files: [ex("no-network")] }), "x64").program;
    assert.equal(run(local, call("x86_64", "socket", AF_INET, SOCK_STREAM, 0)), errno(EACCES));
    assert.equal(run(local, call("i386", "socket", AF_UNIX, SOCK_STREAM, 0)), ALLOW);
    const nodebug = compileJailFilter(opts({ files: [ex("no-debugging")] }), "x64").program;
    assert.equal(run(nodebug, call("x86_64", "ptrace", 16, 1)), errno(EPERM));
    assert.equal(run(nodebug, call("x86_64", "personality", 0x40000)), errno(EPERM));
    assert.equal(run(nodebug, call("x86_64", "personality", 0xffffffff)), ALLOW);
    const logged = compileJailFilter(opts({ files: [ex("log-keyrings")] }), "x64").program;
    assert.equal(run(logged, call("x86_64", "keyctl", 0)), 0x7ffc0000);
    const deny = compileJailFilter(opts({ files: [ex("deny-list")], replaceDefault: true }), "x64").program;
    assert.equal(run(deny, call("x86_64", "lookup_dcookie")), ALLOW);
    assert.equal(run(deny, call("x86_64", "mount")), errno(EPERM));
    assert.equal(run(deny, call("x86_64", "bpf")), errno(EPERM));
    assert.equal(run(deny, call("i386", "socketcall", 1, 0)), errno(ENOSYS));
    assert.equal(run(deny, call("x32", "read")), errno(ENOSYS));
  });
});

describe("default policy: speed and reference copies", () => {
  // No timed assertion (docs/TESTING.md): the time per compile is a diagnostic (npm run bench
  // measures the start-up path); what is asserted is that every compile gives the same program.
  it("compiles the same program every time in a warm process (uncached; ms per compile as a diagnostic)", (t) => {
    const rules = defaultRules(opts());
    const first = Buffer.from(compileRules(rules, { arch: "x64" }, true).filter.program);
    for (let i = 0; i < 400; i++) compileRules(rules, { arch: "x64" }, true);
    let ms = Infinity;
    for (let b = 0; b < 8; b++) {
      const n = 25, t0 = performance.now();
      for (let i = 0; i < n; i++) assert.ok(first.equals(Buffer.from(compileRules(rules, { arch: "x64" }, true).filter.program)), `compile ${b * n + i}`);
      ms = Math.min(ms, (performance.now() - t0) / n);
    }
    t.diagnostic(`${ms.toFixed(3)} ms per compile`);
  });

  it("ships each fragment as policy/default/NAME.policy, identical to what is compiled", () => {
    for (const f of FRAGMENTS) {
      const text = readFileSync(join(root, "policy", "default", `${f.name}.policy`), "utf8");
      assert.equal(text, f.text, `policy/default/${f.name}.policy differs from src/seccomp/default-policy.ts`);
    }
  });
});
