// decidingRule(): the rule that refused a call, by its registers (as the filter decides it):
// conditions, the last matching rule winning, the ABI's argument widths, the default.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ABIS } from "../../src/seccomp/abi.js";
import { parsePolicyFile } from "../../src/seccomp/parser.js";
import { ruleNamingIn } from "../../src/seccomp/index.js";
import { decidingRule } from "../../src/seccomp/rulematch.js";

const POLICY = `# two refusals of socket, told apart by the family register
default errno ENOSYS
socket allow
socket arg0 == AF_INET6 errno EPERM
socket arg0 == AF_INET errno EACCES
ioctl arg1 & 0xff00 == 0x5400 errno ENOTTY
ioctl arg1 == 0x5401 allow
`;

describe("decidingRule()", () => {
  const rules = parsePolicyFile(POLICY, "t.policy");
  const x64 = ABIS.x86_64, i386 = ABIS.i386;
  const at = (call: string, args: bigint[], abi = x64) => ruleNamingIn(rules, call, { abi: abi.name, args });

  it("names the rule whose condition holds on the registers, not the last naming the call", () => {
    assert.equal(at("socket", [10n, 1n, 0n]), "t.policy:4");
    assert.equal(at("socket", [2n, 1n, 0n]), "t.policy:5");
    // AF_UNIX: the unconditional allow decides (no refusal matches): named by call name instead
    assert.equal(decidingRule(rules, "socket", x64, [1n])?.action.kind, "allow");
  });

  it("masks, the last match winning, and the default", () => {
    assert.equal(at("ioctl", [0n, 0x5413n]), "t.policy:6");
    assert.equal(decidingRule(rules, "ioctl", x64, [0n, 0x5401n])?.action.kind, "allow");
    assert.equal(decidingRule(rules, "mount", x64, [0n])?.kind, "default");
    assert.equal(at("mount", [0n]), "t.policy:2");
  });

  it("compares only the bits the kernel reads: an int argument's high register bits are ignored", () => {
    // socket's family is an int: a register 0xffffffff0000000a is AF_INET6 to the kernel
    assert.equal(at("socket", [0xffffffff0000000an]), "t.policy:4");
    assert.equal(at("socket", [10n], i386), "t.policy:4");
  });

  it("without registers, by name as before", () => {
    assert.equal(ruleNamingIn(rules, "socket"), "t.policy:5");
  });
});
