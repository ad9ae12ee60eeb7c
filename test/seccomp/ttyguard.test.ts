// The terminal guard (src/seccomp/ttyguard.ts), run by the interpreter on every ABI it names.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RET } from "../../src/seccomp/bpf.js";
import { runFilter, verifyProgram } from "../../src/seccomp/interpreter.js";
import { needsTtyGuard, ttyGuardProgram } from "../../src/seccomp/ttyguard.js";

const EPERM = (RET.ERRNO | 1) >>> 0;
const ABIS: [string, number, number][] = [
  ["x86_64", 0xc000003e, 16], ["x32", 0xc000003e, 0x40000202], ["i386", 0x40000003, 54], ["arm", 0x40000028, 54], ["aarch64", 0xc00000b7, 29],
];

test("refuses TIOCSTI and TIOCLINUX on every ABI (also with a high half), allows everything else", () => {
  const p = ttyGuardProgram();
  assert.deepEqual(verifyProgram(p), [], "the kernel's load-time checks");
  for (const [name, arch, ioctl] of ABIS) {
    const run = (nr: number, cmd: bigint | number) => runFilter(p, { nr, arch, args: [0, cmd, 0] }).ret >>> 0;
    assert.equal(run(ioctl, 0x5412), EPERM, `${name} TIOCSTI`);
    assert.equal(run(ioctl, 0xffffffff_00005412n), EPERM, `${name} TIOCSTI with a high half`);
    assert.equal(run(ioctl, 0x541c), EPERM, `${name} TIOCLINUX`);
    assert.equal(run(ioctl, 0x5401), RET.ALLOW, `${name} TCGETS`);
    assert.equal(run(ioctl + 1, 0x5412), RET.ALLOW, `${name} another call with the same argument`);
  }
  assert.equal(runFilter(p, { nr: 16, arch: 0xdeadbeef, args: [0, 0x5412] }).ret >>> 0, RET.ALLOW, "an unknown arch is the main filter's business");
});

test("only a policy of files (added or replacing) needs the guard", () => {
  assert.equal(needsTtyGuard({ files: [], replaceDefault: false }), false);
  assert.equal(needsTtyGuard({ files: ["/x.policy"], replaceDefault: false }), true);
  assert.equal(needsTtyGuard({ files: [], replaceDefault: true }), true);
});
