// The policy compiler: rules -> per-ABI decisions -> decision graph -> laid-out BPF.
import { ABIS, callName, machineFor, machineNames, X32_BIT, type Abi, type Machine } from "./abi.js";
import { assemble, type Assembled } from "./assemble.js";
import { actionValue, DATA, encode, MAX_INSNS, RET, retName as namer } from "./bpf.js";
import { Graph, type DagNode, type NormCondition, type Region } from "./dag.js";
import type { AbiMode, AbiName, Action, CompiledFilter, Rule, Target } from "./types.js";
import { buildChain } from "./specialize.js";
import { checkRules, conditionKey, normalize, policyError } from "./validate.js";

const ENOSYS = 38;

/** Calls whose arguments sit in memory, refused on their ABI so libc uses the direct calls. */
const MULTIPLEXED: Partial<Record<AbiName, string[]>> = { i386: ["socketcall", "ipc"] };

/** How the compiled program treats one ABI. */
export interface AbiPlan {
  abi: Abi;
  role: "native" | "foreign" | "x32";
  mode: AbiMode;
}

/** What a call number resolves to on one ABI: the last matching entry of the chain wins, else fallback. */
interface Decision {
  fallback: Action;
  chain: { cond: NormCondition; action: Action }[];
}

/** The full result of a compilation, for the API and the disassembler. */
export interface Compilation {
  filter: CompiledFilter;
  asm: Assembled;
  machine: Machine;
  plans: AbiPlan[];
  defaultAction: Action;
}

/** ABI modes after the target's choices and the policy's `abi` rules. */
function planAbis(machine: Machine, rules: readonly Rule[], target: Target): AbiPlan[] {
  const modes = new Map<AbiName, AbiMode>();
  modes.set(machine.native, "translate");
  for (const f of machine.foreign) modes.set(f, target.foreign ?? "translate");
  if (machine.x32) modes.set(machine.x32, target.x32 ?? "refuse");
  for (const r of rules) {
    if (r.kind !== "abi") continue;
    // the native ABI always runs the policy; naming it (a policy written for another host) changes nothing
    if (r.abi === machine.native) continue;
    const names = r.abi === "foreign" ? machine.foreign : modes.has(r.abi) ? [r.abi] : [];
    for (const n of names) modes.set(n, r.mode);
  }
  const plans: AbiPlan[] = [{ abi: ABIS[machine.native], role: "native", mode: "translate" }];
  for (const f of machine.foreign) plans.push({ abi: ABIS[f], role: "foreign", mode: modes.get(f)! });
  if (machine.x32) plans.push({ abi: ABIS[machine.x32], role: "x32", mode: modes.get(machine.x32)! });
  return plans;
}

/**
 * Per call number, what the rules decide on this ABI: `fixed` holds the return value of calls whose
 * outcome does not depend on arguments; `checked` the calls with argument conditions.
 */
function decide(abi: Abi, rules: readonly Rule[], fallback: Action): { fixed: Map<number, number>; checked: Map<number, Decision> } {
  const fixed = new Map<number, Action>(); // the last unconditional rule's action
  const chains = new Map<number, Decision["chain"]>(); // conditional rules after it, in order
  for (const r of rules) {
    if (r.kind !== "call") continue;
    const nr = abi.numbers.get(r.call);
    if (nr === undefined) continue;
    if (r.when === undefined) { fixed.set(nr, r.action); chains.delete(nr); continue; }
    let chain = chains.get(nr);
    if (!chain) {
      // an entry that can only give what everything below it gives changes nothing
      if (sameAction(fixed.get(nr) ?? fallback, r.action)) continue;
      chain = [];
      chains.set(nr, chain);
    }
    chain.push({ cond: normalize(r.when, r.call, abi), action: r.action });
  }
  for (const name of MULTIPLEXED[abi.name] ?? []) {
    const nr = abi.numbers.get(name);
    if (nr !== undefined) { fixed.set(nr, { kind: "errno", errno: ENOSYS }); chains.delete(nr); }
  }
  const values = new Map<number, number>();
  for (const [nr, a] of fixed) if (!chains.has(nr)) values.set(nr, actionValue(a));
  const checked = new Map<number, Decision>();
  for (const [nr, chain] of chains) checked.set(nr, { fallback: fixed.get(nr) ?? fallback, chain });
  return { fixed: values, checked };
}

function sameAction(a: Action, b: Action): boolean {
  return actionValue(a) === actionValue(b);
}

function decisionKey(d: Decision): string {
  return `${actionValue(d.fallback)}|${d.chain.map((e) => `${actionValue(e.action)}:${conditionKey(e.cond)}`).join(";")}`;
}

/** A leaf of the number search: a constant return value, or the root of a call's argument checks. */
type Leaf = number | DagNode;

interface Segment {
  start: number;
  end: number;
  leaf: Leaf;
}

/**
 * The number search for one audit arch: nr ranges with their leaves, merged where neighbours
 * agree, searched by a balanced tree of `jge` tests. Only nr is loaded on the way to a constant
 * leaf, so the kernel's action cache can resolve every argument-independent call.
 */
function numberSearch(g: Graph, abiPlans: AbiPlan[], rules: readonly Rule[], dflt: Action): DagNode {
  const main = abiPlans[0]!;
  const bst = g.region(`${abiPlans.filter((p) => p.mode === "translate").map((p) => p.abi.name).join(" + ")}: system call number search`);
  const points = new Map<number, Leaf>();
  const subs = new Map<string, { node: DagNode; region: Region }>();
  const defaultK = actionValue(dflt);
  const ranges: { start: number; end: number; k: number }[] = [];
  for (const plan of abiPlans) {
    const x32 = plan.role === "x32";
    if (x32) ranges.push({ start: X32_BIT, end: 0xffffffff, k: plan.mode === "refuse" ? (RET.ERRNO | ENOSYS) >>> 0 : defaultK });
    if (plan.mode === "refuse") continue;
    const { fixed, checked } = decide(plan.abi, rules, dflt);
    for (const [nr, k] of fixed) points.set(nr, k);
    for (const [nr, d] of checked) {
      const key = `${plan.abi.name}|${decisionKey(d)}`;
      let sub = subs.get(key);
      if (!sub) {
        const region = g.region(`${plan.abi.name} ${callName(plan.abi, nr)}: argument checks`);
        sub = { node: buildChain(g, region, { fallback: d.fallback, entries: d.chain }), region };
        subs.set(key, sub);
      } else {
        sub.region.title = sub.region.title.replace(/: argument checks$/, `, ${callName(plan.abi, nr)}: argument checks`);
      }
      points.set(nr, sub.node.kind === "ret" ? sub.node.k : sub.node);
    }
  }
  // segments over the whole 32-bit number space
  const baseEnd = abiPlans.some((p) => p.role === "x32") ? X32_BIT - 1 : 0xffffffff;
  const segs: Segment[] = [];
  const push = (start: number, end: number, leaf: Leaf) => {
    const last = segs[segs.length - 1];
    if (last && last.end + 1 === start && last.leaf === leaf) last.end = end;
    else segs.push({ start, end, leaf });
  };
  const fill = (from: number, to: number, sorted: Uint32Array) => {
    let cur = from;
    for (const nr of sorted) {
      if (nr < from || nr > to) continue;
      if (nr > cur) push(cur, nr - 1, defaultK);
      push(nr, nr, points.get(nr)!);
      cur = nr + 1;
    }
    if (cur <= to) push(cur, to, defaultK);
  };
  const sorted = Uint32Array.from(points.keys()).sort();
  fill(0, baseEnd, sorted);
  for (const r of ranges) {
    if (r.k === defaultK) fill(r.start, r.end, sorted);
    else push(r.start, r.end, r.k);
  }
  const abiForNote = (nr: number) => abiPlans.find((p) => (p.role === "x32") === nr >= X32_BIT)?.abi ?? main.abi;
  const label = (s: Segment) => {
    const a = abiForNote(s.start);
    return s.start === s.end ? callName(a, s.start) : `${callName(a, s.start)} .. ${callName(a, s.end)}`;
  };
  const build = (lo: number, hi: number): DagNode => {
    if (lo === hi) {
      const s = segs[lo]!;
      const k = s.leaf;
      return typeof k !== "number" ? k : g.ret(bst, k, () => `${namer(k)}: ${label(s)}`, false);
    }
    const mid = (lo + hi + 1) >> 1;
    const s = segs[mid]!;
    return g.branch(bst, DATA.nr, "jge", s.start, build(mid, hi), build(lo, mid - 1), () => `nr >= ${s.start} ${callName(abiForNote(s.start), s.start)}`);
  };
  return build(0, segs.length - 1);
}

/**
 * Compiles rules for a target machine; throws SysjailError EPOLICY for bad rules or a too-long
 * program. `checked` skips re-validating rules the parser has just produced.
 */
export function compileRules(rules: readonly Rule[], target: Target, checked = false): Compilation {
  if (!checked) checkRules(rules);
  const machine = machineFor(target.arch);
  if (!machine) throw policyError(`no system call tables for architecture '${target.arch}' (known: ${machineNames().join(", ")})`);
  const plans = planAbis(machine, rules, target);
  let dflt: Action = { kind: "errno", errno: ENOSYS };
  for (const r of rules) if (r.kind === "default") dflt = r.action;

  const g = new Graph();
  const dispatch = g.region("arch dispatch: which ABI made the call");
  // one number search per audit arch: x32 shares x86_64's and is told apart by the x32 bit
  const groups = new Map<number, AbiPlan[]>();
  for (const p of plans) groups.set(p.abi.auditArch, [...(groups.get(p.abi.auditArch) ?? []), p]);
  const arches: { arch: number; node: DagNode; name: string }[] = [];
  for (const [arch, group] of groups) {
    const head = group[0]!;
    const node = head.mode === "refuse"
      ? g.ret(dispatch, (RET.ERRNO | ENOSYS) >>> 0, `${head.abi.name} refused: errno ENOSYS`, false)
      : numberSearch(g, group, rules, dflt);
    arches.push({ arch, node, name: head.abi.name });
  }
  let root: DagNode = g.ret(dispatch, RET.KILL_PROCESS, "unknown arch: kill the process");
  for (let i = arches.length - 1; i >= 0; i--) {
    const a = arches[i]!;
    root = g.test(dispatch, DATA.arch, null, "jeq", a.arch, a.node, root, `arch == ${a.name} (0x${a.arch.toString(16)})`);
  }
  const asm = assemble(root, g.regions, g.size);
  if (asm.insns.length > MAX_INSNS) {
    throw policyError(`the policy compiles to ${asm.insns.length} BPF instructions; the kernel loads at most ${MAX_INSNS}`);
  }
  const filter: CompiledFilter = {
    program: encode(asm.insns),
    instructions: asm.insns.length,
    worstPath: asm.worstPath,
    arches: plans.filter((p) => p.mode === "translate").map((p) => p.abi.name),
  };
  return { filter, asm, machine, plans, defaultAction: dflt };
}
