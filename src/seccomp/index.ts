// sysjail's seccomp-BPF policy compiler: the jail policy from PolicyOptions, typed rules for the
// library, policy files, and the readable listing behind `sysjail --policy-dump`.
import { readRegularFile } from "../host/regular.js";
import { Exit, SysjailError } from "../errors.js";
import type { PolicyOptions } from "../spec/types.js";
import { compileRules, type Compilation } from "./compile.js";
import { applies, FRAGMENTS } from "./default-policy.js";
import { ABIS, type Abi } from "./abi.js";
import { decidingRule } from "./rulematch.js";
import { listing } from "./disasm.js";
import { parsePolicyFile } from "./parser.js";
import { pledgeRules } from "./pledge.js";
import type { CompiledFilter, Rule, Target } from "./types.js";

export type {
  Action, AbiMode, AbiName, AbiRule, ArgWidth, CallRule, CompareOp, Comparison, CompiledFilter, Condition,
  DefaultRule, Rule, SourcePos, Target,
} from "./types.js";
export { parsePolicyFile } from "./parser.js";
export { defaultPolicyText } from "./default-policy.js";
export { disassemble } from "./disasm.js";
export { runFilter, verifyProgram, isCachedAllow, type SeccompData, type RunResult } from "./interpreter.js";
export { AUDIT_ARCH } from "./abi.js";

/** The flags the C helper passes to seccomp(SECCOMP_SET_MODE_FILTER, flags, prog). */
export const SECCOMP_FILTER_FLAGS = 0;

const CACHE_LIMIT = 32;
const cache = new Map<string, Compilation>();
const fragmentRules = new Map<string, Rule[]>();

/** The parsed rules of one default-policy fragment (parsed once per process). */
function fragment(name: string, text: string): Rule[] {
  let r = fragmentRules.get(name);
  if (!r) { r = parsePolicyFile(text, `<sysjail default policy: ${name}>`); fragmentRules.set(name, r); }
  return r;
}

/** The default policy's rules for these options. */
export function defaultRules(policy: PolicyOptions): Rule[] {
  const out: Rule[] = [];
  for (const f of FRAGMENTS) if (applies(f, policy)) out.push(...fragment(f.name, f.text));
  return out;
}

function readPolicy(file: string): string {
  try {
    return readRegularFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new SysjailError(`${file}: cannot read policy file: ${code}`, {
      code, phase: "usage", path: file, exitCode: Exit.noInput, cause: e, errno: (e as NodeJS.ErrnoException).errno,
    });
  }
}

function jailCompilation(policy: PolicyOptions, arch: string): Compilation {
  const texts = policy.files.map((f) => readPolicy(f));
  const key = JSON.stringify([arch, policy.allowRawSockets, policy.allowAllDomains, policy.allowIpc, policy.allowChflags,
    policy.allowRlimit, policy.allowSetHostname, policy.allowNesting === true, policy.replaceDefault, policy.files, texts, policy.pledge ?? null]);
  const hit = cache.get(key);
  if (hit) return hit;
  const rules = policy.replaceDefault ? [] : defaultRules(policy);
  policy.files.forEach((f, i) => rules.push(...parsePolicyFile(texts[i]!, f)));
  // a pledge comes last: its refusals win over every earlier rule, so it only narrows
  if (policy.pledge) rules.push(...pledgeRules(policy.pledge));
  const c = compileRules(rules, { arch, foreign: "translate", x32: "refuse" }, true);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, c);
  return c;
}

/** The policy text that refused a call ("FILE:LINE", "default policy: FRAGMENT:LINE", or
 * "default"): with REGS (its ABI and argument registers), the last rule naming it whose
 * condition holds on them, as the filter decided; without, the last non-allowing rule naming it. */
export function ruleNaming(policy: PolicyOptions, call: string, regs?: { abi: string; args: readonly bigint[] }): string {
  return ruleNamingIn(policyRules(policy), call, regs);
}

/** The jail's whole policy as rules, in order (default policy, files, pledge). */
export function policyRules(policy: PolicyOptions): Rule[] {
  const texts = policy.files.map((f) => readPolicy(f));
  const rules = policy.replaceDefault ? [] : defaultRules(policy);
  policy.files.forEach((f, i) => rules.push(...parsePolicyFile(texts[i]!, f)));
  if (policy.pledge) rules.push(...pledgeRules(policy.pledge));
  return rules;
}

/** ruleNaming() on rules already gathered by policyRules(). */
export function ruleNamingIn(rules: readonly Rule[], call: string, regs?: { abi: string; args: readonly bigint[] }): string {
  const where = (r: Rule) => (r.at ? `${r.at.file.replace(/^<sysjail default policy: (.*)>$/, "default policy: $1")}:${r.at.line}` : r.kind === "call" ? r.call : "default");
  // with the call's registers: the rule whose condition holds on them (the filter's own answer)
  const abi = regs ? (ABIS as Readonly<Record<string, Abi>>)[regs.abi] : undefined;
  if (regs && abi) {
    const r = decidingRule(rules, call, abi, regs.args);
    if (!r) return "default";
    if (r.action.kind !== "allow" && r.action.kind !== "log") return r.kind === "default" && !r.at ? "default" : where(r);
    // a rule that allows it cannot have refused it (a name the ABI spells otherwise): by name below
  }
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    if (r.kind === "call" && r.call === call && r.action.kind !== "allow" && r.action.kind !== "log") return where(r);
  }
  return "default";
}

/** Compiles the jail's filter for the policy options and host arch (process.arch by default). */
export function compileJailFilter(policy: PolicyOptions, arch: string = process.arch): CompiledFilter {
  return jailCompilation(policy, arch).filter;
}

/** The jail's filter as a readable listing with a header (ABIs, counts, default action). */
export function dumpJailFilter(policy: PolicyOptions, arch: string = process.arch): string {
  const flags = (Object.keys(policy) as (keyof PolicyOptions)[]).filter((k) => k.startsWith("allow") && policy[k]);
  const source = [
    policy.replaceDefault ? "policy files only (default replaced)" : "sysjail default policy",
    ...flags.map((f) => f.replace(/^allow/, "--allow-").replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()),
    ...policy.files.map((f) => `--policy ${f}`),
    ...(policy.pledge ? [`--pledge "${policy.pledge.join(" ")}"`] : []),
  ].join(", ");
  return listing(jailCompilation(policy, arch), source);
}

/** Compiles typed rules (the library's form of a policy) for a target machine. */
export function compilePolicy(rules: Rule[], target: Target): CompiledFilter {
  return compileRules(rules, target).filter;
}

/** Like compilePolicy, returning the listing instead. */
export function dumpPolicy(rules: Rule[], target: Target): string {
  return listing(compileRules(rules, target), "typed rules");
}
