// pledge's promises as policy rules (src/seccomp/pledge.ts, promises.ts) and the listener's
// program marks and learned policies (src/seccomp/listener.ts), on the compiler's interpreter.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SysjailError } from "../../src/errors.js";
import { compileJailFilter, runFilter, AUDIT_ARCH } from "../../src/seccomp/index.js";
import { RET } from "../../src/seccomp/bpf.js";
import { PROMISE_NAMES, parsePromises } from "../../src/seccomp/promises.js";
import { PROMISES, pledgePolicyText } from "../../src/seccomp/pledge.js";
import { EXEC_ONCE, learnedPolicy, markForListener, denialsOf, type CallEvent } from "../../src/seccomp/listener.js";
import { defaultPolicy } from "../../src/spec/types.js";
import { parsePolicyFile } from "../../src/seccomp/parser.js";
import { EXEC_NUMBERS, FLAG_NEW_LISTENER, listeningFilter } from "../../src/seccomp/mark.js";
import { ABIS } from "../../src/seccomp/abi.js";

const X64 = AUDIT_ARCH.x86_64;
const NR = { read: 0, open: 2, socket: 41, clone: 56, fork: 57, execve: 59, openat: 257, sethostname: 170, mprotect: 10, mmap: 9, ioctl: 16 };

function answer(promises: string[] | undefined, nr: number, args: (number | bigint)[] = []): number {
  const policy = { ...defaultPolicy(), ...(promises ? { pledge: promises } : {}) };
  return runFilter(compileJailFilter(policy, "x64").program, { nr, arch: X64, args }).ret >>> 0;
}
const ALLOW = RET.ALLOW >>> 0, KILL = RET.KILL_PROCESS >>> 0, EPERM = (RET.ERRNO | 1) >>> 0;

describe("pledge", () => {
  it("knows every promise name, and each one's calls exist in some table", () => {
    assert.deepEqual(Object.keys(PROMISES).sort(), [...PROMISE_NAMES].sort());
    for (const p of PROMISE_NAMES) assert.doesNotThrow(() => parsePolicyFile(pledgePolicyText([p]), "<t>"), p);
  });

  it("refuses an unknown promise as a usage error naming it and what is allowed", () => {
    assert.throws(() => parsePromises("stdio no-such\x1b"), (e: unknown) => e instanceof SysjailError && e.exitCode === 64
      && /unknown promise 'no-such\?' \(allowed: stdio rpath/.test(e.message) && !e.message.startsWith("sysjail:"));
    assert.throws(() => parsePromises("  "), /no promise given/);
    assert.deepEqual(parsePromises("stdio  rpath stdio"), ["stdio", "rpath"]);
  });

  it("only narrows: stdio keeps read, refuses sockets and exec without their promises, and never lifts a default refusal", () => {
    assert.equal(answer(["stdio"], NR.read, [0, 0, 0]), ALLOW);
    assert.equal(answer(["stdio"], NR.socket, [2, 1, 0]), KILL);
    assert.equal(answer(["stdio", "inet"], NR.socket, [2, 1, 0]), ALLOW);
    assert.equal(answer(["stdio", "inet"], NR.socket, [1, 1, 0]), KILL); // AF_UNIX needs unix
    assert.equal(answer(["stdio", "error"], NR.socket, [2, 1, 0]), EPERM);
    // the default policy refuses sethostname with EPERM; no promise lifts that
    assert.equal(answer(undefined, NR.sethostname), EPERM);
    assert.equal(answer([...PROMISE_NAMES].filter((p) => p !== "error"), NR.sethostname), KILL);
    assert.equal(answer([...PROMISE_NAMES], NR.sethostname), EPERM);
  });

  it("open's flags decide the promise: rpath reads, wpath writes, cpath creates", () => {
    const O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200;
    const open = (p: string[], flags: number) => answer(p, NR.openat, [-100, 0, flags]);
    assert.equal(open(["stdio", "rpath"], 0), ALLOW);
    assert.equal(open(["stdio", "rpath"], O_WRONLY), KILL);
    assert.equal(open(["stdio", "rpath", "wpath"], O_RDWR), ALLOW);
    assert.equal(open(["stdio", "wpath"], O_RDWR), KILL);
    assert.equal(open(["stdio", "wpath"], O_WRONLY | O_CREAT), KILL);
    assert.equal(open(["stdio", "wpath", "cpath"], O_WRONLY | O_CREAT | O_TRUNC), ALLOW);
    assert.equal(open(["stdio", "rpath"], O_TRUNC), KILL);
  });

  it("threads are stdio, processes proc; anonymous executable memory needs prot_exec", () => {
    const CLONE_THREAD = 0x10000, PROT_EXEC = 4;
    assert.equal(answer(["stdio"], NR.clone, [CLONE_THREAD | 0x100]), ALLOW);
    assert.equal(answer(["stdio"], NR.clone, [17]), KILL);
    assert.equal(answer(["stdio", "proc"], NR.clone, [17]), ALLOW);
    assert.equal(answer(["stdio"], NR.mprotect, [0, 4096, PROT_EXEC | 1]), KILL);
    assert.equal(answer(["stdio", "prot_exec"], NR.mprotect, [0, 4096, PROT_EXEC | 1]), ALLOW);
    assert.equal(answer(["stdio"], NR.mmap, [0, 4096, PROT_EXEC | 1, 2, 3, 0]), ALLOW); // a file (the loader)
    assert.equal(answer(["stdio"], NR.mmap, [0, 4096, PROT_EXEC | 1, 0x22, -1, 0]), KILL);
  });

  it("marks a jail's exec without the exec promise for the listener, and lets exec through with it", () => {
    assert.equal(answer(["stdio"], NR.execve), (RET.TRAP | EXEC_ONCE) >>> 0);
    assert.equal(answer(["stdio", "exec"], NR.execve), ALLOW);
  });
});

describe("the listener's program", () => {
  it("carries the exec numbers of every ABI as the tables have them", () => {
    for (const [arch, list] of Object.entries(EXEC_NUMBERS)) {
      for (const { auditArch, nrs } of list) {
        const abi = Object.values(ABIS).find((a) => a.auditArch === auditArch && a.name !== "x32")!;
        assert.deepEqual(nrs, [abi.numbers.get("execve"), abi.numbers.get("execveat")], `${arch} ${abi.name}`);
      }
    }
  });
  const program = compileJailFilter(defaultPolicy(), "x64").program;
  it("sends refusals and every exec to the monitor, leaves allowed calls and kills alone", () => {
    const m = markForListener(program, "answer", "x64");
    const run = (nr: number, arch: number = X64) => runFilter(m, { nr, arch, args: [] }).ret >>> 0;
    assert.equal(run(NR.sethostname), RET.USER_NOTIF);
    assert.equal(run(NR.execve), RET.USER_NOTIF);
    assert.equal(run(11, AUDIT_ARCH.i386), RET.USER_NOTIF); // i386 execve
    assert.equal(run(NR.read), ALLOW);
    assert.equal(runFilter(m, { nr: 0, arch: 0x1234, args: [] }).ret >>> 0, KILL);
  });
  it("in learn mode sends allowed calls too", () => {
    const m = markForListener(program, "learn", "x64");
    assert.equal(runFilter(m, { nr: NR.read, arch: X64, args: [] }).ret >>> 0, RET.USER_NOTIF);
  });
  it("marks a program once per mode (cached per process), never changing the program it marks", () => {
    const before = Uint8Array.from(program);
    const a = markForListener(program, "answer", "x64"), l = markForListener(program, "learn", "x64");
    assert.equal(markForListener(program, "answer", "x64"), a, "the same marked program again");
    assert.notEqual(a, l);
    assert.deepEqual(markForListener(Uint8Array.from(program), "answer", "x64"), a, "a copy marks to the same bytes");
    assert.deepEqual(program, before, "the unmarked program (the monitor's answers) is untouched");
    assert.equal(runFilter(program, { nr: NR.sethostname, arch: X64, args: [] }).ret >>> 0, EPERM);
  });

  it("hands the listener over by sendmsg only when the marked program lets that sendmsg through", () => {
    const f = listeningFilter(program, 0, "answer", "x64");
    assert.equal(f.handOver, true, "the default policy allows sendmsg without looking at its arguments");
    assert.equal(f.flags & FLAG_NEW_LISTENER, FLAG_NEW_LISTENER);
    const run = (m: Uint8Array, nr: number, arch: number = X64) => runFilter(m, { nr, arch, args: [] }).ret >>> 0;
    assert.equal(run(f.program, NR.execve), ALLOW, "no exec prefix: the command's exec waits for nobody");
    assert.equal(run(f.program, NR.sethostname), RET.USER_NOTIF);
    assert.equal(f.program.length, program.length);
    assert.equal(listeningFilter(program, 0, "answer", "x64").program, f.program, "cached per process");
    const buf = Buffer.from(program), kept = Uint8Array.from(buf);
    listeningFilter(buf, 0, "answer", "x64");
    assert.deepEqual(Uint8Array.from(buf), kept, "a Buffer (the filter cache's) is not marked in place");
    // learn mode sends allowed calls (sendmsg too) to the monitor: the exec prefix stays
    const l = listeningFilter(program, 0, "learn", "x64");
    assert.equal(l.handOver, false);
    assert.equal(run(l.program, NR.execve), RET.USER_NOTIF);
    // a policy refusing sendmsg, or deciding on its arguments, keeps the exec prefix
    const dir = mkdtempSync(join(tmpdir(), "sysjail-handover-"));
    try {
      for (const text of ["sendmsg errno EPERM", "sendmsg arg2 in [0x0] allow"]) {
        const file = join(dir, "p");
        writeFileSync(file, `${text}\nexecve allow\n`);
        const p = compileJailFilter({ ...defaultPolicy(), files: [file], replaceDefault: true }, "x64").program;
        const g = listeningFilter(p, 0, "answer", "x64");
        assert.equal(g.handOver, false, text);
        assert.equal(run(g.program, NR.execve), RET.USER_NOTIF, text);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // a pledge without exec: the hand-over by sendmsg (stdio allows it), the one exec still answered
    const pl = compileJailFilter({ ...defaultPolicy(), pledge: ["stdio", "rpath"] }, "x64").program;
    const h = listeningFilter(pl, 0, "answer", "x64");
    assert.equal(h.handOver, true);
    assert.equal(run(h.program, NR.execve), RET.USER_NOTIF);
  });

  const ev = (nr: number, ret: number, count: number, vals: string[][] = [[], [], []]): CallEvent =>
    ({ ev: "call", arch: X64, nr, ret, count, args: ["1", "2", "3", "4", "5", "6"], vals });
  it("names denials with their errno and rule, most frequent first", () => {
    const d = denialsOf([ev(NR.sethostname, EPERM, 1), ev(NR.read, ALLOW, 9), ev(NR.socket, (RET.ERRNO | 97) >>> 0, 3)], (n) => (n === 1 ? "EPERM" : "EAFNOSUPPORT"), (c) => `rule-of-${c}`);
    assert.deepEqual(d.map((x) => [x.syscall, x.count, x.action, x.rule, x.abi]), [
      ["socket", 3, "errno EAFNOSUPPORT", "rule-of-socket", "x86_64"], ["sethostname", 1, "errno EPERM", "rule-of-sethostname", "x86_64"],
    ]);
    assert.deepEqual(d[0]!.args, ["0x1", "0x2", "0x3", "0x4", "0x5", "0x6"]);
  });
  it("learns the calls that ran, with constant socket families, and merges with an earlier file", () => {
    const first = learnedPolicy([ev(NR.read, ALLOW, 4), ev(NR.socket, ALLOW, 2, [["2"], ["1"], ["0"]]), ev(NR.sethostname, EPERM, 1)]);
    assert.match(first, /^read allow +# 4 calls$/m);
    assert.match(first, /^socket arg0 in \[0x2\] allow +# 2 calls$/m);
    assert.doesNotMatch(first, /sethostname/);
    const second = learnedPolicy([ev(NR.socket, ALLOW, 1, [["10"], ["2"], ["0"]]), ev(NR.ioctl, ALLOW, 1, [["1"], ["*"], []])], first);
    assert.match(second, /^socket arg0 in \[0x2, 0xa\] allow +# 3 calls$/m);
    assert.match(second, /^read allow +# 4 calls$/m);
    assert.match(second, /^ioctl allow/m);
    assert.doesNotThrow(() => parsePolicyFile(second, "learned"));
  });
});
