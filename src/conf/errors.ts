// Source positions and the one-line configuration errors and warnings of jail.conf, devfs.rules and fstab.
import { Exit, SysjailError } from "../errors.js";

/** Where a token came from: a file line and column (1-based), or a command-line argument. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
  /** Set for parameters from the command line: the 1-based index of the argument. */
  arg?: number;
}

/** Formats a position as `FILE:LINE:COLUMN`, or `command line argument N`. */
export function formatPos(pos: SourcePos): string {
  if (pos.arg !== undefined) return `command line argument ${pos.arg}`;
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** Shows a token for a message: control characters escaped, long tokens shortened. */
export function showToken(token: string): string {
  let t = token.replace(/[\x00-\x1f\x7f]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
  if (t.length > 60) t = `${t.slice(0, 57)}...`;
  return t;
}

/** The configuration error: `FILE:LINE:COLUMN: WHAT near 'TOKEN'`, code ECONF, exit 64. */
export function confError(pos: SourcePos, what: string, token: string): SysjailError {
  return new SysjailError(`${formatPos(pos)}: ${what} near '${showToken(token)}'`, {
    code: "ECONF",
    phase: "usage",
    exitCode: Exit.usage,
    path: pos.arg === undefined ? pos.file : undefined,
  });
}

/** A configuration error that has no position (a jail that is not defined, a missing ruleset). */
export function confErrorNoPos(message: string, file?: string): SysjailError {
  return new SysjailError(message, { code: "ECONF", phase: "usage", exitCode: Exit.usage, path: file });
}

/** A one-line warning in the same `FILE:LINE:COLUMN: ...` form. */
export function confWarning(pos: SourcePos, what: string): string {
  return `${formatPos(pos)}: warning: ${what}`;
}
