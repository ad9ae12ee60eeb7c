// Lays a decision graph out as classic BPF: orders nodes region by region, drops loads the
// accumulator already holds, turns out-of-reach conditional jumps into jumps through `ja`,
// and measures the longest path.
import { BPF, DATA, ins, type Insn } from "./bpf.js";
import { JMP_CODE, type DagNode, type Note, type Region } from "./dag.js";

/** A laid-out program with a note per instruction and region titles by first instruction. */
export interface Assembled {
  insns: Insn[];
  notes: (Note | undefined)[];
  headers: Map<number, string>;
  worstPath: number;
}

interface Slot {
  node: DagNode;
  load: boolean;
  and: boolean;
  longT: boolean;
  longF: boolean;
  pos: number;
}

/** Name of a seccomp_data word for listings. */
export function wordName(off: number): string {
  if (off === DATA.nr) return "nr";
  if (off === DATA.arch) return "arch";
  if (off === DATA.ip) return "instruction_pointer (low)";
  if (off === DATA.ip + 4) return "instruction_pointer (high)";
  const i = (off - DATA.args) >> 3;
  return `arg${i} ${(off - DATA.args) % 8 === 0 ? "low" : "high"} word`;
}

/** Topological order, region by region: within a region, reverse post-order from its entries. */
function order(root: DagNode, regions: readonly Region[], size: number): DagNode[] {
  const byRegion: DagNode[][] = regions.map(() => []);
  const seen = new Uint8Array(size);
  const localParent = new Uint8Array(size);
  const stack: DagNode[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen[n.id]) continue;
    seen[n.id] = 1;
    byRegion[n.region.id]!.push(n);
    if (n.kind === "test") {
      if (n.t.region === n.region) localParent[n.t.id] = 1;
      if (n.f.region === n.region) localParent[n.f.id] = 1;
      stack.push(n.f, n.t);
    }
  }
  const out: DagNode[] = [];
  const done = new Uint8Array(size);
  for (const members of byRegion) {
    const post: DagNode[] = [];
    for (const start of members) {
      if (localParent[start.id] || done[start.id]) continue;
      // iterative DFS; children visited t first, so the f child ends up right after its parent
      const work: DagNode[] = [start];
      const next: number[] = [0];
      done[start.id] = 1;
      while (work.length) {
        const top = work.length - 1;
        const n = work[top]!;
        const i = next[top]!;
        if (n.kind === "test" && i < 2) {
          next[top] = i + 1;
          const c = i === 0 ? n.t : n.f;
          if (c.region === n.region && !done[c.id]) { done[c.id] = 1; work.push(c); next.push(0); }
        } else {
          work.pop();
          next.pop();
          post.push(n);
        }
      }
    }
    for (let i = post.length - 1; i >= 0; i--) out.push(post[i]!);
  }
  return out;
}

const UNKNOWN = -1;
/** The accumulator holding `word & mask` (mask null: the whole word) as one number. */
function stateOf(word: number, mask: number | null): number {
  return word * 2 ** 33 + (mask === null ? 2 ** 32 : mask);
}

/** Lays out the graph rooted at `root`; throws if a jump would go backwards (a compiler bug). */
export function assemble(root: DagNode, regions: readonly Region[], size: number): Assembled {
  const nodes = order(root, regions, size);
  const index = new Int32Array(size).fill(-1);
  nodes.forEach((n, i) => { index[n.id] = i; });

  // accumulator state on entry: what every predecessor leaves in A, or UNKNOWN
  const entry = new Float64Array(size).fill(NaN);
  const slots: Slot[] = nodes.map((node) => ({ node, load: false, and: false, longT: false, longF: false, pos: 0 }));
  for (const s of slots) {
    const n = s.node;
    if (n.kind !== "test") continue;
    const state = Number.isNaN(entry[n.id]!) ? UNKNOWN : entry[n.id]!;
    const want = stateOf(n.word, n.mask);
    if (state === want) {
      // A already holds exactly this
    } else if (n.mask !== null && state !== UNKNOWN && holdsSuperMask(state, n.word, n.mask)) {
      s.and = true;
    } else {
      s.load = true;
      s.and = n.mask !== null;
    }
    for (const c of [n.t, n.f]) {
      if (index[c.id]! <= index[n.id]!) throw new Error(`seccomp compiler: backward edge to node ${c.id}`);
      const e = entry[c.id]!;
      entry[c.id] = Number.isNaN(e) || e === want ? want : UNKNOWN;
    }
  }

  // positions, growing out-of-reach jumps into trampolines until nothing changes
  const sizeOf = (s: Slot) => (s.node.kind === "ret" ? 1 : (s.load ? 1 : 0) + (s.and ? 1 : 0) + 1 + (s.longT ? 1 : 0) + (s.longF ? 1 : 0));
  const jmpPos = (s: Slot) => s.pos + (s.load ? 1 : 0) + (s.and ? 1 : 0);
  const target = (n: DagNode) => slots[index[n.id]!]!.pos;
  for (;;) {
    let pos = 0;
    for (const s of slots) { s.pos = pos; pos += sizeOf(s); }
    let changed = false;
    for (const s of slots) {
      const n = s.node;
      if (n.kind !== "test") continue;
      const from = jmpPos(s) + 1;
      if (!s.longT && target(n.t) - from > 255) { s.longT = true; changed = true; }
      if (!s.longF && target(n.f) - from > 255) { s.longF = true; changed = true; }
    }
    if (!changed) break;
  }

  const insns: Insn[] = [];
  const notes: (Note | undefined)[] = [];
  const headers = new Map<number, string>();
  let lastRegion = -1;
  for (const s of slots) {
    const n = s.node;
    if (n.region.id !== lastRegion) { headers.set(insns.length, n.region.title); lastRegion = n.region.id; }
    if (n.kind === "ret") { insns.push(ins.ret(n.k)); notes.push(n.note); continue; }
    if (s.load) { insns.push(ins.ldAbs(n.word)); notes.push(undefined); }
    if (s.and) { insns.push(ins.andK(n.mask!)); notes.push(undefined); }
    const p = insns.length;
    let jt: number, jf: number;
    if (s.longT && s.longF) { jt = 0; jf = 1; }
    else if (s.longT) { jt = 0; jf = target(n.f) - (p + 1); }
    else if (s.longF) { jt = target(n.t) - (p + 1); jf = 0; }
    else { jt = target(n.t) - (p + 1); jf = target(n.f) - (p + 1); }
    insns.push(ins.jmp(JMP_CODE[n.op], n.k, jt, jf));
    notes.push(n.note);
    if (s.longT) { insns.push(ins.ja(target(n.t) - (insns.length + 1))); notes.push("far jump"); }
    if (s.longF) { insns.push(ins.ja(target(n.f) - (insns.length + 1))); notes.push("far jump"); }
  }
  return { insns, notes, headers, worstPath: longestPath(insns) };
}

/** Whether A = `word & m` (or the whole word) with `mask` a subset of m, so one `and` suffices. */
function holdsSuperMask(state: number, word: number, mask: number): boolean {
  if (Math.floor(state / 2 ** 33) !== word) return false;
  const m = state % 2 ** 33;
  return m === 2 ** 32 || ((mask & ~m) >>> 0) === 0;
}

/** Longest path from the first instruction to a return, counting every instruction executed. */
export function longestPath(insns: readonly Insn[]): number {
  const len = new Array<number>(insns.length + 1).fill(0);
  for (let i = insns.length - 1; i >= 0; i--) {
    const x = insns[i]!;
    const cls = x.code & 0x07;
    const at = (j: number) => len[j] ?? 0;
    if (cls === BPF.RET) len[i] = 1;
    else if (cls === BPF.JMP) {
      if ((x.code & 0xf0) === BPF.JA) len[i] = 1 + at(i + 1 + x.k);
      else len[i] = 1 + Math.max(at(i + 1 + x.jt), at(i + 1 + x.jf));
    } else len[i] = 1 + at(i + 1);
  }
  return len[0] ?? 0;
}
