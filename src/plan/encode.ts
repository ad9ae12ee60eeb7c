// Encodes a plan into the helper's binary format (native/src/plan.c) and into JSON for --dry-run.
import { OpCode, PROTOCOL, type Plan } from "./types.js";

const MAGIC = Buffer.from("SJP1", "latin1");

/** The binary plan the helper reads on fd 3: header, then ops of (code, argc, (len, bytes)...).
 * A string argument is its UTF-8 bytes and a NUL, counted in its length. */
export function encodePlan(plan: Plan): Buffer {
  // two passes over one buffer: sizes first, then the bytes written in place (this runs cold at
  // every start, so it makes no intermediate buffer per argument)
  let bodyLen = 0;
  for (const o of plan.ops) {
    bodyLen += 8;
    for (const a of o.args) bodyLen += 4 + (typeof a === "string" ? Buffer.byteLength(a, "utf8") + 1 : a.byteLength);
  }
  const out = Buffer.allocUnsafe(20 + bodyLen);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(PROTOCOL, 4);
  out.writeUInt32LE(plan.flags >>> 0, 8);
  out.writeUInt32LE(plan.ops.length, 12);
  out.writeUInt32LE(bodyLen, 16);
  let off = 20;
  for (const o of plan.ops) {
    out.writeUInt32LE(OpCode[o.op], off);
    out.writeUInt32LE(o.args.length, off + 4);
    off += 8;
    for (const a of o.args) {
      if (typeof a === "string") {
        const n = out.write(a, off + 4, "utf8");
        out[off + 4 + n] = 0;
        out.writeUInt32LE(n + 1, off);
        off += 5 + n;
      } else {
        out.writeUInt32LE(a.byteLength, off);
        out.set(a, off + 4);
        off += 4 + a.byteLength;
      }
    }
  }
  return out;
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
