// The jail.conf(5) parser: jail blocks, wildcard blocks, parameter and variable statements, .include.
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { confError, formatPos, type SourcePos } from "./errors.js";
import { fsGlob, hasGlobMeta } from "./glob.js";
import { Lexer, type Piece, type Token, type Word } from "./lexer.js";

/** One value of a statement: text and variable pieces, expanded per jail. */
export interface ConfValue {
  pieces: Piece[];
  pos: SourcePos;
  raw: string;
}

/** `name [= | +=] value, ...;` — a parameter, or a variable when written `$name`. */
export interface ConfStatement {
  /** Parameter name, or variable name without the '$'. */
  name: string;
  isVar: boolean;
  op: "=" | "+=" | "none";
  values: ConfValue[];
  pos: SourcePos;
  /** The name as written. */
  raw: string;
}

/** A jail definition `name { ... }`, a wildcard `*` block, or the statements outside any block. */
export interface ConfBlock {
  name: string;
  wildcard: boolean;
  /** A '*' pseudo-block made of statements written outside any block. */
  implicit: boolean;
  pos: SourcePos;
  statements: ConfStatement[];
}

/** A parsed configuration: its blocks in file order, with included files spliced in. */
export interface JailConf {
  file: string;
  /** Every file read: the main one first, then includes in order. */
  files: string[];
  blocks: ConfBlock[];
}

/** How .include reads files; both default to the local filesystem. */
export interface ParseOptions {
  readFile?: (path: string) => string;
  glob?: (pattern: string) => string[];
}

const MAX_INCLUDE_DEPTH = 32;

/** sysjail's own configuration, read without -f after FreeBSD's two (DEFAULT_JAIL_CONFS). */
export const DEFAULT_JAIL_CONF = "/etc/sysjail/jail.conf";

/** What jail(8) reads without -f, in order, under ETC (normally /etc): FreeBSD 14's
 * jail.conf and jail.conf.d/*.conf, then sysjail's own sysjail/jail.conf. Missing ones are skipped. */
export function defaultJailConfs(etc = "/etc"): string[] {
  const e = etc.replace(/\/+$/, "");
  return [`${e}/jail.conf`, `${e}/jail.conf.d/*.conf`, `${e}/sysjail/jail.conf`];
}

/** Is a jail name a wildcard: a component that is exactly '*' ("*", "foo.*")? */
export function isWildJailName(name: string): boolean {
  return name.split(".").some((c) => c === "*");
}

/** Does a jail name match a wildcard name (a final '*' matches one or more components)? */
export function wildJailMatch(jailName: string, wildName: string): boolean {
  const j = jailName.split(".");
  const w = wildName.split(".");
  for (let k = 0; k < w.length; k++) {
    const wc = w[k]!;
    if (k === w.length - 1 && wc === "*") return j.length >= w.length;
    if (k >= j.length) return false;
    if (wc !== "*" && wc !== j[k]) return false;
  }
  return j.length === w.length;
}

/** The literal text of a word with no variables, or undefined when it has any. */
function literal(word: Word): string | undefined {
  let s = "";
  for (const p of word.pieces) {
    if (p.kind === "var") return undefined;
    s += p.text;
  }
  return s;
}

class Parser {
  private lexer: Lexer;
  private tok: Token;

  constructor(
    private readonly conf: JailConf,
    text: string,
    private readonly file: string,
    private readonly opts: Required<ParseOptions>,
    private readonly stack: string[],
  ) {
    this.lexer = new Lexer(text, file);
    this.tok = this.lexer.next();
  }

  private shift(): Token {
    const t = this.tok;
    this.tok = this.lexer.next();
    return t;
  }

  private unexpected(t: Token, what?: string): never {
    if (t.type === "eof") throw confError(t.pos, what ?? "unexpected end of file", "EOF");
    throw confError(t.pos, what ?? `unexpected '${t.raw}'`, t.raw);
  }

  /** conf := (block | statement ';' | ';' | .include)* */
  parseFile(): void {
    for (;;) {
      const t = this.tok;
      if (t.type === "eof") return;
      if (t.type === ";") {
        this.shift();
        continue;
      }
      if (t.type !== "word") this.unexpected(t);
      if (literal(t.word) === ".include" && !t.word.quoted) {
        this.shift();
        this.include(t.pos);
        continue;
      }
      this.shift();
      if (this.tok.type === "{") {
        this.block(t.word);
        continue;
      }
      const st = this.statement(t.word);
      let last = this.conf.blocks[this.conf.blocks.length - 1];
      if (!last || last.name !== "*") {
        last = { name: "*", wildcard: true, implicit: true, pos: st.pos, statements: [] };
        this.conf.blocks.push(last);
      }
      last.statements.push(st);
    }
  }

  /** name '{' (statement ';' | ';')* '}' */
  private block(nameWord: Word): void {
    const name = literal(nameWord);
    if (name === undefined) throw confError(nameWord.pos, "a jail name cannot contain variables", nameWord.raw);
    if (name === "") throw confError(nameWord.pos, "empty jail name", nameWord.raw);
    const wildcard = isWildJailName(name);
    if (!wildcard) {
      const prev = this.conf.blocks.find((b) => !b.wildcard && b.name === name);
      if (prev) throw confError(nameWord.pos, `jail '${name}' is already defined at ${formatPos(prev.pos)}`, nameWord.raw);
    }
    const block: ConfBlock = { name, wildcard, implicit: false, pos: nameWord.pos, statements: [] };
    this.shift();
    for (;;) {
      const t = this.tok;
      if (t.type === "}") {
        this.shift();
        break;
      }
      if (t.type === ";") {
        this.shift();
        continue;
      }
      if (t.type === "eof") this.unexpected(t, `missing '}' to close jail '${name}'`);
      if (t.type !== "word") this.unexpected(t);
      if (literal(t.word) === ".include" && !t.word.quoted) {
        throw confError(t.pos, ".include is only allowed outside jail blocks", t.raw);
      }
      this.shift();
      if (this.tok.type === "{") {
        throw confError(this.tok.pos, "nested jail blocks are not supported", t.raw);
      }
      block.statements.push(this.statement(t.word));
    }
    this.conf.blocks.push(block);
  }

  /** name [('=' | '+=') value | value] ';'  with value := word (',' word)* */
  private statement(nameWord: Word): ConfStatement {
    const p = nameWord.pieces;
    let name: string;
    let isVar = false;
    const only = p.length === 1 ? p[0] : undefined;
    if (only?.kind === "var") {
      name = only.name;
      isVar = true;
    } else {
      const lit = literal(nameWord);
      if (lit === undefined) throw confError(nameWord.pos, "a parameter name cannot contain variables", nameWord.raw);
      name = lit;
    }
    if (name === "") throw confError(nameWord.pos, "empty parameter name", nameWord.raw);
    const st: ConfStatement = { name, isVar, op: "none", values: [], pos: nameWord.pos, raw: nameWord.raw };
    const t = this.tok;
    if (t.type === ";") {
      this.shift();
      if (isVar) throw confError(t.pos, `variable '$${name}' needs a value`, t.raw);
      return st;
    }
    if (t.type === "=" || t.type === "+=") {
      st.op = t.type;
      this.shift();
      if (this.tok.type !== "word") this.unexpected(this.tok, `missing value after '${t.type}'`);
    } else if (t.type !== "word") {
      this.unexpected(t, t.type === "eof" ? `missing ';' after parameter '${name}'` : `expected '=' or ';' after parameter '${name}'`);
    }
    for (;;) {
      const v = this.shift();
      if (v.type !== "word") this.unexpected(v);
      st.values.push({ pieces: v.word.pieces, pos: v.pos, raw: v.raw });
      const sep = this.tok;
      if (sep.type === ";") {
        this.shift();
        return st;
      }
      if (sep.type === ",") {
        this.shift();
        if (this.tok.type !== "word") this.unexpected(this.tok, "missing value after ','");
        continue;
      }
      this.unexpected(sep, sep.type === "eof" ? `missing ';' after the value of '${name}'` : `expected ';' or ',' after the value of '${name}'`);
    }
  }

  /** .include "file-or-glob"; — relative names are taken from the including file's directory. */
  private include(pos: SourcePos): void {
    const t = this.shift();
    if (t.type !== "word") this.unexpected(t, "missing file name after .include");
    const name = literal(t.word);
    if (name === undefined) throw confError(t.pos, "an .include file name cannot contain variables", t.raw);
    if (name === "") throw confError(t.pos, "empty .include file name", t.raw);
    const end = this.shift();
    if (end.type !== ";") this.unexpected(end, "expected ';' after the .include file name");
    const dir = this.file.includes("/") ? posix.dirname(this.file) : ".";
    const full = name.startsWith("/") ? name : posix.join(dir, name);
    if (this.stack.length >= MAX_INCLUDE_DEPTH) throw confError(pos, "includes nested too deeply", name);
    const files = hasGlobMeta(full) ? this.opts.glob(full) : [full];
    for (const f of files) {
      if (this.stack.includes(f)) throw confError(t.pos, `include loop: '${f}' includes itself`, name);
      let text: string;
      try {
        text = this.opts.readFile(f);
      } catch (e) {
        const code = (e as { code?: string }).code ?? (e as Error).message;
        throw confError(t.pos, `cannot read included file '${f}': ${code}`, name);
      }
      this.conf.files.push(f);
      new Parser(this.conf, text.replace(/^\uFEFF/, ""), f, this.opts, [...this.stack, f]).parseFile();
    }
  }
}

/** Parses jail.conf text; `.include` files are read through opts (default: the local filesystem). */
export function parseJailConf(text: string, file: string, opts: ParseOptions = {}): JailConf {
  const conf: JailConf = { file, files: [file], blocks: [] };
  const full: Required<ParseOptions> = {
    readFile: opts.readFile ?? ((p) => readFileSync(p, "utf8")),
    glob: opts.glob ?? fsGlob,
  };
  new Parser(conf, text.replace(/^\uFEFF/, ""), file, full, [file]).parseFile();
  return conf;
}

/** The names of the jails a configuration defines (not the wildcards), in file order. */
export function listJails(conf: JailConf): string[] {
  return conf.blocks.filter((b) => !b.wildcard).map((b) => b.name);
}
