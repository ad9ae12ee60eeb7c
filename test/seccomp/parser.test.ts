// The policy file format: rules, conditions, constants, includes, and errors at file:line:column.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SysjailError } from "../../src/errors.js";
import { parsePolicyFile } from "../../src/seccomp/index.js";
import type { CallRule, Condition, Rule } from "../../src/seccomp/types.js";

const parse = (text: string) => parsePolicyFile(text, "t.policy");
const strip = (rules: Rule[]) => rules.map(({ at: _at, ...r }) => r);
const cond = (text: string): Condition | undefined => (parse(`read ${text} allow`)[0] as CallRule).when;

function fails(text: string, message: string, file = "t.policy"): void {
  assert.throws(() => parsePolicyFile(text, file), (e: unknown) => {
    assert.ok(e instanceof SysjailError, String(e));
    assert.equal(e.code, "EPOLICY");
    assert.equal(e.exitCode, 64);
    assert.equal(e.phase, "usage");
    assert.equal(e.message, message);
    return true;
  });
}

describe("policy files: rules", () => {
  it("reads calls, actions, comments and blank lines", () => {
    const rules = parse("# comment\n\nread, write allow   # trailing\ngetpid errno EPERM\nkill kill\nbpf errno 13\nptrace log\nuname trap\nsysinfo trap 7\n");
    assert.deepEqual(strip(rules), [
      { kind: "call", call: "read", action: { kind: "allow" } },
      { kind: "call", call: "write", action: { kind: "allow" } },
      { kind: "call", call: "getpid", action: { kind: "errno", errno: 1 } },
      { kind: "call", call: "kill", action: { kind: "kill" } },
      { kind: "call", call: "bpf", action: { kind: "errno", errno: 13 } },
      { kind: "call", call: "ptrace", action: { kind: "log" } },
      { kind: "call", call: "uname", action: { kind: "trap" } },
      { kind: "call", call: "sysinfo", action: { kind: "trap", data: 7 } },
    ]);
    assert.deepEqual(rules[2]!.at, { file: "t.policy", line: 4, column: 1 });
    assert.deepEqual(rules[1]!.at, { file: "t.policy", line: 3, column: 7 });
  });

  it("reads default and abi lines", () => {
    assert.deepEqual(strip(parse("default errno ENOSYS\nabi foreign refuse\nabi x32 translate\n")), [
      { kind: "default", action: { kind: "errno", errno: 38 } },
      { kind: "abi", abi: "foreign", mode: "refuse" },
      { kind: "abi", abi: "x32", mode: "translate" },
    ]);
  });

  it("reads comparisons, masks, widths and named constants", () => {
    assert.deepEqual(cond("arg0 == AF_INET"), { arg: 0, op: "==", value: 2n });
    assert.deepEqual(cond("arg1:32 & SOCK_TYPE_MASK != SOCK_RAW"), { arg: 1, width: 32, mask: 0xfn, op: "!=", value: 3n });
    assert.deepEqual(cond("arg5 >= 0x1_0000_0000"), { arg: 5, op: ">=", value: 0x100000000n });
    assert.deepEqual(cond("arg2 < 0600"), { arg: 2, op: "<", value: 0o600n });
    assert.deepEqual(cond("arg2 <= 0b101"), { arg: 2, op: "<=", value: 5n });
    assert.deepEqual(cond("arg3 > 0o17"), { arg: 3, op: ">", value: 15n });
    assert.deepEqual(cond("arg0 == -1"), { arg: 0, op: "==", value: (1n << 64n) - 1n });
    assert.deepEqual(cond("arg0 & ~(CLONE_NEWUSER | CLONE_NEWNS) == 0"), { arg: 0, mask: BigInt.asUintN(64, ~0x10020000n), op: "==", value: 0n });
    assert.deepEqual(cond("arg1:16 & S_IFMT == S_IFCHR"), { arg: 1, width: 16, mask: 0o170000n, op: "==", value: 0o20000n });
  });

  it("reads in, not in, and, or, not and parentheses, with && binding tighter than ||", () => {
    assert.deepEqual(cond("arg0 in [AF_UNIX, 2]"), { or: [{ arg: 0, op: "==", value: 1n }, { arg: 0, op: "==", value: 2n }] });
    assert.deepEqual(cond("arg0 not in [1, 2]"), { and: [{ arg: 0, op: "!=", value: 1n }, { arg: 0, op: "!=", value: 2n }] });
    assert.deepEqual(cond("arg0 in [7]"), { arg: 0, op: "==", value: 7n });
    const a = { arg: 0, op: "==", value: 1n }, b = { arg: 1, op: "==", value: 2n }, c = { arg: 2, op: "==", value: 3n };
    assert.deepEqual(cond("arg0 == 1 || arg1 == 2 && arg2 == 3"), { or: [a, { and: [b, c] }] });
    assert.deepEqual(cond("arg0 == 1 or arg1 == 2 and arg2 == 3"), { or: [a, { and: [b, c] }] });
    assert.deepEqual(cond("(arg0 == 1 || arg1 == 2) && arg2 == 3"), { and: [{ or: [a, b] }, c] });
    assert.deepEqual(cond("!(arg0 == 1) && not arg1 == 2"), { and: [{ not: a }, { not: b }] });
  });
});

describe("policy files: errors", () => {
  it("names file:line:column and the bad token", () => {
    fails("# a comment\n@@@ not a rule !!!\n", "t.policy:2:1: unexpected character near '@@@'");
    fails("read allow\n  nosuchcall allow", "t.policy:2:3: unknown system call near 'nosuchcall'");
    fails("read", "t.policy:1:5: expected a condition on arg0..arg5 or an action near 'end of line'");
    fails("read arg0 == 1", "t.policy:1:15: expected an action (allow, errno NAME, kill, log, trap) near 'end of line'");
    fails("read deny", "t.policy:1:6: expected a condition on arg0..arg5 or an action near 'deny'");
    fails("read arg0 == NOPE allow", "t.policy:1:14: unknown constant near 'NOPE'");
    fails("read arg0 = 1 allow", "t.policy:1:11: unexpected character near '='");
    fails("read arg6 == 1 allow", "t.policy:1:6: expected a condition on arg0..arg5 or an action near 'arg6'");
    fails("read arg0:8 == 1 allow", "t.policy:1:11: width must be 16, 32 or 64 near '8'");
    fails("read arg0 == 1 allow extra", "t.policy:1:22: unexpected text after the rule near 'extra'");
    fails("read errno EWHAT", "t.policy:1:12: unknown errno name near 'EWHAT'");
    fails("read errno 5000", "t.policy:1:12: errno must be 0..4095 near '5000'");
    fails("read arg0 == 08 allow", "t.policy:1:14: bad number near '08'");
    fails("read arg0 == 0x1_0000_0000_0000_0000 allow", "t.policy:1:14: number does not fit in 64 bits near '0x1_0000_0000_0000_0000'");
    fails("read arg0 in [1, 2 allow", "t.policy:1:20: expected ',' or ']' near 'allow'");
    fails("read (arg0 == 1 allow", "t.policy:1:17: expected ')' near 'allow'");
    fails("abi mips refuse", "t.policy:1:5: expected an ABI (foreign, i386, x32, arm, ...) near 'mips'");
    fails("abi x32 maybe", "t.policy:1:9: expected translate or refuse near 'maybe'");
    fails("read, 5 allow", "t.policy:1:7: expected a system call name near '5'");
    fails('include "nope', "t.policy:1:9: cannot read included file (ENOENT) near '\"nope'");
  });
});

describe("policy files: includes", () => {
  const dir = mkdtempSync(join(tmpdir(), "sysjail-parser-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("includes files relative to the including file, with positions in the included file", () => {
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "main.policy"), "read allow\ninclude sub/net.policy\ninclude \"sub/q.policy\"  # quoted\nwrite allow\n");
    writeFileSync(join(dir, "sub", "net.policy"), "# networking\nsocket arg0 == AF_INET allow\n");
    writeFileSync(join(dir, "sub", "q.policy"), "include net2.policy\n");
    writeFileSync(join(dir, "sub", "net2.policy"), "connect allow\n");
    const rules = parsePolicyFile("include main.policy\n", join(dir, "top.policy"));
    assert.deepEqual(rules.map((r) => (r.kind === "call" ? r.call : r.kind)), ["read", "socket", "connect", "write"]);
    assert.deepEqual(rules[1]!.at, { file: join(dir, "sub", "net.policy"), line: 2, column: 1 });
  });

  it("reports errors inside an included file there, and include loops", () => {
    writeFileSync(join(dir, "bad.policy"), "read allow\nread arg0 === 1 allow\n");
    fails("include bad.policy\n", `${join(dir, "bad.policy")}:2:13: unexpected character near '='`, join(dir, "x.policy"));
    writeFileSync(join(dir, "a.policy"), "include b.policy\n");
    writeFileSync(join(dir, "b.policy"), "include a.policy\n");
    fails("include a.policy\n", `${join(dir, "b.policy")}:1:9: include loop near 'a.policy'`, join(dir, "x.policy"));
    fails("include\n", "t.policy:1:1: include needs a file name near 'include'");
  });
});
