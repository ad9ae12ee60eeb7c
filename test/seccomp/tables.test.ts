// The generated system call tables: their source version, known numbers, and (where the host has
// them) agreement with the C library's headers.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ABIS, X32_BIT } from "../../src/seccomp/abi.js";

describe("system call tables", () => {
  it("come from one kernel version, named in every table", () => {
    const versions = new Set(Object.values(ABIS).map((a) => a.kernel));
    assert.equal(versions.size, 1);
    assert.match([...versions][0]!, /^\d+\.\d+\.\d+/);
  });

  it("hold the numbers the policy depends on", () => {
    const want: [keyof typeof ABIS, string, number][] = [
      ["x86_64", "read", 0], ["x86_64", "getppid", 110], ["x86_64", "socket", 41], ["x86_64", "clone3", 435],
      ["x86_64", "io_uring_setup", 425], ["x86_64", "file_setattr", 469],
      ["i386", "socketcall", 102], ["i386", "ipc", 117], ["i386", "socket", 359], ["i386", "unshare", 310],
      ["i386", "msgget", 399], ["i386", "keyctl", 288], ["i386", "bpf", 357], ["i386", "sethostname", 74], ["i386", "mount", 21],
      ["x32", "getpid", X32_BIT + 39], ["x32", "ioctl", X32_BIT + 514], ["x32", "execve", X32_BIT + 520],
      ["aarch64", "read", 63], ["aarch64", "clone", 220], ["aarch64", "renameat", 38], ["aarch64", "getrlimit", 163],
      ["arm", "socket", 281], ["arm", "ARM_set_tls", 0x0f0005], ["arm", "ARM_cacheflush", 0x0f0002],
    ];
    for (const [abi, name, nr] of want) assert.equal(ABIS[abi].numbers.get(name), nr, `${abi} ${name}`);
    assert.equal(ABIS.x86_64.numbers.has("rt_sigaction"), true);
    assert.equal(ABIS.x86_64.numbers.get("rt_sigaction"), 13, "x86_64 has its own rt_sigaction, not x32's 512");
    assert.equal(ABIS.aarch64.numbers.has("open"), false, "aarch64 has no open(2)");
    assert.equal(ABIS.arm.numbers.has("socketcall"), false, "arm EABI has no socketcall");
  });

  it("agree with the host's asm/unistd headers where those exist", (t) => {
    const dir = "/usr/include/x86_64-linux-gnu/asm";
    if (process.arch !== "x64") return t.skip("the x86 asm headers are an x86_64 host's");
    // on x86_64 they come with libc6-dev, which the suite needs anyway (docs/TESTING.md): missing, this fails
    assert.ok(existsSync(`${dir}/unistd_64.h`), `${dir}/unistd_64.h is missing: install linux-libc-dev`);
    for (const [abi, file] of [["x86_64", "unistd_64.h"], ["i386", "unistd_32.h"], ["x32", "unistd_x32.h"]] as const) {
      const text = readFileSync(`${dir}/${file}`, "utf8");
      let n = 0;
      for (const m of text.matchAll(/^#define __NR_(\w+) (.+)$/gm)) {
        const x32 = /__X32_SYSCALL_BIT \+ (\d+)/.exec(m[2]!);
        const nr = x32 ? X32_BIT + Number(x32[1]) : Number(m[2]);
        assert.equal(ABIS[abi].numbers.get(m[1]!), nr, `${abi} ${m[1]}`);
        n++;
      }
      assert.ok(n > 300, `${file}: ${n} calls`);
    }
  });
});
