// The disassembler and the --policy-dump listing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultPolicy } from "../../src/spec/types.js";
import { compileJailFilter, disassemble, dumpJailFilter } from "../../src/seccomp/index.js";
import { BPF, ins, RET, type Insn } from "../../src/seccomp/bpf.js";

describe("disassembler", () => {
  it("prints every instruction class readably, with absolute jump targets", () => {
    const prog: Insn[] = [
      ins.ldAbs(4),
      ins.jmp(BPF.JEQ, 0xc000003e, 1, 0),
      ins.ret(RET.KILL_PROCESS),
      ins.ldAbs(0),
      ins.jmp(BPF.JGE, 59, 0, 1),
      ins.ja(2),
      ins.andK(0xf000),
      { code: BPF.LD | BPF.W | BPF.IMM, jt: 0, jf: 0, k: 5 },
      { code: BPF.LDX | BPF.W | BPF.MEM, jt: 0, jf: 0, k: 2 },
      { code: BPF.ST, jt: 0, jf: 0, k: 1 },
      { code: BPF.MISC | BPF.TAX, jt: 0, jf: 0, k: 0 },
      { code: BPF.ALU | BPF.ADD | BPF.X, jt: 0, jf: 0, k: 0 },
      ins.ret((RET.ERRNO | 1) >>> 0),
      ins.ret(RET.ALLOW),
      ins.ret(RET.LOG),
      ins.ret((RET.TRAP | 3) >>> 0),
      { code: BPF.RET | BPF.A, jt: 0, jf: 0, k: 0 },
    ];
    const lines = disassemble(prog).split("\n");
    assert.equal(lines.length, prog.length);
    assert.match(lines[0]!, /^ 0 {2}ld {4}\[4\] +; arch$/);
    assert.match(lines[1]!, /jeq {3}#0xc000003e +\? 3 : 2 +; AUDIT_ARCH_X86_64/);
    assert.match(lines[2]!, /ret {3}kill$/);
    assert.match(lines[4]!, /jge {3}#59 +\? 5 : 6/);
    assert.match(lines[5]!, /ja {4}8$/);
    assert.match(lines[6]!, /and {3}#0xf000/);
    assert.match(lines[7]!, /ld {4}#0x5/);
    assert.match(lines[8]!, /ldx {3}M\[2\]/);
    assert.match(lines[9]!, /st {4}M\[1\]/);
    assert.match(lines[10]!, /tax/);
    assert.match(lines[11]!, /add {3}x/);
    assert.match(lines[12]!, /ret {3}errno EPERM/);
    assert.match(lines[13]!, /ret {3}allow/);
    assert.match(lines[14]!, /ret {3}log/);
    assert.match(lines[15]!, /ret {3}trap 3/);
    assert.match(lines[16]!, /ret {3}a$/);
  });

  it("dumps the jail filter with a header naming the ABIs and the figures", () => {
    const p = defaultPolicy();
    const f = compileJailFilter(p, "x64");
    const dump = dumpJailFilter(p, "x64");
    const lines = dump.split("\n");
    assert.ok(lines.length > 20);
    assert.match(dump, /for x86_64 hosts \(system call tables from Linux \d+\.\d+/);
    assert.match(dump, /x86_64 +AUDIT_ARCH 0xc000003e: native/);
    assert.match(dump, /i386 +AUDIT_ARCH 0x40000003: the same policy, translated .*socketcall and ipc refused/);
    assert.match(dump, /x32 +AUDIT_ARCH 0xc000003e, numbers with bit 0x40000000: refused/);
    assert.match(dump, /calls no rule names: errno ENOSYS/);
    assert.ok(dump.includes(`; ${f.instructions} instructions (the kernel loads at most 4096), worst path ${f.worstPath} instructions`));
    assert.match(dump, /; -- x86_64 socket, socketpair: argument checks/);
    assert.match(dump, /; -- i386: system call number search/);
    assert.match(dump, /nr >= \d+ /);
    assert.match(dump, /errno EPERM: sethostname/);
    // one listing line per instruction
    assert.equal(lines.filter((l) => /^ *\d+  /.test(l)).length, f.instructions);
    const arm = dumpJailFilter({ ...p, allowIpc: true, files: [] }, "arm64");
    assert.match(arm, /policy: sysjail default policy, --allow-ipc\n/);
    assert.match(arm, /aarch64 .*native[\s\S]*arm .*translated/);
    assert.doesNotMatch(arm, /x32/);
  });
});
