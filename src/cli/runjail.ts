// Runs a jail from a command-line tool: in the foreground (status passed on) or in the background.
import { vis } from "../manage/vis.js";
import { prepare } from "../jail/prepare.js";
import { JailRun } from "../jail/run.js";
import { exitStatus } from "../jail/status.js";
import type { JailSpec } from "../spec/types.js";
import { writeHostFile } from "../host/hostfile.js";
import { SysjailError, Exit } from "../errors.js";
import type { RunReport } from "../limits/report.js";
import type { ExitEvent } from "../helper/launch.js";
import type { CallEvent } from "../helper/events.js";
import type { Denial } from "../seccomp/listener.js";
import { denialLine, denialsFor } from "../jail/denials.js";
import { prepareWithHelper } from "../jail/early.js";
import { takeFront } from "../helper/front.js";
import type { Prepared } from "../jail/prepare.js";
import { mainPathRan } from "./main.js";

/** The run report of a finished jail (the report code loads only for --report). */
export async function reportOf(ev: ExitEvent | undefined, prep: Prepared, spec: JailSpec, error?: Error, calls: readonly CallEvent[] = []): Promise<RunReport> {
  const { buildReport } = await import("../limits/report.js");
  const denials = await denialsFor(spec, calls);
  const event = ev ?? { ev: "exit" as const, setupFailed: true, cmd: false, cmdCode: -1, cmdSignal: 0 };
  return buildReport(event, {
    limits: spec.limits,
    ...(prep.cgroups ? { stats: prep.cgroups.stats, unenforced: prep.cgroups.unenforced, rlimited: prep.cgroups.rlimited } : {}),
    command: (spec.command?.length ?? 0) > 0,
    ...(error ? { error: error.message } : {}),
    denials,
  });
}

/** sysjail -d: the refused calls, one line each, at the end of the run. */
function printDenials(tool: string, denials: readonly Denial[]): void {
  for (const d of denials) process.stderr.write(denialLine(tool, d));
}

/** --learn FILE: the policy of the calls that ran, merged with what FILE learned before. */
async function writeLearned(dest: string, calls: readonly CallEvent[], jailPath: string): Promise<void> {
  const [{ learnedPolicy }, { readRegularFile }] = await Promise.all([import("../seccomp/listener.js"), import("../host/regular.js")]);
  let old = "";
  try { old = readRegularFile(dest); } catch { /* none yet (or not a regular file: refused below) */ }
  try {
    writeHostFile(dest, jailPath, learnedPolicy(calls, old));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    const why = code === "EXDEV" ? "it lies inside the jail's path" : code === "ELOOP" ? "it is a symbolic link" : code === "ENOTREG" ? "not a regular file" : code;
    throw new SysjailError(`sysjail: --learn ${dest}: ${why}`, { code, phase: "runtime", path: dest, exitCode: Exit.cantCreate });
  }
}

function writeReport(dest: string, report: RunReport, jailPath: string): void {
  const text = `${JSON.stringify(report)}\n`;
  if (dest === "-") process.stdout.write(text); // the command's own standard output went to standard error
  else {
    try {
      writeHostFile(dest, jailPath, text); // never through a jail's symlink (src/host/hostfile.ts)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EIO";
      const why = code === "EXDEV" ? "it lies inside the jail's path" : code === "ELOOP" ? "it is a symbolic link" : code === "ENOTREG" ? "not a regular file" : code;
      throw new SysjailError(`sysjail: --report ${dest}: ${why}`, { code, phase: "runtime", path: dest, exitCode: Exit.cantCreate });
    }
  }
}

/** Options of sysjail and jail that concern running. */
export interface CliRunOptions {
  tool: string;
  debug: number;
  background: boolean;
  printJid: boolean;
  dryRun: boolean;
  stateDir?: string | undefined;
  /** --report FILE, or "-" for standard error. */
  report?: string | undefined;
  /** --learn FILE: record every call and write a policy that allows them (merged with FILE). */
  learn?: string | undefined;
}

function reporters(run: CliRunOptions) {
  return {
    debug: run.debug >= 2 ? (l: string) => process.stderr.write(`${run.tool}: ${vis(l)}\n`) : undefined,
    warn: run.debug >= 1 ? (l: string) => process.stderr.write(`${run.tool}: ${vis(l)}\n`) : undefined,
    notice: (l: string) => process.stderr.write(`${run.tool}: ${vis(l)}\n`),
  };
}

/** Runs the jail attached to this process; resolves to the exit status to use. */
export async function foreground(spec: JailSpec, run: CliRunOptions): Promise<number> {
  // started as the package's native command, the front is this jail's helper (src/helper/front.ts)
  const { prep, helper: early } = await prepareWithHelper(spec, "inherit", {
    stateDir: run.stateDir, debug: run.debug, detach: false, accounting: run.report !== undefined,
    notify: run.learn !== undefined ? "learn" : run.report !== undefined || run.debug >= 1 ? "answer" : undefined,
    stdoutToStderr: run.report === "-",
  }, takeFront());
  // the caller is told which limits this host could not enforce (rootless without delegation)
  if (prep.cgroups?.unenforced.length) {
    process.stderr.write(`${run.tool}: warning: not enforced here: ${prep.cgroups.unenforced.join(", ")}\n`);
  }
  if (run.debug >= 2) process.stderr.write(`${run.tool}: plan: ${prep.plan.ops.map((o) => o.op).join(" ")}\n`);
  const jr = new JailRun(spec, prep, { stdio: "inherit", detach: false, ...reporters(run) }, early);
  const stop = () => jr.terminate();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  const ok = await jr.ready();
  if (ok && run.printJid) process.stdout.write(`${jr.jid}\n`);
  const ev = await jr.wait();
  mainPathRan();
  // the handlers stay: this process exits next (src/cli/main.ts), and a signal meanwhile only
  // repeats a terminate request the ended jail ignores; removing each costs system calls
  if (run.learn !== undefined) await writeLearned(run.learn, jr.calls, spec.path);
  if (run.report !== undefined) writeReport(run.report, await reportOf(ev, prep, spec, jr.error, jr.calls), spec.path);
  if (run.debug >= 1 && jr.calls.length) printDenials(run.tool, await denialsFor(spec, jr.calls));
  if (jr.error) throw jr.error;
  if (!ev) return 70;
  if (ev.halt) process.stderr.write(`${run.tool}: jail ${jr.jid} ${ev.halt === "halt" ? "halted" : "rebooted"} from inside\n`);
  return exitStatus(ev);
}

/** Starts the jail detached (-b): its monitor goes on without this process. */
export async function background(spec: JailSpec, run: CliRunOptions): Promise<number> {
  const prep = await prepare(spec, { stateDir: run.stateDir, debug: run.debug, detach: true });
  const jr = new JailRun(spec, prep, { stdio: "ignore", detach: true, ...reporters(run) });
  const ok = await jr.ready();
  if (!ok) {
    if (jr.error) throw jr.error;
    const ev = jr.exit;
    process.stderr.write(`${run.tool}: the jail ended before its command started${ev ? ` (status ${exitStatus(ev)})` : ""}\n`);
    return ev ? exitStatus(ev) : 70;
  }
  jr.detach();
  mainPathRan();
  if (run.printJid) process.stdout.write(`${jr.jid}\n`);
  return 0;
}
