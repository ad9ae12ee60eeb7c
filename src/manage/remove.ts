// jail -r: FreeBSD's stop sequence as a table of steps (hooks plug in), run against a running jail.
import { nestedChildren } from "./nested.js";
import { removeNestDir } from "../jail/nest.js";
import { vis } from "./vis.js";
import { existsSync } from "node:fs";
import { SysjailError } from "../errors.js";
import { faultPoint } from "../jail/fault.js";
import { isAlive, monitorAlive } from "../registry/store.js";
import { jailFiles } from "../registry/paths.js";
import { removeLeftoverCgroups, trustedCgroups } from "./cgroups.js";
import { removeEntryFiles } from "./entryfile.js";
import { defaultHookRunner, hooksOf, type HookName, type HookRunner } from "./hooks.js";
import type { JailRef } from "./locate.js";
import { isInitOf, jailNamespace, namespaceMembers, nsPidsOf, pidsInNamespace, pinnedInOtherUserNs, statFields } from "./proc.js";
import { pinProc, stillAlive } from "../host/pinproc.js";
import { signalEach, signalPinned } from "../host/signal.js";

/** Everything a stop step may use. */
export interface StopContext {
  ref: JailRef;
  /** Seconds between SIGTERM and SIGKILL (stop.timeout; 0 kills at once). */
  stopTimeout: number;
  /** Run exec.* hooks (jail -R does not). */
  hooks: boolean;
  runHook: HookRunner;
  /** Warnings, one line each (the tool prefixes its name). */
  warn: (line: string) => void;
  /** How long to wait for the kernel and the monitor after SIGKILL, ms. */
  settleMs: number;
}

/** One step of the stop sequence. */
export interface StopStep {
  name: string;
  /** Where it acts: host commands, commands inside the jail, or the kernel. */
  where: "host" | "jail" | "kernel";
  /** Whether a failure stops the removal (before the jail is gone) or is only reported. */
  fatal: boolean;
  run(ctx: StopContext): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function hookStep(hook: HookName, where: "host" | "jail", fatal: boolean): StopStep {
  return {
    name: `exec.${hook}`, where, fatal,
    async run(ctx) {
      if (!ctx.hooks) return;
      for (const cmd of hooksOf(ctx.ref.entry, hook)) {
        const status = await ctx.runHook({ hook, where, command: cmd, ref: ctx.ref });
        if (status !== 0) throw new SysjailError(`jail: ${ctx.ref.entry.name}: exec.${hook} ${JSON.stringify(cmd)} failed (status ${status})`, { code: "EHOOK", phase: "runtime", exitCode: 1 });
      }
    },
  };
}

/** The jail's processes other than its init that are still running (zombies do not count). */
function others(ns: string, initPid: number): number[] {
  return pidsInNamespace(ns).filter((p) => p !== initPid && statFields(p)?.[0] !== "Z");
}

/** SIGTERM to every process in the jail, then up to stop.timeout for them to end. Each process is
 * named by pid and start time, read with its pid namespace through its pinned /proc directory,
 * and signalled through the helper's pidfd (src/host/signal.ts): never a pid that ended and went
 * to another process. The init's namespace is read through its own pinned directory. */
export async function terminateAll(ctx: StopContext): Promise<void> {
  const e = ctx.ref.entry;
  if (ctx.stopTimeout <= 0) return;
  const init = pinProc(e.initPid, e.initStart);
  if (!init) return;
  let ns: string | undefined;
  try {
    if (!isInitOf(nsPidsOf(init.read("status"), e.initPid))) return;
    ns = init.ns("pid") ?? jailNamespace(e.initPid);
    if (!stillAlive(init)) return; // its namespace (read from a child, maybe) is that jail's
  } finally {
    init.close();
  }
  if (!ns) return; // nothing but the init is known to run there
  signalEach(namespaceMembers(ns, e.initPid), 15);
  const deadline = Date.now() + ctx.stopTimeout * 1000;
  while (Date.now() < deadline && isAlive(e) && others(ns, e.initPid).length > 0) await sleep(25);
}

/** SIGKILL to the jail's init: the kernel kills every process of its pid namespace; the monitor
 * then removes the cgroups and the registry files. Waits (bounded) for both, else cleans up. The
 * init is read and signalled pinned by its start time (src/host/pinproc.ts, src/host/signal.ts). */
export async function killJail(ctx: StopContext): Promise<void> {
  const e = ctx.ref.entry;
  // root's sysjail-oci container in a shared pid namespace: its init is not pid 1 there, but is in
  // the container's own user namespace; its monitor kills the rest of that namespace's processes
  const init = pinProc(e.initPid, e.initStart);
  let mayKill = false;
  try {
    mayKill = init !== undefined && (isInitOf(nsPidsOf(init.read("status"), e.initPid)) || ((ctx.ref.dirOwner ?? 0) === 0 && pinnedInOtherUserNs(init)));
  } finally {
    init?.close();
  }
  if (mayKill) {
    const r = signalPinned(e.initPid, e.initStart, 9);
    if (!r.sent && r.code !== "ESRCH") {
      throw new SysjailError(`jail: ${e.name}: cannot kill the jail's init (pid ${e.initPid}): ${r.code}`, { code: "EPERM", phase: "runtime", exitCode: 1 });
    }
  }
  const files = jailFiles(ctx.ref.dir, e.jid);
  const monitorUp = () => monitorAlive(e) && statFields(e.monitorPid)?.[0] !== "Z";
  const deadline = Date.now() + ctx.settleMs;
  while (Date.now() < deadline && (isAlive(e) || existsSync(files.entry) || monitorUp())) await sleep(10);
  if (isAlive(e)) {
    throw new SysjailError(`jail: ${e.name}: the jail's init (pid ${e.initPid}) did not end`, { code: "EBUSY", phase: "runtime", exitCode: 1 });
  }
  // a monitor that is gone (or hung) left its files: remove them, and the cgroups if empty
  if (existsSync(files.entry) || existsSync(files.reservation)) removeEntryFiles(ctx.ref.dir, e.jid, e.name, ctx.ref.dirOwner);
  // children.max: the registry of its children (they ended with its pid namespace)
  if (e.spec.policy?.allowNesting) removeNestDir(ctx.ref.dir, e.jid);
  const left = removeLeftoverCgroups(trustedCgroups(e, ctx.ref.dirOwner));
  if (left.length) ctx.warn(`${e.name}: cgroups still in use: ${left.join(" ")}`);
}

/** FreeBSD's removal order: exec.prestop, exec.stop (in the jail), SIGTERM and stop.timeout,
 * removal (SIGKILL), exec.poststop, exec.release. The hook steps come from the entry's lifecycle. */
export const STOP_SEQUENCE: readonly StopStep[] = [
  hookStep("prestop", "host", true),
  hookStep("stop", "jail", true),
  { name: "stop.timeout", where: "kernel", fatal: true, run: terminateAll },
  { name: "remove", where: "kernel", fatal: true, run: killJail },
  hookStep("poststop", "host", false),
  hookStep("release", "host", false),
];

/** stop.timeout of a jail: its lifecycle's, else FreeBSD's default of 10 seconds. */
export function stopTimeoutOf(ref: JailRef): number {
  const v = (ref.entry.lifecycle as { stopTimeout?: unknown } | undefined)?.stopTimeout;
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 10;
}

/** Options of removeJail. */
export interface RemoveOptions {
  /** jail -R: no hooks, no grace period. */
  force?: boolean;
  runHook?: HookRunner;
  warn?: (line: string) => void;
  settleMs?: number;
  steps?: readonly StopStep[];
}

/** Ends a running jail through the stop sequence. */
export async function removeJail(ref: JailRef, opts: RemoveOptions = {}): Promise<void> {
  const ctx: StopContext = {
    ref,
    stopTimeout: opts.force ? 0 : stopTimeoutOf(ref),
    hooks: !opts.force,
    runHook: opts.runHook ?? defaultHookRunner,
    warn: opts.warn ?? ((l) => process.stderr.write(`jail: ${vis(l)}\n`)),
    settleMs: opts.settleMs ?? 5000,
  };
  // FreeBSD removes a jail's children first (their pid namespaces would end with it anyway)
  for (const child of nestedChildren(ref)) {
    try {
      await removeJail(child, { force: true, warn: ctx.warn, settleMs: ctx.settleMs });
    } catch (err) {
      ctx.warn(err instanceof Error ? err.message.replace(/^jail: /, "") : String(err));
    }
  }
  for (const step of opts.steps ?? STOP_SEQUENCE) {
    try {
      await step.run(ctx);
      faultPoint(`stop:${step.name}`);
    } catch (err) {
      if (step.fatal) throw err;
      ctx.warn(err instanceof Error ? err.message.replace(/^jail: /, "") : String(err));
    }
  }
}
