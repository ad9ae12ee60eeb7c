// vis(3)-style escaping of text from jails and users' registries before it reaches a terminal.
//
// Security: jail names, hostnames, paths, meta values, process titles and command lines are
// chosen by whoever runs inside a jail or owns a registry entry. Printed raw they can move the
// admin's cursor, retitle the window, clear the screen, forge whole lines (a newline in a
// hostname) or reorder text (bidirectional overrides). Every human-readable output of jls, sjls,
// jail, jexec and sysjail passes such text through vis() (FreeBSD's jls does the same with
// strvis): control characters (C0, DEL, C1), Unicode format and separator characters, private
// use and unassigned code points, lone surrogates and bytes that are not UTF-8 become `\ooo`
// octal escapes of their bytes, and a backslash becomes `\\`, so the output can be read back
// unambiguously. Plain printable text (ASCII or not) is left as it is.

/** Characters escaped: made at first use (only text that is not plain ASCII needs it), since
 * making this pattern (the unassigned code points of \p{Cn} above all) took about 0.2 ms at
 * every start of every tool. */
let unsafe: RegExp | undefined;

function octal(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `\\${b.toString(8).padStart(3, "0")}`;
  return out;
}

const enc = new TextEncoder();

/** One code point, escaped when it is not safe to print. */
function visChar(ch: string): string {
  if (ch === "\\") return "\\\\";
  const cp = ch.codePointAt(0)!;
  // a byte that was not UTF-8, kept by decodeBytes as U+DC80..U+DCFF: that byte
  if (cp >= 0xdc80 && cp <= 0xdcff) return octal(new Uint8Array([cp - 0xdc00]));
  // a lone surrogate has no UTF-8 form: escape its WTF-8 bytes
  if (cp >= 0xd800 && cp <= 0xdfff) return octal(new Uint8Array([0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]));
  return (unsafe ??= /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u).test(ch) ? octal(enc.encode(ch)) : ch;
}

/** Length of the valid UTF-8 sequence at B[i], or 0 when the byte there does not start one. */
function utf8Len(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  const d = b[i + 1]!;
  if (c === 0xe0 && d < 0xa0) return 0; // overlong
  if (c === 0xed && d >= 0xa0) return 0; // surrogate
  if (c === 0xf0 && d < 0x90) return 0; // overlong
  if (c === 0xf4 && d >= 0x90) return 0; // above U+10FFFF
  return n;
}

/** Bytes from the kernel or a file (a /proc cmdline) as text, every byte that is not part of
 * valid UTF-8 kept as the lone surrogate U+DC00+byte (Python's surrogateescape): JSON then
 * shows it as "\udcff", and vis() prints the original byte as \ooo. */
export function decodeBytes(b: Uint8Array): string {
  let out = "";
  const dec = new TextDecoder();
  for (let i = 0; i < b.length;) {
    const n = utf8Len(b, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + b[i]!);
      i++;
    } else {
      out += n === 1 ? String.fromCharCode(b[i]!) : dec.decode(b.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

/** Text made safe for a terminal: unsafe characters and invalid UTF-8 bytes as `\ooo`, `\` as `\\`.
 * A Buffer is taken as raw bytes (a /proc cmdline, a file), a string as already decoded text. */
export function vis(s: string | Uint8Array): string {
  if (typeof s === "string") {
    // fast path: printable ASCII without a backslash is printed as it is
    if (/^[\x20-\x5b\x5d-\x7e]*$/.test(s)) return s;
    let out = "";
    for (const ch of s) out += visChar(ch);
    return out;
  }
  let out = "";
  const dec = new TextDecoder();
  for (let i = 0; i < s.length;) {
    const n = utf8Len(s, i);
    if (n === 0) {
      out += octal(s.subarray(i, i + 1));
      i++;
      continue;
    }
    out += visChar(dec.decode(s.subarray(i, i + n)));
    i += n;
  }
  return out;
}

/** vis() of a value that should be text but came from an untrusted source (any type). */
export function visAny(v: unknown): string {
  return vis(typeof v === "string" ? v : v instanceof Uint8Array ? v : String(v));
}
