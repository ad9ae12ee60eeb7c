// The binary plan format (native/src/plan.c reads it): header fields, argument lengths with the
// trailing NUL, UTF-8 strings, blobs, and an empty plan. A small decoder here mirrors plan.c.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodePlan } from "../../src/plan/encode.js";
import { OpCode, PROTOCOL, type Plan } from "../../src/plan/types.js";

interface Decoded { magic: string; proto: number; flags: number; ops: { code: number; args: Buffer[] }[] }

function decode(b: Buffer): Decoded {
  const nops = b.readUInt32LE(12);
  assert.equal(b.readUInt32LE(16), b.length - 20, "body length covers the rest exactly");
  const ops: Decoded["ops"] = [];
  let off = 20;
  for (let i = 0; i < nops; i++) {
    const code = b.readUInt32LE(off);
    const argc = b.readUInt32LE(off + 4);
    off += 8;
    const args: Buffer[] = [];
    for (let k = 0; k < argc; k++) {
      const len = b.readUInt32LE(off);
      args.push(b.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    ops.push({ code, args });
  }
  assert.equal(off, b.length, "no trailing bytes");
  return { magic: b.subarray(0, 4).toString("latin1"), proto: b.readUInt32LE(4), flags: b.readUInt32LE(8), ops };
}

describe("plan encoding", () => {
  it("writes the header: magic, protocol, flags, op count", () => {
    const d = decode(encodePlan({ mode: "run", flags: 0x80000005, ops: [] } as unknown as Plan));
    assert.deepEqual({ magic: d.magic, proto: d.proto, flags: d.flags, n: d.ops.length }, { magic: "SJP1", proto: PROTOCOL, flags: 0x80000005, n: 0 });
  });

  it("ends every string with one NUL counted in its length, in UTF-8", () => {
    const plan = {
      mode: "run", flags: 0,
      ops: [
        { op: "hostname", args: ["jail-1"] },
        { op: "env", args: ["GREETING=grüße ✓", ""] },
      ],
    } as unknown as Plan;
    const d = decode(encodePlan(plan));
    assert.equal(d.ops[0]!.code, OpCode.hostname);
    assert.deepEqual(d.ops[0]!.args[0], Buffer.from("jail-1\0"));
    assert.equal(d.ops[1]!.code, OpCode.env);
    assert.deepEqual(d.ops[1]!.args[0], Buffer.from("GREETING=grüße ✓\0", "utf8"));
    assert.equal(d.ops[1]!.args[0]!.length, Buffer.byteLength("GREETING=grüße ✓") + 1);
    assert.deepEqual(d.ops[1]!.args[1], Buffer.from([0]));
  });

  it("copies blobs as they are, without a NUL", () => {
    const blob = Uint8Array.from({ length: 4160 }, (_, i) => (i * 7) & 0xff);
    const d = decode(encodePlan({ mode: "run", flags: 0, ops: [{ op: "seccomp", args: ["0", blob] }] } as unknown as Plan));
    assert.equal(d.ops[0]!.code, OpCode.seccomp);
    assert.deepEqual(d.ops[0]!.args[0], Buffer.from("0\0"));
    assert.deepEqual(new Uint8Array(d.ops[0]!.args[1]!), blob);
  });

  it("copies a blob that is a view into a larger buffer: its own bytes only", () => {
    const whole = Uint8Array.from({ length: 64 }, (_, i) => i);
    const view = whole.subarray(10, 30);
    const d = decode(encodePlan({ mode: "run", flags: 0, ops: [{ op: "seccomp", args: ["0", view] }] } as unknown as Plan));
    assert.deepEqual([...d.ops[0]!.args[1]!], [...view]);
  });

  it("writes every byte of lengths and counts past 255", () => {
    const long = "x".repeat(70000);
    const ops = Array.from({ length: 300 }, () => ({ op: "env", args: ["A=1"] }));
    const d = decode(encodePlan({ mode: "run", flags: 0, ops: [{ op: "hostname", args: [long] }, ...ops] } as unknown as Plan));
    assert.equal(d.ops.length, 301);
    assert.equal(d.ops[0]!.args[0]!.length, 70001);
  });

  it("encodes the longest UTF-8 forms and a lone surrogate as Buffer.from does, with nothing cut", () => {
    // three bytes per UTF-16 unit is the worst case the buffer is sized for; a lone surrogate
    // becomes U+FFFD (three bytes), a pair four
    const args = ["✓".repeat(5000), "\u{1F600}".repeat(3), "a\ud800b", "", "\udfff"];
    const d = decode(encodePlan({ mode: "run", flags: 0, ops: [{ op: "env", args }, { op: "hostname", args: ["h"] }] } as unknown as Plan));
    assert.deepEqual(d.ops[0]!.args, args.map((a) => Buffer.from(`${a}\0`, "utf8")));
    assert.deepEqual(d.ops[1]!.args[0], Buffer.from("h\0"));
  });
});
