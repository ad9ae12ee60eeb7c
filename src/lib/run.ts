// run(): a command in a fresh jail, resolved with its report and captured output.
import type { Readable, Writable } from "node:stream";
import { SysjailError, usageError } from "../errors.js";
import type { StdioOptions } from "node:child_process";
import { JailRun } from "../jail/run.js";
import { buildReport, type RunReport } from "../limits/report.js";
import { denialsFor } from "../jail/denials.js";
import { specFromOptions, type JailListeners, type RunOptions } from "./options.js";
import { prepareWithHelper } from "../jail/early.js";

/** What run() resolves to. */
export interface RunResult {
  report: RunReport;
  stdout: string;
  stderr: string;
  /** The jail's id while it ran. */
  jid: number;
  /** Through a launcher with a work directory: the files of `collect` that were regular files
   * (Buffers). */
  files?: Record<string, Uint8Array>;
}

/** Collects a stream into a string, keeping at most `max` bytes. */
function collect(stream: Readable | null, max: number): { text: () => string; done: Promise<void> } {
  const chunks: Buffer[] = [];
  let size = 0;
  const done = new Promise<void>((resolve) => {
    if (!stream) return resolve();
    stream.on("data", (d: Buffer) => {
      if (size >= max) return;
      const part = d.subarray(0, max - size);
      chunks.push(part);
      size += part.length;
    });
    stream.on("end", () => resolve());
    stream.on("close", () => resolve());
    stream.on("error", () => resolve());
  });
  return { text: () => Buffer.concat(chunks).toString("utf8"), done };
}

/** Calls the listeners that match a finished run's report. */
export function fireListeners(on: JailListeners | undefined, report: RunReport): void {
  if (!on) return;
  if (report.status === "oom") on.oom?.(report);
  if (report.status === "timeout" || report.status === "oom" || (report.limitsHit?.length ?? 0) > 0) on.limit?.(report);
  if (report.status === "halted") on.halt?.(report);
  on.exit?.(report);
}


/** Runs options.command in a new jail; rejects with SysjailError when the jail cannot be set up. */
export async function run(options: RunOptions): Promise<RunResult> {
  // a restricted caller's jails come from the launcher it started before (src/lib/launcher.ts)
  if (typeof options === "object" && options !== null && options.via !== undefined) {
    if (typeof options.via?.run !== "function") throw usageError("run(): option via must be a launcher from startLauncher()");
    return options.via.run(options);
  }
  const spec = specFromOptions(options, "run");
  const signal = options.signal;
  if (signal?.aborted) throw new SysjailError("sysjail: aborted before the jail started", { code: "ABORT_ERR", phase: "runtime", cause: signal.reason });
  const accounting = Object.keys(spec.limits).length > 0;
  // no stdin pipe unless there is input: the command then reads end-of-file from /dev/null
  const stdio: StdioOptions = [options.stdin !== undefined ? "pipe" : "ignore", "pipe", "pipe"];
  const { prep, helper: early } = await prepareWithHelper(spec, stdio, { stateDir: options.stateDir, accounting, notify: "answer" });
  const jr = new JailRun(spec, prep, { stdio, detach: false }, early);
  const max = options.maxOutputBytes ?? 1 << 20;
  const child = jr.helper.child!; // spawned: run() never has a native front
  const out = collect(child.stdout, max);
  const err = collect(child.stderr, max);
  const stdin = child.stdin as Writable | null;
  if (stdin) {
    stdin.on("error", () => undefined);
    if (options.stdin !== undefined) stdin.end(options.stdin);
    else stdin.end();
  }
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    jr.terminate();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const ev = await jr.wait();
    // the monitor reports before it removes the jail's cgroups (and for such jails its registry
    // files): wait for it to finish, so that nothing of the jail is left once run() settles. A
    // jail without cgroups has nothing left by the time of the report (the monitor removes its
    // files at once), and waiting for the kernel's namespace teardown would only cost time.
    const holdsHost = prep.cgroups !== undefined || prep.netCgroup !== undefined || spec.vnet || spec.ip4.length > 0 || spec.ip6.length > 0;
    const gone = !holdsHost || child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.once("error", () => resolve());
      });
    await Promise.all([out.done, err.done, gone]);
    if (jr.error) throw jr.error;
    if (aborted) throw new SysjailError("sysjail: the run was aborted", { code: "ABORT_ERR", phase: "runtime", cause: signal?.reason });
    if (!ev) throw new SysjailError("sysjail: the helper ended without a report", { code: "EPIPE", phase: "runtime" });
    const report = buildReport(ev, {
      limits: spec.limits,
      ...(prep.cgroups ? { stats: prep.cgroups.stats, unenforced: prep.cgroups.unenforced, rlimited: prep.cgroups.rlimited } : {}),
      command: true,
      denials: await denialsFor(spec, jr.calls),
    });
    fireListeners(options.on, report);
    return { report, stdout: out.text(), stderr: err.text(), jid: jr.jid };
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
