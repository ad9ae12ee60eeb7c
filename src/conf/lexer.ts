// The jail.conf(5) tokenizer: words made of bare, quoted and $variable pieces, punctuation, comments.
import { confError, type SourcePos } from "./errors.js";

/** A piece of a word: literal text, or a reference to a parameter or variable ($name, ${name}). */
export type Piece =
  | { kind: "text"; text: string }
  | { kind: "var"; name: string; pos: SourcePos; raw: string };

/** A word: adjacent bare, quoted and variable pieces with no whitespace between them. */
export interface Word {
  pieces: Piece[];
  pos: SourcePos;
  /** The source text of the word. */
  raw: string;
  /** Any part of it was quoted (so an empty word is still a value). */
  quoted: boolean;
}

/** One token of jail.conf. */
export type Token =
  | { type: "word"; word: Word; pos: SourcePos; raw: string }
  | { type: "{" | "}" | ";" | "=" | "+=" | "," | "eof"; pos: SourcePos; raw: string };

const SPACE = new Set([" ", "\t", "\r", "\n", "\f", "\v"]);
const PUNCT = new Set([",", ";", "=", "{", "}"]);
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z_0-9]/;

/** Splits jail.conf text into tokens; throws ECONF with file:line:column on a lexical error. */
export class Lexer {
  private i = 0;
  private line = 1;
  private col = 1;

  constructor(private readonly text: string, private readonly file: string) {}

  private pos(): SourcePos {
    return { file: this.file, line: this.line, col: this.col };
  }

  private peek(k = 0): string {
    return this.text.charAt(this.i + k);
  }

  private advance(): string {
    const c = this.text.charAt(this.i++);
    if (c === "\n") {
      this.line++;
      this.col = 1;
    } else {
      this.col++;
    }
    return c;
  }

  private atEnd(): boolean {
    return this.i >= this.text.length;
  }

  private restOfLine(from: number): string {
    const nl = this.text.indexOf("\n", from);
    return this.text.slice(from, nl < 0 ? undefined : nl);
  }

  /** Skips whitespace and the three comment forms. */
  private skipSpace(): void {
    for (;;) {
      const c = this.peek();
      if (SPACE.has(c)) this.advance();
      else if (c === "#" || (c === "/" && this.peek(1) === "/")) {
        while (!this.atEnd() && this.peek() !== "\n") this.advance();
      } else if (c === "/" && this.peek(1) === "*") {
        const start = this.pos();
        const end = this.text.indexOf("*/", this.i + 2);
        if (end < 0) throw confError(start, "unterminated comment", this.restOfLine(this.i));
        while (this.i < end + 2) this.advance();
      } else return;
    }
  }

  /** The next token. */
  next(): Token {
    this.skipSpace();
    const pos = this.pos();
    if (this.atEnd()) return { type: "eof", pos, raw: "EOF" };
    const c = this.peek();
    if (c === "+" && this.peek(1) === "=") {
      this.advance();
      this.advance();
      return { type: "+=", pos, raw: "+=" };
    }
    if (PUNCT.has(c)) {
      this.advance();
      return { type: c as "{" | "}" | ";" | "=" | ",", pos, raw: c };
    }
    const word = this.word();
    return { type: "word", word, pos, raw: word.raw };
  }

  /** Reads one word: segments until whitespace, punctuation, a comment or "+=". */
  private word(): Word {
    const pos = this.pos();
    const start = this.i;
    const pieces: Piece[] = [];
    let quoted = false;
    const addText = (t: string) => {
      const last = pieces[pieces.length - 1];
      if (last && last.kind === "text") last.text += t;
      else pieces.push({ kind: "text", text: t });
    };
    for (;;) {
      const c = this.peek();
      if (this.atEnd() || SPACE.has(c) || PUNCT.has(c) || c === "#") break;
      if (c === "+" && this.peek(1) === "=") break;
      if (c === "'") {
        quoted = true;
        addText(this.singleQuoted());
      } else if (c === '"') {
        quoted = true;
        this.doubleQuoted(pieces, addText);
      } else if (c === "$") {
        const v = this.variable(false);
        if (v) pieces.push(v);
        else addText(this.advance());
      } else if (c === "\\") {
        addText(this.escape());
      } else if (c < " " || c === "\x7f") {
        throw confError(this.pos(), "unexpected control character", c);
      } else {
        addText(this.advance());
      }
    }
    return { pieces, pos, raw: this.text.slice(start, this.i), quoted };
  }

  /** A '...' string: escapes processed, no variables. */
  private singleQuoted(): string {
    const start = this.pos();
    const from = this.i;
    this.advance();
    let out = "";
    for (;;) {
      if (this.atEnd()) throw confError(start, "unterminated string", this.restOfLine(from));
      const c = this.peek();
      if (c === "'") {
        this.advance();
        return out;
      }
      out += c === "\\" ? this.escape() : this.advance();
    }
  }

  /** A "..." string: escapes processed, $name and ${name} become variable pieces. */
  private doubleQuoted(pieces: Piece[], addText: (t: string) => void): void {
    const start = this.pos();
    const from = this.i;
    this.advance();
    addText("");
    for (;;) {
      if (this.atEnd()) throw confError(start, "unterminated string", this.restOfLine(from));
      const c = this.peek();
      if (c === '"') {
        this.advance();
        return;
      }
      if (c === "\\") addText(this.escape());
      else if (c === "$") {
        const v = this.variable(true);
        if (v) pieces.push(v);
        else addText(this.advance());
      } else addText(this.advance());
    }
  }

  /** $name or ${name} at the cursor, or undefined when the '$' is literal. */
  private variable(inQuotes: boolean): Piece | undefined {
    const pos = this.pos();
    const from = this.i;
    if (this.peek(1) === "{") {
      this.advance();
      this.advance();
      let name = "";
      for (;;) {
        const c = this.peek();
        if (this.atEnd() || c === "\n" || c === "{" || (inQuotes && c === '"')) {
          throw confError(pos, "unterminated variable", this.text.slice(from, this.i));
        }
        if (c === "}") {
          this.advance();
          break;
        }
        name += c === "\\" ? this.escape() : this.advance();
      }
      const raw = this.text.slice(from, this.i);
      if (name === "") throw confError(pos, "empty variable name", raw);
      return { kind: "var", name, pos, raw };
    }
    if (!NAME_START.test(this.peek(1))) return undefined;
    this.advance();
    let name = "";
    while (NAME_CHAR.test(this.peek())) name += this.advance();
    return { kind: "var", name, pos, raw: this.text.slice(from, this.i) };
  }

  /** A backslash escape at the cursor: C escapes, octal \NNN, hex \xHH, backslash-newline. */
  private escape(): string {
    const pos = this.pos();
    this.advance();
    if (this.atEnd()) throw confError(pos, "backslash at end of file", "\\");
    const c = this.advance();
    switch (c) {
      case "a": return "\x07";
      case "b": return "\b";
      case "f": return "\f";
      case "n": return "\n";
      case "r": return "\r";
      case "t": return "\t";
      case "v": return "\v";
      case "\n": return "";
      case "x": {
        let hex = "";
        while (hex.length < 2 && /[0-9A-Fa-f]/.test(this.peek())) hex += this.advance();
        return hex ? String.fromCharCode(parseInt(hex, 16)) : "x";
      }
      default:
        if (c >= "0" && c <= "7") {
          let oct = c;
          while (oct.length < 3 && /[0-7]/.test(this.peek())) oct += this.advance();
          return String.fromCharCode(parseInt(oct, 8) & 0xff);
        }
        return c;
    }
  }
}
