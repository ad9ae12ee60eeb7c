// Evaluates one jail: merges wildcard, own and command-line statements in order, expands $variables,
// and checks every parameter against the table, giving the jail's final ordered parameter set.
import type { ParamArg } from "./cli.js";
import { confError, confErrorNoPos, confWarning, type SourcePos } from "./errors.js";
import { storeSetAll, storeSetKey, storeText, type StoreLines } from "./kvstore.js";
import type { Piece } from "./lexer.js";
import { lookupParam, sameParam, type ParamInfo } from "./params.js";
import { wildJailMatch, type ConfBlock, type JailConf } from "./parser.js";

/** A parameter's value: booleans, strings (integers and enums too) and lists (lists, command argv). */
export type ParamValue = string | string[] | boolean;

/** One jail after evaluation. */
export interface ResolvedJail {
  /** The jail's name in the configuration (a block name, or the name/jid given on the command line). */
  name: string;
  /** Final parameters by canonical name, in first-set order; meta.KEY/env.KEY fold into meta/env. */
  params: Record<string, ParamValue>;
  /** Where each parameter was last set. */
  sources: Record<string, SourcePos>;
  /** Where the text of each value of a list parameter starts (mount lines, addresses, hooks). */
  valueSources: Record<string, SourcePos[]>;
  /** One line per accepted-and-ignored parameter. */
  warnings: string[];
}

interface Val {
  pieces: Piece[];
  pos: SourcePos;
  raw: string;
}

interface Rec {
  name: string;
  isVar: boolean;
  immutable: boolean;
  fromCli: boolean;
  values: Val[];
  pos: SourcePos;
  raw: string;
  expanded?: { text: string; pos: SourcePos }[];
}

/** Where a value's text starts: after its opening quote, if it has one. */
function textPos(v: Val): SourcePos {
  const q = v.raw.charAt(0);
  return (q === '"' || q === "'") && v.pos.arg === undefined ? { ...v.pos, col: v.pos.col + 1 } : v.pos;
}

const isJidName = (n: string): boolean => /^[0-9]+$/.test(n) && Number(n) > 0;

class Evaluator {
  readonly recs: Rec[] = [];

  /** Adds a statement: replaces an earlier one of the same parameter, or appends with +=. */
  apply(name: string, isVar: boolean, op: string, values: Val[], pos: SourcePos, raw: string, fromCli: boolean): void {
    const old = this.recs.find((r) => sameParam(r.name, name));
    if (!old) {
      this.recs.push({ name, isVar, immutable: false, fromCli, values, pos, raw });
      return;
    }
    if (old.isVar !== isVar) {
      throw confError(pos, `variable '$${isVar ? name : old.name}' cannot have the same name as a parameter`, raw);
    }
    if (old.immutable) {
      const same = values.length === 1 && values[0]!.pieces.length === 1 && values[0]!.pieces[0]!.kind === "text" &&
        values[0]!.pieces[0]!.text === (old.values[0]!.pieces[0] as { text: string }).text;
      if (same && old.name === name) return;
      throw confError(pos, `cannot redefine parameter '${old.name}' (set by the jail's name)`, raw);
    }
    const append = values.length > 0 && (op === "+=" || (fromCli && old.fromCli));
    old.values = append ? [...old.values, ...values] : values;
    old.name = name;
    old.pos = pos;
    old.raw = raw;
    old.fromCli = fromCli;
  }

  /** The expanded values of a record, resolving the records its variables name first. */
  expand(rec: Rec, active: Set<Rec>): { text: string; pos: SourcePos }[] {
    if (rec.expanded) return rec.expanded;
    active.add(rec);
    const out: { text: string; pos: SourcePos }[] = [];
    for (const v of rec.values) {
      const only = v.pieces.length === 1 ? v.pieces[0] : undefined;
      if (only?.kind === "var") {
        for (const e of this.lookup(only, active)) out.push({ text: e.text, pos: textPos(v) });
        continue;
      }
      let s = "";
      for (const p of v.pieces) {
        if (p.kind === "text") {
          s += p.text;
          continue;
        }
        const sub = this.lookup(p, active);
        if (sub.length > 1) throw confError(p.pos, `'${p.name}' has several values and cannot be substituted inside a string`, p.raw);
        s += sub[0]!.text;
      }
      out.push({ text: s, pos: textPos(v) });
    }
    active.delete(rec);
    rec.expanded = out;
    return out;
  }

  private lookup(p: Extract<Piece, { kind: "var" }>, active: Set<Rec>): { text: string; pos: SourcePos }[] {
    // a numbered block without a name parameter is named by its jid: ${name} is the number
    const target = this.recs.find((r) => r.name === p.name) ??
      (p.name === "name" ? this.recs.find((r) => r.name === "jid" && r.immutable) : undefined);
    if (!target) throw confError(p.pos, `variable '${p.name}' is not defined`, p.raw);
    if (active.has(target)) throw confError(p.pos, `variable loop: '${p.name}' depends on itself`, p.raw);
    const vals = this.expand(target, active);
    if (vals.length === 0) throw confError(p.pos, `variable '${p.name}' has no value`, p.raw);
    return vals;
  }
}

function parseBool(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (t === "true") return true;
  if (t === "false") return false;
  if (/^[+-]?[0-9]+$/.test(t)) return Number(t) !== 0;
  return undefined;
}

/** Reads one parameter's expanded values by its kind; throws at the statement on a bad value. */
function typedValue(info: ParamInfo, negated: boolean, vals: { text: string; pos: SourcePos }[], rec: Rec): ParamValue {
  const last = vals[vals.length - 1];
  const name = info.name;
  switch (info.kind) {
    case "bool": {
      if (!last) return !negated;
      const word = info.words?.[last.text.toLowerCase()];
      const b = word ?? parseBool(last.text);
      if (b === undefined) throw confError(last.pos, `${name}: '${last.text}' is not a boolean (true, false or a number)`, last.text);
      return negated ? !b : b;
    }
    case "int": {
      if (!last) throw confError(rec.pos, `parameter '${name}' needs a number`, rec.raw);
      if (!/^[+-]?[0-9]+$/.test(last.text)) throw confError(last.pos, `${name}: '${last.text}' is not an integer`, last.text);
      const n = Number(last.text);
      if ((info.min !== undefined && n < info.min) || (info.max !== undefined && n > info.max)) {
        const range = info.max === undefined ? `at least ${info.min}` : `${info.min ?? "-"} to ${info.max}`;
        throw confError(last.pos, `${name}: ${n} is out of range (${range})`, last.text);
      }
      return String(n);
    }
    case "enum": {
      if (!last) throw confError(rec.pos, `parameter '${name}' needs one of ${info.values!.join(", ")}`, rec.raw);
      const t = last.text.toLowerCase();
      if (!info.values!.includes(t)) throw confError(last.pos, `${name}: '${last.text}' is not one of ${info.values!.join(", ")}`, last.text);
      return t;
    }
    case "string":
      if (!last && info.needsValue) throw confError(rec.pos, `parameter '${name}' needs a value`, rec.raw);
      return last ? last.text : "";
    case "command":
      if (!vals.length) throw confError(rec.pos, `parameter '${name}' needs a value`, rec.raw);
      return vals.map((v) => v.text);
    case "list":
      return vals.map((v) => v.text);
    case "store":
      return vals.map((v) => v.text);
  }
}

/** Is an ignored parameter asking for something (a true boolean, any other value)? An empty
 * value and `host = new` (what every jail has) ask for nothing: jls -s prints them. */
function asksForSomething(name: string, v: ParamValue): boolean {
  if (v === false || v === "" || (Array.isArray(v) && v.length === 0)) return false;
  return !(name === "host" && v === "new");
}

/** Turns merged records into the final parameter set. */
function finish(name: string, ev: Evaluator): ResolvedJail {
  const params: Record<string, ParamValue> = {};
  const sources: Record<string, SourcePos> = {};
  const valueSources: Record<string, SourcePos[]> = {};
  const warnings: string[] = [];
  const stores: Record<string, StoreLines> = {};
  for (const rec of ev.recs) {
    const vals = ev.expand(rec, new Set());
    if (rec.isVar) continue;
    const ref = lookupParam(rec.name);
    if (!ref) throw confError(rec.pos, `unknown parameter '${rec.name}'`, rec.raw);
    if (ref.type === "key") {
      if (ref.key.includes("=") || ref.key.includes("\n")) throw confError(rec.pos, `invalid ${ref.store} key '${ref.key}'`, rec.raw);
      const lines = stores[ref.store] ?? [];
      stores[ref.store] = storeSetKey(lines, ref.key, vals.map((v) => v.text).join(","));
      params[ref.store] = storeText(stores[ref.store]!);
      sources[ref.store] = rec.pos;
      continue;
    }
    const { info, negated } = ref;
    if (info.readOnly) throw confError(rec.pos, `parameter '${info.name}' is read-only`, rec.raw);
    const value = typedValue(info, negated, vals, rec);
    if (info.kind === "store") {
      stores[info.name] = storeSetAll(value as string[]);
      params[info.name] = storeText(stores[info.name]!);
    } else {
      params[info.name] = value;
    }
    sources[info.name] = rec.pos;
    if (info.kind === "list" || info.kind === "command") valueSources[info.name] = vals.map((v) => v.pos);
    if (info.ignored && asksForSomething(info.name, value)) {
      warnings.push(confWarning(rec.pos, `parameter '${info.name}' is accepted and ignored on Linux`));
    }
  }
  return { name, params, sources, valueSources, warnings };
}

function cliVals(a: ParamArg): Val[] {
  return a.values.map((text) => ({ pieces: [{ kind: "text" as const, text }], pos: a.pos, raw: a.raw }));
}

function evaluateBlock(conf: JailConf, block: ConfBlock, cli: readonly ParamArg[]): ResolvedJail {
  const ev = new Evaluator();
  const implied = isJidName(block.name) ? "jid" : "name";
  ev.recs.push({
    name: implied,
    isVar: false,
    immutable: true,
    fromCli: false,
    values: [{ pieces: [{ kind: "text", text: block.name }], pos: block.pos, raw: block.name }],
    pos: block.pos,
    raw: block.name,
  });
  for (const b of conf.blocks) {
    if (b !== block && !(b.wildcard && wildJailMatch(block.name, b.name))) continue;
    for (const st of b.statements) ev.apply(st.name, st.isVar, st.op, st.values, st.pos, st.raw, false);
  }
  for (const a of cli) ev.apply(a.name, false, a.op, cliVals(a), a.pos, a.raw, true);
  return finish(block.name, ev);
}

/** The jail block for a name, or for a number matching a block's name or its jid parameter. */
export function findJailBlock(conf: JailConf, nameOrJid: string): ConfBlock | undefined {
  const jails = conf.blocks.filter((b) => !b.wildcard);
  const own = jails.find((b) => b.name === nameOrJid);
  if (own || !isJidName(nameOrJid)) return own;
  return jails.find((b) => {
    try {
      return evaluateBlock(conf, b, []).params.jid === String(Number(nameOrJid));
    } catch {
      return false;
    }
  });
}

/** Resolves the jail named (or numbered) NAMEORJID in CONF, command-line parameters applied last. */
export function resolveJail(conf: JailConf | undefined, nameOrJid?: string, cliParams: readonly ParamArg[] = []): ResolvedJail {
  if (!conf) return resolveParams(cliParams);
  if (nameOrJid === undefined || nameOrJid === "") throw confErrorNoPos(`${conf.file}: no jail name given`, conf.file);
  const block = findJailBlock(conf, nameOrJid);
  if (!block) throw confErrorNoPos(`${conf.file}: jail '${nameOrJid}' is not defined`, conf.file);
  return evaluateBlock(conf, block, cliParams);
}

/** Resolves a jail given only by command-line parameters (jail -c name=... path=... ...). */
export function resolveParams(cliParams: readonly ParamArg[]): ResolvedJail {
  const ev = new Evaluator();
  for (const a of cliParams) ev.apply(a.name, false, a.op, cliVals(a), a.pos, a.raw, true);
  const r = finish("", ev);
  const n = r.params.name ?? r.params.jid;
  r.name = typeof n === "string" ? n : "";
  return r;
}

/** Does CONF define a jail by this name (or a jail whose jid is this number)? */
export function hasJail(conf: JailConf, nameOrJid: string): boolean {
  return findJailBlock(conf, nameOrJid) !== undefined;
}
