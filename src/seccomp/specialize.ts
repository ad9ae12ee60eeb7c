// Compiles one call's rule chain into graph nodes. When several rules compare the same argument
// with constants (socket's family, ioctl's command), the chain is first split on that argument's
// value: a search over the constants, then for each one the chain with every test on that argument
// already decided. Socket rules then cost a few tests instead of a scan through every rule.
import { actionValue, argWord, retName } from "./bpf.js";
import type { DagNode, Graph, NormComparison, NormCondition, Region } from "./dag.js";
import type { Action, ArgWidth } from "./types.js";

/** Rules for one call, checked last first; `fallback` when none matches. */
export interface Chain {
  fallback: Action;
  entries: { cond: NormCondition; action: Action }[];
}

/** What is known about the split argument on one branch. */
type Known = { value: bigint } | { notIn: ReadonlySet<bigint> };

interface Split {
  arg: number;
  width: ArgWidth;
}

const MIN_CONSTANTS = 3;

function full(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

function isPlainEquality(c: NormComparison): boolean {
  return (c.op === "==" || c.op === "!=") && c.mask === full(c.width) && c.width <= 32;
}

function* comparisons(c: NormCondition): Generator<NormComparison> {
  if ("and" in c) for (const x of c.and) yield* comparisons(x);
  else if ("or" in c) for (const x of c.or) yield* comparisons(x);
  else if ("not" in c) yield* comparisons(c.not);
  else yield c;
}

/** The (argument, width) compared with the most distinct constants, if there are enough of them. */
function chooseSplit(chain: Chain): { split: Split; values: bigint[] } | undefined {
  const seen = new Map<string, Set<bigint>>();
  for (const e of chain.entries) {
    for (const c of comparisons(e.cond)) {
      if (!isPlainEquality(c)) continue;
      const key = `${c.arg}/${c.width}`;
      const set = seen.get(key) ?? new Set<bigint>();
      set.add(c.value);
      seen.set(key, set);
    }
  }
  let best: { split: Split; values: bigint[] } | undefined;
  for (const [key, set] of seen) {
    if (set.size < MIN_CONSTANTS || (best && best.values.length >= set.size)) continue;
    const [arg, width] = key.split("/").map(Number) as [number, ArgWidth];
    best = { split: { arg, width }, values: [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
  }
  return best;
}

/** The condition with what is known about the split argument applied: true, false, or what remains. */
function decide(c: NormCondition, s: Split, k: Known): NormCondition | boolean {
  if ("and" in c || "or" in c) {
    const isAnd = "and" in c;
    const parts: NormCondition[] = [];
    for (const x of isAnd ? c.and : (c as { or: NormCondition[] }).or) {
      const r = decide(x, s, k);
      if (r === !isAnd) return r;
      if (r !== isAnd) parts.push(r as NormCondition);
    }
    if (parts.length === 0) return isAnd;
    return parts.length === 1 ? parts[0]! : isAnd ? { and: parts } : { or: parts };
  }
  if ("not" in c) {
    const r = decide(c.not, s, k);
    return typeof r === "boolean" ? !r : { not: r };
  }
  // a narrower view of the same argument is known too; a wider one (the high word) is not
  if (c.arg !== s.arg || c.width > s.width) return c;
  if ("value" in k) {
    const x = k.value & full(c.width) & c.mask;
    switch (c.op) {
      case "==": return x === c.value;
      case "!=": return x !== c.value;
      case "<": return x < c.value;
      case "<=": return x <= c.value;
      case ">": return x > c.value;
      case ">=": return x >= c.value;
    }
  }
  if (c.width === s.width && isPlainEquality(c) && k.notIn.has(c.value)) return c.op === "!=";
  return c;
}

/** The chain as it stands on one branch: entries decided false go, one decided true ends it. */
function restrict(chain: Chain, s: Split, k: Known): Chain {
  let fallback = chain.fallback;
  let entries: Chain["entries"] = [];
  for (const e of chain.entries) {
    const r = decide(e.cond, s, k);
    if (r === false) continue;
    if (r === true) { fallback = e.action; entries = []; continue; }
    entries.push({ cond: r, action: e.action });
  }
  // leading entries that give what the fallback gives change nothing
  let i = 0;
  while (i < entries.length && actionValue(entries[i]!.action) === actionValue(fallback)) i++;
  return { fallback, entries: entries.slice(i) };
}

/** Nodes for a call's rules, in `region`. */
export function buildChain(g: Graph, region: Region, chain: Chain, depth = 0): DagNode {
  const ret = (a: Action) => { const k = actionValue(a); return g.ret(region, k, () => retName(k)); };
  const pick = depth < 3 ? chooseSplit(chain) : undefined;
  if (!pick) {
    let node: DagNode = ret(chain.fallback);
    for (const e of chain.entries) node = g.condition(region, e.cond, ret(e.action), node);
    return node;
  }
  const { split, values } = pick;
  const word = argWord(split.arg, 0);
  const mask = split.width === 32 ? null : Number(full(split.width));
  const other = buildChain(g, region, restrict(chain, split, { notIn: new Set(values) }), depth + 1);
  const cases = values.map((v) => buildChain(g, region, restrict(chain, split, { value: v }), depth + 1));
  const name = `arg${split.arg}${split.width === 64 ? "" : ":" + split.width}`;
  const note = (op: string, v: bigint) => () => `${name} ${op} 0x${v.toString(16)}`;
  // search the sorted constants: jge halves the list, a short run ends in jeq tests
  const search = (lo: number, hi: number): DagNode => {
    if (hi - lo < 3) {
      let n = other;
      for (let i = hi; i >= lo; i--) n = g.test(region, word, mask, "jeq", Number(values[i]!), cases[i]!, n, note("==", values[i]!));
      return n;
    }
    const mid = (lo + hi + 1) >> 1;
    return g.test(region, word, mask, "jge", Number(values[mid]!), search(mid, hi), search(lo, mid - 1), note(">=", values[mid]!));
  };
  return search(0, values.length - 1);
}
