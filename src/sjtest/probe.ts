// Running sjprobe (native/probe/sjprobe.c) in a jail and checking its lines: the common shape of
// the system-call tests.
import type { Ctx, Result } from "./context.js";
import { lines, show } from "./context.js";
import { fail, pass, type Outcome } from "./types.js";

/** One probe call and the line it must print. */
export interface Call {
  args: string[];
  want: RegExp;
}

/** A jail to run the probe in. */
export interface ProbeJail {
  /** sysjail options before the path (-4, --allow-ipc, --limit ...). */
  flags?: string[];
  /** The jail root (default `/`, the host tree); a tree from ctx.tree() has the probe at /sjprobe. */
  path?: string;
  calls: Call[];
}

/** sjprobe's argument list for CALLS, "+" between calls. */
export function probeArgs(calls: readonly Call[]): string[] {
  return calls.flatMap((c, i) => (i === 0 ? c.args : ["+", ...c.args]));
}

/** Runs the probe in a new jail; the result as sysjail returned it. */
export function runProbe(ctx: Ctx, tag: string, j: ProbeJail): Promise<Result> {
  const path = j.path ?? "/";
  const probe = path === "/" ? ctx.probe : "/sjprobe";
  const name = ctx.name(tag);
  return ctx.tool("sysjail", [...(j.flags ?? []), path, name, probe, ...probeArgs(j.calls)]);
}

/** Compares the probe's lines with what each call must print. */
export function judge(r: Result, calls: readonly Call[]): Outcome {
  const got = lines(r);
  for (const [i, c] of calls.entries()) {
    const line = got[i];
    if (line === undefined) return fail(`${c.args.join(" ")}: no answer (${show(r)})`);
    if (!c.want.test(line)) return fail(`${c.args.join(" ")}: got "${line}", wanted ${c.want.source}`);
  }
  return pass(calls.map((c, i) => `${c.args[0] === "sys" || c.args[0] === "i386" || c.args[0] === "x32" ? `${c.args[0]} ${c.args[1]}` : c.args[0]}: ${got[i]!.replace(/^(ok|err) /, "")}`).join(", "));
}

/** A test body: the probe's calls in a new jail, each with its expected line. */
export async function probeCheck(ctx: Ctx, tag: string, j: ProbeJail): Promise<Outcome> {
  return judge(await runProbe(ctx, tag, j), j.calls);
}

/** The expected line "err NAME". */
export const E = (name: string): RegExp => new RegExp(`^err ${name}$`);
/** Any success line. */
export const OK = /^ok /;
/** Any failure line. */
export const ERR = /^err /;
