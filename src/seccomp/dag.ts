// The decision graph the compiler builds before laying out BPF: tests on one 32-bit word of
// seccomp_data and constant returns, hash-consed and constant-folded as they are made.
import { BPF, argWord } from "./bpf.js";
import type { ArgWidth, CompareOp } from "./types.js";

/** Conditional jumps with a constant operand, as the kernel's action cache can follow them. */
export type JmpOp = "jeq" | "jgt" | "jge" | "jset";

/** BPF opcode bits for a JmpOp. */
export const JMP_CODE: Record<JmpOp, number> = { jeq: BPF.JEQ, jgt: BPF.JGT, jge: BPF.JGE, jset: BPF.JSET };

/** A stretch of the program laid out together (the arch dispatch, one ABI's number search, one call's checks). */
export interface Region {
  id: number;
  title: string;
}

/** A listing note, built only when a listing is asked for. */
export type Note = string | (() => string);

/** `A = word & mask; if (A op k) goto t else goto f`. A null mask means the whole word. */
export interface TestNode {
  kind: "test";
  id: number;
  region: Region;
  word: number;
  mask: number | null;
  op: JmpOp;
  k: number;
  t: DagNode;
  f: DagNode;
  note?: Note;
}

/** `return k`. */
export interface RetNode {
  kind: "ret";
  id: number;
  region: Region;
  k: number;
  note?: Note;
}

/** A node of the decision graph: a test or a return. */
export type DagNode = TestNode | RetNode;

/** A comparison after the ABI's widths are applied: value and mask already reduced to `width` bits. */
export interface NormComparison {
  arg: number;
  op: CompareOp;
  value: bigint;
  mask: bigint;
  width: ArgWidth;
}

/** A condition over normalized comparisons. */
export type NormCondition = NormComparison | { and: NormCondition[] } | { or: NormCondition[] } | { not: NormCondition };

const FULL = 0xffffffff;

/** Whether `(x & mask) op k` can be true / false for some 32-bit x; used to fold constant tests. */
function fold(mask: number | null, op: JmpOp, k: number): boolean | undefined {
  const m = mask ?? FULL;
  switch (op) {
    case "jeq":
      if ((k & ~m) >>> 0 !== 0) return false;
      if (m === 0) return k === 0;
      return undefined;
    case "jgt":
      if (k >= m) return false;
      return undefined;
    case "jge":
      if (k === 0) return true;
      if (k > m) return false;
      return undefined;
    case "jset":
      if ((k & m) >>> 0 === 0) return false;
      return undefined;
  }
}

/** Builds hash-consed nodes; identical tests in one region become one node. */
export class Graph {
  private next = 0;
  private readonly memo = new Map<string, DagNode>();
  readonly regions: Region[] = [];

  /** How many nodes were made (node ids are 0..size-1). */
  get size(): number {
    return this.next;
  }

  /** A new region; regions are laid out in the order they are made. */
  region(title: string): Region {
    const r = { id: this.regions.length, title };
    this.regions.push(r);
    return r;
  }

  /** A return node; `shared` ones are reused within the region, others are private copies. */
  ret(region: Region, k: number, note?: Note, shared = true): RetNode {
    const key = `${region.id}r${k >>> 0}`;
    if (shared) {
      const hit = this.memo.get(key);
      if (hit && hit.kind === "ret") return hit;
    }
    const n: RetNode = { kind: "ret", id: this.next++, region, k: k >>> 0 };
    if (note) n.note = note;
    if (shared) this.memo.set(key, n);
    return n;
  }

  /** A test node, or one of its targets when the outcome is known. */
  test(region: Region, word: number, mask: number | null, op: JmpOp, k: number, t: DagNode, f: DagNode, note?: Note): DagNode {
    k >>>= 0;
    if (mask !== null) mask >>>= 0;
    if (mask === FULL) mask = null;
    if (t === f) return t;
    const known = fold(mask, op, k);
    if (known !== undefined) return known ? t : f;
    // (A & m) == 0 and single-bit (A & b) == b are jset tests, which need no ALU step
    if (op === "jset" && mask !== null) { k = (k & mask) >>> 0; mask = null; }
    if (op === "jeq" && mask !== null && k === 0) { op = "jset"; k = mask; mask = null; [t, f] = [f, t]; }
    if (op === "jeq" && mask !== null && k === mask && (k & (k - 1)) === 0) { op = "jset"; mask = null; }
    const key = `${region.id}:${word}:${mask}:${op}:${k}:${t.id}:${f.id}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const n: TestNode = { kind: "test", id: this.next++, region, word, mask, op, k, t, f };
    if (note) n.note = note;
    this.memo.set(key, n);
    return n;
  }

  /** A test that is never shared nor folded (the number search makes each of its tests once). */
  branch(region: Region, word: number, op: JmpOp, k: number, t: DagNode, f: DagNode, note?: Note): DagNode {
    if (t === f) return t;
    const n: TestNode = { kind: "test", id: this.next++, region, word, mask: null, op, k: k >>> 0, t, f };
    if (note) n.note = note;
    return n;
  }

  /** Nodes for a normalized condition: go to t when it holds, else to f. */
  condition(region: Region, c: NormCondition, t: DagNode, f: DagNode): DagNode {
    if ("and" in c) {
      let n = t;
      for (let i = c.and.length - 1; i >= 0; i--) n = this.condition(region, c.and[i]!, n, f);
      return n;
    }
    if ("or" in c) {
      let n = f;
      for (let i = c.or.length - 1; i >= 0; i--) n = this.condition(region, c.or[i]!, t, n);
      return n;
    }
    if ("not" in c) return this.condition(region, c.not, f, t);
    return this.comparison(region, c, t, f);
  }

  // A 64-bit argument is two words; unsigned comparisons decide on the high word unless the high
  // words are equal, then on the low word. Narrow comparisons (width <= 32) only ever load the low
  // word: the high word is what the kernel ignores, so it must not influence the outcome.
  private comparison(region: Region, c: NormComparison, t: DagNode, f: DagNode): DagNode {
    const lo = argWord(c.arg, 0), hi = argWord(c.arg, 1);
    const ml = Number(c.mask & 0xffffffffn), vl = Number(c.value & 0xffffffffn);
    const wide = c.width === 64;
    const mh = wide ? Number(c.mask >> 32n) : 0, vh = wide ? Number(c.value >> 32n) : 0;
    const note = () => describe(c);
    const eq = (T: DagNode, F: DagNode): DagNode => {
      if ((c.value & ~c.mask) !== 0n) return F;
      const low = this.test(region, lo, ml, "jeq", vl, T, F, note);
      return mh === 0 ? low : this.test(region, hi, mh, "jeq", vh, low, F, note);
    };
    const above = (T: DagNode, F: DagNode, lowOp: "jgt" | "jge"): DagNode => {
      const low = this.test(region, lo, ml, lowOp, vl, T, F, note);
      if (mh === 0) return vh === 0 ? low : F;
      const same = this.test(region, hi, mh, "jeq", vh, low, F, note);
      return this.test(region, hi, mh, "jgt", vh, T, same, note);
    };
    switch (c.op) {
      case "==": return eq(t, f);
      case "!=": return eq(f, t);
      case ">": return above(t, f, "jgt");
      case ">=": return above(t, f, "jge");
      case "<": return above(f, t, "jge");
      case "<=": return above(f, t, "jgt");
    }
  }
}

/** "arg1 & 0xf == 0x3" style text for listings. */
export function describe(c: NormComparison): string {
  const full = (1n << BigInt(c.width)) - 1n;
  const hex = (v: bigint) => (v < 10n ? v.toString() : "0x" + v.toString(16));
  const arg = `arg${c.arg}${c.width === 64 ? "" : ":" + c.width}`;
  return `${arg}${c.mask === full ? "" : " & " + hex(c.mask)} ${c.op} ${hex(c.value)}`;
}
