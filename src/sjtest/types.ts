// sjtest's test definitions: what a test is, and the outcome it reports.
import type { Ctx } from "./context.js";

/** The outcome of one test: pass or fail, and why, in one line. */
export interface Outcome {
  pass: boolean;
  reason: string;
}

/** One sjtest test: a jail (or a few) started by `run`, whose attacker reports what it could do.
 * Every test says in a comment what breaks it: a test that cannot fail proves nothing. */
export interface SjTest {
  /** Stable name, `-t NAME`; tests that need root end in " (root)". */
  name: string;
  /** Run only when sjtest runs as root (otherwise not applicable: neither pass nor fail). */
  root?: boolean;
  /** Run only on this machine type (process.arch), e.g. "x64" for the i386/x32 ABIs. */
  arch?: string;
  /** Whether the host can run it at all (e.g. the kernel runs i386 code); false: not applicable. */
  applies?: (ctx: Ctx) => Promise<boolean>;
  run(ctx: Ctx): Promise<Outcome>;
}

/** A passing outcome. */
export const pass = (reason: string): Outcome => ({ pass: true, reason });
/** A failing outcome. */
export const fail = (reason: string): Outcome => ({ pass: false, reason });
