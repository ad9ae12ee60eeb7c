// Checks typed rules from the library or the parser, and normalizes conditions for one ABI.
import { SysjailError } from "../errors.js";
import { isKnownCall, type Abi } from "./abi.js";
import { knownArgWidth } from "./argwidth.js";
import type { NormCondition } from "./dag.js";
import type { Action, ArgWidth, Comparison, Condition, Rule, SourcePos } from "./types.js";

const OPS = new Set(["==", "!=", "<", "<=", ">", ">="]);
const ABI_NAMES = new Set(["foreign", "x86_64", "i386", "x32", "aarch64", "arm"]);

/** A policy error (EPOLICY, usage, exit 64), placed at `at` when the rule came from a file. */
export function policyError(what: string, at?: SourcePos, token?: string): SysjailError {
  const where = at ? `${at.file}:${at.line}:${at.column}: ` : "";
  const near = token !== undefined ? ` near '${token}'` : "";
  return new SysjailError(`${where}${what}${near}`, { code: "EPOLICY", phase: "usage", exitCode: 64, path: at?.file });
}

function isInt(v: unknown): v is bigint | number {
  return typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v));
}

function inRange(v: bigint | number): boolean {
  const b = BigInt(v);
  return b >= -(1n << 63n) && b < 1n << 64n;
}

function checkAction(a: Action, where: string, at?: SourcePos): void {
  switch (a?.kind) {
    case "allow": case "kill": case "log": return;
    case "errno":
      if (!Number.isInteger(a.errno) || a.errno < 0 || a.errno > 4095) throw policyError(`${where}errno must be 0..4095`, at, String(a.errno));
      return;
    case "trap":
      if (a.data !== undefined && (!Number.isInteger(a.data) || a.data < 0 || a.data > 0xffff)) throw policyError(`${where}trap data must be 0..65535`, at, String(a.data));
      return;
    default:
      throw policyError(`${where}unknown action`, at, JSON.stringify((a as { kind?: unknown })?.kind));
  }
}

function checkCondition(c: Condition, where: string, at?: SourcePos, depth = 0): void {
  if (depth > 64) throw policyError(`${where}condition nested too deeply`, at);
  if (c === null || typeof c !== "object") throw policyError(`${where}condition must be an object`, at);
  if ("and" in c || "or" in c) {
    const list = "and" in c ? c.and : (c as { or: Condition[] }).or;
    if (!Array.isArray(list)) throw policyError(`${where}and/or needs an array of conditions`, at);
    for (const x of list) checkCondition(x, where, at, depth + 1);
    return;
  }
  if ("not" in c) return checkCondition(c.not, where, at, depth + 1);
  const k = c as Comparison;
  if (!Number.isInteger(k.arg) || k.arg < 0 || k.arg > 5) throw policyError(`${where}argument index must be 0..5`, at, String(k.arg));
  if (!OPS.has(k.op)) throw policyError(`${where}unknown comparison`, at, String(k.op));
  if (!isInt(k.value) || !inRange(k.value)) throw policyError(`${where}comparison value must be a 64-bit integer`, at, String(k.value));
  if (k.mask !== undefined && (!isInt(k.mask) || !inRange(k.mask))) throw policyError(`${where}mask must be a 64-bit integer`, at, String(k.mask));
  if (k.width !== undefined && k.width !== 16 && k.width !== 32 && k.width !== 64) throw policyError(`${where}width must be 16, 32 or 64`, at, String(k.width));
}

/** Throws EPOLICY for the first malformed rule (unknown call, bad action, bad condition). */
export function checkRules(rules: readonly Rule[]): void {
  if (!Array.isArray(rules)) throw policyError("a policy is an array of rules");
  rules.forEach((r, i) => {
    const at = r?.at;
    const where = at ? "" : `rule ${i + 1}: `;
    switch (r?.kind) {
      case "call":
        if (typeof r.call !== "string" || !isKnownCall(r.call)) throw policyError(`${where}unknown system call`, at, String(r.call));
        checkAction(r.action, where, at);
        if (r.when !== undefined) checkCondition(r.when, where, at);
        return;
      case "default":
        checkAction(r.action, where, at);
        return;
      case "abi":
        if (!ABI_NAMES.has(r.abi)) throw policyError(`${where}unknown ABI`, at, String(r.abi));
        if (r.mode !== "translate" && r.mode !== "refuse") throw policyError(`${where}ABI mode must be translate or refuse`, at, String(r.mode));
        return;
      default:
        throw policyError(`${where}unknown rule kind`, at, JSON.stringify((r as { kind?: unknown })?.kind));
    }
  });
}

/** The condition as the ABI's kernel sees it: widths applied, values and masks reduced to them. */
export function normalize(c: Condition, call: string, abi: Abi): NormCondition {
  if ("and" in c) return { and: c.and.map((x) => normalize(x, call, abi)) };
  if ("or" in c) return { or: c.or.map((x) => normalize(x, call, abi)) };
  if ("not" in c) return { not: normalize(c.not, call, abi) };
  const wanted: ArgWidth = c.width ?? knownArgWidth(call, c.arg);
  const width: ArgWidth = abi.bits === 32 && wanted === 64 ? 32 : wanted;
  const full = (1n << BigInt(width)) - 1n;
  const value = BigInt.asUintN(64, BigInt(c.value)) & full;
  const mask = c.mask === undefined ? full : BigInt.asUintN(64, BigInt(c.mask)) & full;
  return { arg: c.arg, op: c.op, value, mask, width };
}

/** A stable text key for a normalized condition (to share identical argument checks). */
export function conditionKey(c: NormCondition): string {
  if ("and" in c) return `&(${c.and.map(conditionKey).join(",")})`;
  if ("or" in c) return `|(${c.or.map(conditionKey).join(",")})`;
  if ("not" in c) return `!(${conditionKey(c.not)})`;
  return `${c.arg}:${c.width}:${c.mask.toString(16)}${c.op}${c.value.toString(16)}`;
}
