// The policy file format: one rule per line, `CALL[, CALL...] [CONDITION] ACTION`, plus `default`,
// `abi` and `include` lines and `#` comments. docs/POLICY.md is the reference.
import { readRegularFile } from "../host/regular.js";
import { dirname, resolve } from "node:path";
import { errnoName, errnoNumber } from "../errors.js";
import { isKnownCall } from "./abi.js";
import { constantValue } from "./constants.js";
import { tokenize, type Token } from "./lexer.js";
import type { Action, ArgWidth, CompareOp, Comparison, Condition, Rule, SourcePos } from "./types.js";
import { policyError } from "./validate.js";

const ACTIONS = new Set(["allow", "errno", "kill", "log", "trap"]);
const OPS = new Set<string>(["==", "!=", "<", "<=", ">", ">="]);
const ABIS = new Set(["foreign", "x86_64", "i386", "x32", "aarch64", "arm"]);
const MAX_INCLUDE_DEPTH = 16;

/** Reads one line's tokens left to right, reporting errors at the token it stopped on. */
class LineParser {
  private i = 0;
  constructor(private readonly toks: Token[], private readonly file: string, private readonly line: number, private readonly text: string) {}

  pos(t?: Token): SourcePos {
    return { file: this.file, line: this.line, column: t?.column ?? this.text.length + 1 };
  }
  peek(): Token | undefined { return this.toks[this.i]; }
  next(): Token | undefined { return this.toks[this.i++]; }
  at(text: string): boolean { const t = this.peek(); return t !== undefined && t.kind !== "string" && t.text === text; }
  fail(what: string, t = this.peek()): never {
    throw policyError(what, this.pos(t), t ? (t.kind === "string" ? `"${t.text}"` : t.text) : "end of line");
  }
  expect(text: string, what: string): Token {
    if (!this.at(text)) this.fail(what);
    return this.next()!;
  }
  end(): void { if (this.peek()) this.fail("unexpected text after the rule"); }

  action(): Action {
    const t = this.next();
    if (!t || t.kind !== "name" || !ACTIONS.has(t.text)) this.fail("expected an action (allow, errno NAME, kill, log, trap)", t);
    switch (t.text) {
      case "allow": return { kind: "allow" };
      case "kill": return { kind: "kill" };
      case "log": return { kind: "log" };
      case "trap": {
        const n = this.peek();
        if (n?.kind !== "number") return { kind: "trap" };
        this.next();
        if (n.value! > 0xffffn) this.fail("trap data must be 0..65535", n);
        return { kind: "trap", data: Number(n.value) };
      }
      default: {
        const n = this.next();
        if (n?.kind === "number") {
          if (n.value! > 4095n) this.fail("errno must be 0..4095", n);
          return { kind: "errno", errno: Number(n.value) };
        }
        if (n?.kind !== "name") this.fail("expected an errno name or number", n);
        const v = errnoNumber(n.text);
        if (v === undefined || errnoName(v) === `E${v}`) this.fail("unknown errno name", n);
        return { kind: "errno", errno: v };
      }
    }
  }

  /** value := term ('|' term)* */
  value(): bigint {
    let v = this.term();
    while (this.at("|")) { this.next(); v |= this.term(); }
    return v;
  }
  private term(): bigint {
    const t = this.next();
    if (!t) this.fail("expected a value", t);
    if (t.kind === "number") return t.value!;
    if (t.kind === "punct" && t.text === "-") return BigInt.asUintN(64, -this.term());
    if (t.kind === "punct" && t.text === "~") return BigInt.asUintN(64, ~this.term());
    if (t.kind === "punct" && t.text === "(") { const v = this.value(); this.expect(")", "expected ')'"); return v; }
    if (t.kind === "name") {
      const v = constantValue(t.text);
      if (v === undefined) this.fail("unknown constant", t);
      return v;
    }
    this.fail("expected a value", t);
  }

  /** or := and (('||' | 'or') and)* */
  condition(): Condition {
    const parts = [this.conjunction()];
    while (this.at("||") || this.at("or")) { this.next(); parts.push(this.conjunction()); }
    return parts.length === 1 ? parts[0]! : { or: parts };
  }
  private conjunction(): Condition {
    const parts = [this.unary()];
    while (this.at("&&") || this.at("and")) { this.next(); parts.push(this.unary()); }
    return parts.length === 1 ? parts[0]! : { and: parts };
  }
  private unary(): Condition {
    if (this.at("!") || this.at("not")) { this.next(); return { not: this.unary() }; }
    if (this.at("(")) { this.next(); const c = this.condition(); this.expect(")", "expected ')'"); return c; }
    return this.comparison();
  }
  private comparison(): Condition {
    const t = this.next();
    const m = t?.kind === "name" ? /^arg([0-5])$/.exec(t.text) : null;
    if (!m) this.fail("expected a condition on arg0..arg5 or an action", t);
    const base: { arg: number; width?: ArgWidth; mask?: bigint } = { arg: Number(m[1]) };
    if (this.at(":")) {
      this.next();
      const w = this.next();
      if (w?.kind !== "number" || ![16n, 32n, 64n].includes(w.value!)) this.fail("width must be 16, 32 or 64", w);
      base.width = Number(w.value) as ArgWidth;
    }
    if (this.at("&")) { this.next(); base.mask = this.value(); }
    const cmp = (op: CompareOp, value: bigint): Comparison => ({ ...base, op, value });
    let negate = false;
    if (this.at("not")) { this.next(); negate = true; if (!this.at("in")) this.fail("expected 'in' after 'not'"); }
    if (this.at("in")) {
      this.next();
      this.expect("[", "expected '[' to start a list");
      const values = [this.value()];
      while (this.at(",")) { this.next(); values.push(this.value()); }
      this.expect("]", "expected ',' or ']'");
      return negate ? { and: values.map((v) => cmp("!=", v)) } : values.length === 1 ? cmp("==", values[0]!) : { or: values.map((v) => cmp("==", v)) };
    }
    const op = this.next();
    if (!op || op.kind !== "punct" || !OPS.has(op.text)) this.fail("expected a comparison (== != < <= > >= in)", op);
    return cmp(op.text as CompareOp, this.value());
  }
}

interface Ctx {
  stack: string[];
}

function parseText(text: string, file: string, ctx: Ctx): Rule[] {
  const rules: Rule[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, n) => {
    const lineNo = n + 1;
    const inc = /^(\s*)include(\s+|$)(.*)$/.exec(raw);
    if (inc) { rules.push(...include(inc, raw, file, lineNo, ctx)); return; }
    const toks = tokenize(raw, file, lineNo);
    if (toks.length === 0) return;
    const p: LineParser = new LineParser(toks, file, lineNo, raw);
    const first = p.next()!;
    if (first.kind === "name" && first.text === "default") {
      rules.push({ kind: "default", action: p.action(), at: p.pos(first) });
      p.end();
      return;
    }
    if (first.kind === "name" && first.text === "abi") {
      const a = p.next();
      if (a?.kind !== "name" || !ABIS.has(a.text)) p.fail("expected an ABI (foreign, i386, x32, arm, ...)", a);
      const m = p.next();
      if (m?.kind !== "name" || (m.text !== "translate" && m.text !== "refuse")) p.fail("expected translate or refuse", m);
      rules.push({ kind: "abi", abi: a.text as "foreign", mode: m.text as "refuse", at: p.pos(a) });
      p.end();
      return;
    }
    const calls: Token[] = [first];
    while (p.at(",")) { p.next(); calls.push(p.next()!); }
    for (const c of calls) {
      if (!c || c.kind !== "name") p.fail("expected a system call name", c);
      if (!isKnownCall(c.text)) p.fail("unknown system call", c);
    }
    const t = p.peek();
    const when = t && t.kind === "name" && ACTIONS.has(t.text) ? undefined : p.condition();
    const action = p.action();
    p.end();
    for (const c of calls) {
      const r: Rule = { kind: "call", call: c.text, action, at: p.pos(c) };
      if (when) r.when = when;
      rules.push(r);
    }
  });
  return rules;
}

function include(m: RegExpExecArray, raw: string, file: string, lineNo: number, ctx: Ctx): Rule[] {
  const column = m[1]!.length + 1;
  let arg = m[3]!.replace(/\s+#.*$/, "").trim();
  const at = { file, line: lineNo, column: column + "include".length + m[2]!.length };
  if (/^".*"$/.test(arg)) arg = arg.slice(1, -1);
  if (!arg) throw policyError("include needs a file name", { file, line: lineNo, column }, raw.trim());
  if (ctx.stack.length >= MAX_INCLUDE_DEPTH) throw policyError("includes nested too deeply", at, arg);
  const path = resolve(dirname(file), arg);
  if (ctx.stack.includes(path)) throw policyError("include loop", at, arg);
  let text: string;
  try {
    text = readRegularFile(path);
  } catch (e) {
    throw policyError(`cannot read included file (${(e as NodeJS.ErrnoException).code ?? "error"})`, at, arg);
  }
  ctx.stack.push(path);
  try {
    return parseText(text, relativeName(file, arg), ctx);
  } finally {
    ctx.stack.pop();
  }
}

/** An included file's name as errors show it: relative to the including file's directory name. */
function relativeName(file: string, arg: string): string {
  if (arg.startsWith("/")) return arg;
  const d = dirname(file);
  return d === "." ? arg : `${d}/${arg}`;
}

/** Parses a policy file's text into rules; `file` names it in errors and anchors relative includes. */
export function parsePolicyFile(text: string, file: string): Rule[] {
  return parseText(text, file, { stack: [resolve(file)] });
}
