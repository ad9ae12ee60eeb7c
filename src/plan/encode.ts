// Encodes a plan into the helper's binary format (native/src/plan.c) and into JSON for --dry-run.
import { OpCode, PROTOCOL, type Plan } from "./types.js";

/** A little-endian u32 as four latin1 characters. */
function u32(n: number): string {
  return String.fromCharCode(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
}

/** The binary plan the helper reads on fd 3: header, then ops of (code, argc, (len, bytes)...).
 * A string argument is its UTF-8 bytes and a NUL, counted in its length. */
export function encodePlan(plan: Plan): Buffer {
  // built as one latin1 string (a byte per character) and converted once: this runs cold at
  // every start, where a call per field into Buffer's checked writers costs about twice as much
  let body = "";
  for (const o of plan.ops) {
    body += u32(OpCode[o.op]) + u32(o.args.length);
    for (const a of o.args) {
      if (typeof a === "string") {
        // ASCII is its own UTF-8; anything else is encoded, then carried byte for byte
        const bytes = /^[\x00-\x7f]*$/.test(a) ? a : Buffer.from(a, "utf8").toString("latin1");
        body += u32(bytes.length + 1) + bytes + "\0";
      } else {
        body += u32(a.byteLength) + Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("latin1");
      }
    }
  }
  const head = "SJP1" + u32(PROTOCOL) + u32(plan.flags >>> 0) + u32(plan.ops.length) + u32(body.length);
  return Buffer.from(head + body, "latin1");
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
