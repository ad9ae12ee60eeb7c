// Splits one line of a policy file into tokens with their columns.
import { policyError } from "./validate.js";

/** A token: a name, a number (with its value), a quoted string, or punctuation. */
export interface Token {
  kind: "name" | "number" | "string" | "punct";
  text: string;
  /** 1-based column. */
  column: number;
  value?: bigint;
}

/** The word starting at `i` (up to whitespace), for error messages. */
function wordAt(s: string, i: number): string {
  const m = /^\S+/.exec(s.slice(i));
  return m ? m[0] : s.slice(i, i + 1);
}

/** Parses a number literal: decimal, 0x hex, 0b binary, 0o or C-style leading-0 octal; `_` separators. */
export function parseNumber(text: string): bigint | undefined {
  const t = text.replace(/_/g, "");
  if (/^0[xX][0-9a-fA-F]+$/.test(t) || /^0[bB][01]+$/.test(t) || /^0[oO][0-7]+$/.test(t)) return BigInt(t);
  if (/^0[0-7]+$/.test(t)) return BigInt("0o" + t.slice(1));
  if (/^(0|[1-9][0-9]*)$/.test(t)) return BigInt(t);
  return undefined;
}

// one token per match, anchored where the last one ended: space, comment, name, number, string, punctuation
const TOKEN = /[ \t\r]*(?:(#.*)|([A-Za-z_][A-Za-z0-9_]*)|([0-9][0-9A-Za-z_]*)|"([^"]*)"|(==|!=|<=|>=|&&|\|\||[<>&|~!()[\],:-]))/y;

/** Tokens of one line (comments dropped); throws EPOLICY at the first character that starts no token. */
export function tokenize(line: string, file: string, lineNo: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  TOKEN.lastIndex = 0;
  while (i < line.length) {
    const m = TOKEN.exec(line);
    if (!m) {
      const rest = line.slice(i).replace(/^[ \t\r]+/, "");
      if (!rest) break;
      const column = line.length - rest.length + 1;
      if (rest[0] === '"') throw policyError("unterminated string", { file, line: lineNo, column }, wordAt(line, column - 1));
      throw policyError("unexpected character", { file, line: lineNo, column }, wordAt(line, column - 1));
    }
    i = TOKEN.lastIndex;
    if (m[1] !== undefined) break;
    const text = m[2] ?? m[3] ?? m[4] ?? m[5]!;
    const column = i - (m[4] !== undefined ? text.length + 2 : text.length) + 1;
    if (m[2] !== undefined) out.push({ kind: "name", text, column });
    else if (m[3] !== undefined) {
      const value = parseNumber(text);
      if (value === undefined) throw policyError("bad number", { file, line: lineNo, column }, text);
      if (value >= 1n << 64n) throw policyError("number does not fit in 64 bits", { file, line: lineNo, column }, text);
      out.push({ kind: "number", text, column, value });
    } else if (m[4] !== undefined) out.push({ kind: "string", text, column });
    else out.push({ kind: "punct", text, column });
    if (i === line.length) break;
  }
  return out;
}
