// Encodes a plan into the helper's binary format (native/src/plan.c) and into JSON for --dry-run.
import { OpCode, PROTOCOL, type Plan } from "./types.js";

/** Buffer's own UTF-8 writer (a binding in Node 20, no checks in JavaScript), else write(). */
type Utf8Writer = { utf8Write?: (s: string, offset: number) => number };

/** The binary plan the helper reads on fd 3: header, then ops of (code, argc, (len, bytes)...).
 * A string argument is its UTF-8 bytes and a NUL, counted in its length. */
export function encodePlan(plan: Plan): Buffer {
  // written into one buffer sized for the worst case (3 UTF-8 bytes per UTF-16 unit), each string
  // by Buffer's UTF-8 writer in C++: this runs cold at every start, where building a latin1
  // string of the plan and converting it once cost create 1.8 against 0.8 ms (Buffer's checked
  // writeUInt32LE, called per field, cost about twice the string's)
  let cap = 20;
  for (const o of plan.ops) {
    cap += 8;
    for (const a of o.args) cap += 5 + (typeof a === "string" ? a.length * 3 : a.byteLength);
  }
  const buf = Buffer.allocUnsafe(cap);
  const utf8 = (buf as Utf8Writer).utf8Write;
  let n = 20;
  const put = (at: number, v: number) => {
    buf[at] = v;
    buf[at + 1] = v >>> 8;
    buf[at + 2] = v >>> 16;
    buf[at + 3] = v >>> 24;
  };
  for (const o of plan.ops) {
    put(n, OpCode[o.op]);
    put(n + 4, o.args.length);
    n += 8;
    for (const a of o.args) {
      const at = n;
      n += 4;
      if (typeof a === "string") {
        const len = utf8 ? utf8.call(buf, a, n) : buf.write(a, n, "utf8");
        n += len;
        buf[n++] = 0;
        put(at, len + 1);
      } else {
        buf.set(a, n);
        n += a.byteLength;
        put(at, a.byteLength);
      }
    }
  }
  buf[0] = 0x53; // "SJP1"
  buf[1] = 0x4a;
  buf[2] = 0x50;
  buf[3] = 0x31;
  put(4, PROTOCOL);
  put(8, plan.flags >>> 0);
  put(12, plan.ops.length);
  put(16, n - 20);
  return buf.subarray(0, n);
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
