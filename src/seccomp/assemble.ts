// Lays a decision graph out as classic BPF: orders nodes region by region, drops loads the
// accumulator already holds, turns out-of-reach conditional jumps into jumps through `ja`,
// and measures the longest path.
import { BPF, DATA, ins, type Insn } from "./bpf.js";
import { JMP_CODE, type DagNode, type Region, type TestNode } from "./dag.js";

/** A laid-out program with a note per instruction and region titles by first instruction. */
export interface Assembled {
  insns: Insn[];
  notes: string[];
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
function order(root: DagNode, regions: readonly Region[]): DagNode[] {
  const byRegion = new Map<number, DagNode[]>();
  const seen = new Set<number>();
  const stack: DagNode[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    const list = byRegion.get(n.region.id) ?? [];
    list.push(n);
    byRegion.set(n.region.id, list);
    if (n.kind === "test") stack.push(n.f, n.t);
  }
  const out: DagNode[] = [];
  for (const r of regions) {
    const members = byRegion.get(r.id);
    if (!members) continue;
    const inRegion = new Set(members.map((n) => n.id));
    const hasLocalParent = new Set<number>();
    for (const n of members) {
      if (n.kind !== "test") continue;
      for (const c of [n.t, n.f]) if (inRegion.has(c.id)) hasLocalParent.add(c.id);
    }
    const post: DagNode[] = [];
    const done = new Set<number>();
    const visit = (start: DagNode) => {
      // iterative DFS; children visited t first, so the f child ends up right after its parent
      const work: [DagNode, number][] = [[start, 0]];
      done.add(start.id);
      while (work.length) {
        const top = work[work.length - 1]!;
        const [n, i] = top;
        const kids = n.kind === "test" ? [n.t, n.f] : [];
        if (i < kids.length) {
          top[1]++;
          const c = kids[i]!;
          if (inRegion.has(c.id) && !done.has(c.id)) { done.add(c.id); work.push([c, 0]); }
        } else {
          work.pop();
          post.push(n);
        }
      }
    };
    for (const n of members) if (!hasLocalParent.has(n.id) && !done.has(n.id)) visit(n);
    out.push(...post.reverse());
  }
  return out;
}

/** Lays out the graph rooted at `root`; throws if a jump would go backwards (a compiler bug). */
export function assemble(root: DagNode, regions: readonly Region[]): Assembled {
  const nodes = order(root, regions);
  const index = new Map<number, number>();
  nodes.forEach((n, i) => index.set(n.id, i));

  // accumulator state on entry: what every predecessor leaves in A ("word/mask"), or null
  const exitState = new Map<number, string>();
  const entry = new Map<number, string | null>();
  const slots: Slot[] = nodes.map((node) => ({ node, load: false, and: false, longT: false, longF: false, pos: 0 }));
  for (const s of slots) {
    const n = s.node;
    if (n.kind !== "test") continue;
    const state = entry.has(n.id) ? entry.get(n.id)! : null;
    const want = `${n.word}/${n.mask}`;
    if (state === want) {
      // A already holds exactly this
    } else if (n.mask !== null && state !== null && sameWordSuperMask(state, n.word, n.mask)) {
      s.and = true;
    } else {
      s.load = true;
      s.and = n.mask !== null;
    }
    exitState.set(n.id, want);
    for (const c of [n.t, n.f]) {
      const ci = index.get(c.id);
      if (ci === undefined || ci <= index.get(n.id)!) throw new Error(`seccomp compiler: backward edge to node ${c.id}`);
      if (!entry.has(c.id)) entry.set(c.id, want);
      else if (entry.get(c.id) !== want) entry.set(c.id, null);
    }
  }

  // positions, growing out-of-reach jumps into trampolines until nothing changes
  const size = (s: Slot) => (s.node.kind === "ret" ? 1 : (s.load ? 1 : 0) + (s.and ? 1 : 0) + 1 + (s.longT ? 1 : 0) + (s.longF ? 1 : 0));
  const jmpPos = (s: Slot) => s.pos + (s.load ? 1 : 0) + (s.and ? 1 : 0);
  for (;;) {
    let pos = 0;
    for (const s of slots) { s.pos = pos; pos += size(s); }
    let changed = false;
    for (const s of slots) {
      const n = s.node;
      if (n.kind !== "test") continue;
      const from = jmpPos(s) + 1;
      if (!s.longT && slots[index.get(n.t.id)!]!.pos - from > 255) { s.longT = true; changed = true; }
      if (!s.longF && slots[index.get(n.f.id)!]!.pos - from > 255) { s.longF = true; changed = true; }
    }
    if (!changed) break;
  }

  const insns: Insn[] = [];
  const notes: string[] = [];
  const headers = new Map<number, string>();
  let lastRegion = -1;
  const target = (n: DagNode) => slots[index.get(n.id)!]!.pos;
  for (const s of slots) {
    const n = s.node;
    if (n.region.id !== lastRegion) { headers.set(insns.length, n.region.title); lastRegion = n.region.id; }
    if (n.kind === "ret") { insns.push(ins.ret(n.k)); notes.push(n.note ?? ""); continue; }
    if (s.load) { insns.push(ins.ldAbs(n.word)); notes.push(wordName(n.word)); }
    if (s.and) { insns.push(ins.andK(n.mask!)); notes.push(""); }
    const p = insns.length;
    let jt: number, jf: number;
    if (s.longT && s.longF) { jt = 0; jf = 1; }
    else if (s.longT) { jt = 0; jf = target(n.f) - (p + 2); }
    else if (s.longF) { jt = target(n.t) - (p + 2); jf = 0; }
    else { jt = target(n.t) - (p + 1); jf = target(n.f) - (p + 1); }
    insns.push(ins.jmp(JMP_CODE[n.op], n.k, jt, jf));
    notes.push(n.note ?? "");
    if (s.longT) { insns.push(ins.ja(target(n.t) - (insns.length + 1))); notes.push("far jump"); }
    if (s.longF) { insns.push(ins.ja(target(n.f) - (insns.length + 1))); notes.push("far jump"); }
  }
  return { insns, notes, headers, worstPath: longestPath(insns) };
}

function sameWordSuperMask(state: string, word: number, mask: number): boolean {
  const [w, m] = state.split("/");
  if (Number(w) !== word) return false;
  if (m === "null") return true;
  return ((mask & ~Number(m)) >>> 0) === 0;
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

/** Test nodes of a graph (for statistics). */
export function testNodes(root: DagNode): TestNode[] {
  const out: TestNode[] = [];
  const seen = new Set<number>();
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    if (n.kind === "test") { out.push(n); stack.push(n.t, n.f); }
  }
  return out;
}
