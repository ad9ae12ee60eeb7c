// Escaping for sjtest's human output: everything a jail says is hostile, so no control byte
// reaches the terminal raw (vis(3)-style \ooo escapes, as jls does).

/** TEXT with control and non-ASCII-printable characters as \ooo (backslash as \\). */
export function escapeText(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) out += `\\${c.toString(8).padStart(3, "0")}`;
    else out += ch;
  }
  return out;
}
