// What jail(8) prints: notes ("web: created") on stdout unless -q, -v's steps, warnings on stderr;
// and the parameter lines of -J and -e with FreeBSD's quoting.
import { vis } from "../manage/vis.js";
import type { ParamValue } from "../conf/resolve.js";

/** Where messages go; LABEL is the jail's name (none for an unnamed jail). */
export interface Reporter {
  /** "web: created" (stdout; not with -q). */
  note(label: string | undefined, text: string): void;
  /** -v only. */
  verbose(label: string | undefined, text: string): void;
  /** "jail: web: ..." on stderr, always. */
  warn(label: string | undefined, text: string): void;
}

/** The reporter of -q / -v. */
export function reporter(quiet: boolean, verbose: boolean): Reporter {
  const line = (l: string | undefined, t: string) => (l === undefined ? `${vis(t)}\n` : `${vis(l)}: ${vis(t)}\n`);
  return {
    // FreeBSD names the jail in a note only when it has a name; an unnamed one's notes need -v
    note: (l, t) => { if (!quiet && (l !== undefined || verbose)) process.stdout.write(line(l, t)); },
    verbose: (l, t) => { if (verbose) process.stdout.write(line(l, t)); },
    warn: (l, t) => { process.stderr.write(`jail: ${line(l, t)}`); },
  };
}

/** A value as jail(8) prints it: quoted when empty or holding blanks or quotes, backslash-escaped. */
export function quoteParam(s: string): string {
  const q = s === "" || s.includes("'") ? '"' : s.includes('"') ? "'" : /[ \t]/.test(s) ? '"' : "";
  const body = [...s].map((c) => (c === "\\" || (q && c === q) ? `\\${c}` : c)).join("");
  return `${q}${body}${q}`;
}

/** One parameter as `name=value` (lists joined with commas), or a bare boolean (`persist`, `nopersist`). */
export function paramText(name: string, v: ParamValue): string {
  if (v === true) return name;
  if (v === false) return name.replace(/([^.]*)$/, "no$1");
  if (typeof v === "string") return `${name}=${quoteParam(v)}`;
  return v.length ? `${name}=${v.map(quoteParam).join(",")}` : name;
}

/** The line -J writes for a created jail: jid=N, then every parameter used. */
export function jidFileLine(jid: number, params: Record<string, ParamValue>): string {
  const rest = Object.entries(params).filter(([k]) => k !== "jid").map(([k, v]) => paramText(k, v));
  return `${[`jid=${jid}`, ...rest].join(" ")}\n`;
}

/** One line of -e: a configured jail's parameters, separated by SEP. */
export function exportLine(params: Record<string, ParamValue>, sep: string): string {
  return `${Object.entries(params).map(([k, v]) => paramText(k, v)).join(sep)}\n`;
}
