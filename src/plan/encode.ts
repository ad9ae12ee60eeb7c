// Encodes a plan into the helper's binary format (native/src/plan.c) and into JSON for --dry-run.
import { OpCode, PROTOCOL, type Plan } from "./types.js";

const MAGIC = Buffer.from("SJP1", "latin1");

/** The binary plan the helper reads on fd 3: header, then ops of (code, argc, (len, bytes)...). */
export function encodePlan(plan: Plan): Buffer {
  const parts: Buffer[] = [];
  let bodyLen = 0;
  for (const o of plan.ops) {
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32LE(OpCode[o.op], 0);
    head.writeUInt32LE(o.args.length, 4);
    parts.push(head);
    bodyLen += 8;
    for (const a of o.args) {
      // strings end with NUL so the helper can use them in place; blobs go as they are
      const bytes = typeof a === "string" ? Buffer.from(a + "\0", "utf8") : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32LE(bytes.length, 0);
      parts.push(len, bytes);
      bodyLen += 4 + bytes.length;
    }
  }
  const header = Buffer.alloc(20);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(PROTOCOL, 4);
  header.writeUInt32LE(plan.flags >>> 0, 8);
  header.writeUInt32LE(plan.ops.length, 12);
  header.writeUInt32LE(bodyLen, 16);
  return Buffer.concat([header, ...parts], 20 + bodyLen);
}

/** The plan as plain JSON data (blobs as base64 with their length), for --dry-run and -dd. */
export function planToJson(plan: Plan): unknown {
  return {
    protocol: PROTOCOL,
    mode: plan.mode,
    flags: plan.flags,
    ops: plan.ops.map((o) => ({
      op: o.op,
      args: o.args.map((a) => (typeof a === "string" ? a : { blob: Buffer.from(a).toString("base64"), bytes: a.byteLength })),
      ...(o.note ? { note: o.note } : {}),
    })),
  };
}
