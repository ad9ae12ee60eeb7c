// SysjailError: the one error class of the package, carrying phase, step, errno and path.
import { ERRNO_NAMES } from "./host/errno.js";

/** Where an error arose: checking input, planning, the helper's steps, or the registry. */
export type ErrorPhase = "usage" | "plan" | "setup" | "exec" | "registry" | "runtime" | "protocol";

let byName: Map<string, number> | undefined;

/** The errno name for a number (2 -> "ENOENT"), or "E<num>". */
export function errnoName(n: number): string {
  return ERRNO_NAMES[n] ?? `E${n}`;
}

/** The errno number for a name ("ENOENT" -> 2; the aliases EWOULDBLOCK, EDEADLOCK and ENOTSUP too). */
export function errnoNumber(name: string): number | undefined {
  if (!byName) {
    byName = new Map(Object.entries(ERRNO_NAMES).map(([n, s]) => [s, Number(n)]));
    byName.set("EWOULDBLOCK", 11).set("EDEADLOCK", 35).set("ENOTSUP", 95);
  }
  return byName.get(name);
}

/** Exit statuses (sysexits(3) where one fits). */
export const Exit = {
  usage: 64,
  dataErr: 65,
  noInput: 66,
  noUser: 67,
  software: 70,
  osErr: 71,
  cantCreate: 73,
  noPerm: 77,
  config: 78,
  notFound: 127,
} as const;

/** What a SysjailError is made from (its code, phase, exit status, and where it failed). */
export interface SysjailErrorInit {
  code: string;
  phase: ErrorPhase;
  step?: string | undefined;
  errno?: number | undefined;
  path?: string | undefined;
  exitCode?: number | undefined;
  cause?: unknown;
}

/** The error every sysjail API rejects with: one line of message plus structured fields. */
export class SysjailError extends Error {
  /** A stable code: an errno name ("ENOENT") or a sysjail code ("EUSAGE", "EPROTO", ...). */
  readonly code: string;
  readonly phase: ErrorPhase;
  readonly step: string | undefined;
  readonly errno: number | undefined;
  readonly path: string | undefined;
  /** The exit status the command-line tools use for this error. */
  readonly exitCode: number;

  /** MESSAGE is one line without the tools' prefix: a leading "sysjail: " is dropped (messages
   * written in the command-line style read the same from the library; the tools add their own
   * name where they print, src/cli/main.ts). */
  constructor(message: string, init: SysjailErrorInit) {
    super(message.startsWith("sysjail: ") ? message.slice(9) : message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "SysjailError";
    this.code = init.code;
    this.phase = init.phase;
    this.step = init.step;
    this.errno = init.errno;
    this.path = init.path;
    this.exitCode = init.exitCode ?? (init.phase === "usage" ? Exit.usage : Exit.software);
  }
}

/** A usage error (bad flag, bad value): exit 64. */
export function usageError(message: string, extra: Partial<SysjailErrorInit> = {}): SysjailError {
  return new SysjailError(message, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage, ...extra });
}

/** Hostile text as it may stand in a one-line message: printable ASCII only (the rest as ?), at most MAX characters. */
export function printable(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, max);
}
