// jail -c: FreeBSD's creation order as a table of steps, each with its undo. A step that fails
// stops the creation and the steps done so far are undone in reverse, so a failed creation leaves
// no registry entry, no process, no mount and no cgroup behind.
import { existsSync, lstatSync, readFileSync } from "node:fs";
import type { SysjailError } from "../errors.js";
import { dirname, join } from "node:path";
import { isatty } from "node:tty";
import type { JailHooks } from "../conf/spec.js";
import { dirInsideJailTree } from "../host/hostfile.js";
import { prepare, type Prepared } from "../jail/prepare.js";
import { faultPoint } from "../jail/fault.js";
import { JailRun } from "../jail/run.js";
import type { JailRef } from "../manage/locate.js";
import { removeJail } from "../manage/remove.js";
import { checkPath, validateSpec } from "../spec/validate.js";
import type { JailSpec } from "../spec/types.js";
import { jailDevices } from "./devfs.js";
import { abortCurrent, failureText, runHookLine, runJailCommand, type HookJail, type HookResult } from "./hooks.js";
import type { LoadedJail } from "./load.js";
import type { Reporter } from "./report.js";

/** A creation step that failed: the text jail(8) prints after "jail: NAME: ". */
export class StepFailure extends Error {}

/** FreeBSD's words when a jail may make no (more) child jails: children.max. */
const PRISON_LIMIT = "prison limit exceeded";

/** Whether this process runs inside a jail (a user namespace other than the host's). */
function insideJail(): boolean {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(readFileSync("/proc/self/uid_map", "utf8"));
  } catch {
    return false;
  }
}

/** Options of a creation. */
export interface CreateOptions {
  stateDir?: string | undefined;
  /** -i: print the jid once the jail exists. */
  printJid: boolean;
  out: Reporter;
  /** How long to wait for a killed jail's monitor to clean up, ms. */
  settleMs?: number;
}

/** Everything the steps share; filled in as they go. */
export interface CreateContext {
  jail: LoadedJail;
  opts: CreateOptions;
  /** JID, JNAME, JPATH and the hook options. */
  hook: HookJail;
  /** The spec the helper gets: persistent and without a command (jail(8) runs those itself). */
  helperSpec?: JailSpec;
  devices?: string[] | undefined;
  prep?: Prepared;
  /** Set once a helper was handed the reservation (it then cleans up after a failed start). */
  started?: boolean;
  /** The running jail, once it exists. */
  ref?: JailRef;
}

/** One step of the creation. */
export interface CreateStep {
  name: string;
  where: "host" | "jail" | "kernel";
  run(ctx: CreateContext): Promise<void>;
  /** Undoes a step that completed (on a later failure); failures here are only reported. */
  undo?(ctx: CreateContext): Promise<void>;
}

/** The name messages use: the configured one (none for an unnamed jail, as on FreeBSD). */
function label(ctx: CreateContext): string | undefined {
  return ctx.jail.label;
}

/** Runs one command; a failure (or exec.timeout) stops the creation. */
async function runChecked(ctx: CreateContext, where: "host" | "jail", shown: string, run: () => Promise<HookResult>): Promise<void> {
  const as = where === "jail" && ctx.hook.jailUser ? ` as ${ctx.hook.jailUser}` : "";
  ctx.opts.out.verbose(label(ctx), `run command${where === "jail" ? " in jail" : ""}${as}: ${shown}`);
  const r = await run();
  if (r.status !== 0 || r.timedOut) throw new StepFailure(failureText(shown, r));
}

/** Runs the command lines of one exec.* hook, in order. */
async function runLines(ctx: CreateContext, lines: readonly string[], where: "host" | "jail"): Promise<void> {
  for (const line of lines) await runChecked(ctx, where, line, () => runHookLine(line, where, ctx.hook, ctx.ref));
}

function hookStep(hook: keyof JailHooks, where: "host" | "jail", undo?: keyof JailHooks): CreateStep {
  return {
    name: `exec.${hook}`, where,
    run: (ctx) => runLines(ctx, ctx.jail.lifecycle.exec[hook], where),
    ...(undo ? {
      undo: async (ctx: CreateContext) => {
        for (const line of ctx.jail.lifecycle.exec[undo]) {
          ctx.opts.out.verbose(label(ctx), `run command: ${line}`);
          const r = await runHookLine(line, "host", ctx.hook);
          if (r.status !== 0 || r.timedOut) ctx.opts.out.warn(label(ctx), failureText(line, r));
        }
      },
    } : {}),
  };
}

/** A host directory that another filesystem is mounted on (its device differs from its parent's). */
function hostMountPoint(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.dev !== lstatSync(dirname(dir)).dev;
  } catch {
    return false;
  }
}

/** The jail's root and mount sources must exist. A /proc or /dev of the root that is a host mount
 * (a jail whose path is /) is replaced by the jail's own procfs and devfs: a jail never sees the
 * host's /proc or /dev nodes, as a FreeBSD jail never sees processes or devices outside it. */
async function checkMounts(ctx: CreateContext): Promise<void> {
  const spec = ctx.jail.spec;
  try {
    spec.path = checkPath(spec.path);
  } catch {
    throw new StepFailure(`path ${spec.path}: ${existsSync(spec.path) ? "Not a directory" : "No such file or directory"}`);
  }
  ctx.hook.path = spec.path;
  for (const m of spec.mounts) {
    if (m.type === "bind" && !existsSync(m.source)) throw new StepFailure(`mount: ${m.source}: No such file or directory`);
    // the helper opens a bind source by its host path: one in the jail's own tree could be a
    // symlink the jail planted to any host directory
    if (m.type === "bind" && dirInsideJailTree(m.source, spec.path)) throw new StepFailure(`mount: ${m.source}: the source lies inside the jail's path (bind sources must be host directories outside it)`);
  }
  if (!spec.mountProc && hostMountPoint(join(spec.path, "proc"))) spec.mountProc = true;
  if (!spec.mountDev && hostMountPoint(join(spec.path, "dev"))) spec.mountDev = true;
}

/** mount.devfs: the ruleset's nodes of the host's /dev. */
async function devfsStep(ctx: CreateContext): Promise<void> {
  if (ctx.jail.spec.mountDev) ctx.devices = jailDevices(ctx.jail.spec.devfsRuleset);
}

/** Plans the start and reserves the jid and name (so hooks from exec.prestart on see JID). */
async function reserve(ctx: CreateContext): Promise<void> {
  const spec: JailSpec = { ...ctx.jail.spec, persist: true };
  delete spec.command;
  ctx.helperSpec = validateSpec(spec);
  try {
    ctx.prep = await prepare(ctx.helperSpec, { stateDir: ctx.opts.stateDir, detach: true, devices: ctx.devices, jid: ctx.jail.jid });
  } catch (err) {
    // inside a jail without children.max there is no registry to keep a child in: FreeBSD's error
    if (insideJail() && (err as SysjailError).phase === "registry" && ["EACCES", "EROFS", "EPERM"].includes((err as SysjailError).code)) throw new StepFailure(PRISON_LIMIT);
    throw err;
  }
  ctx.hook.jid = ctx.prep.reservation.jid;
  ctx.hook.name = ctx.jail.label ?? ctx.prep.reservation.name;
}

/** The jail itself: the helper builds it and its init stays (persist); the monitor then runs on
 * with no jail(8) process behind it. */
async function createStep(ctx: CreateContext): Promise<void> {
  const prep = ctx.prep!;
  ctx.started = true;
  const jr = new JailRun(ctx.helperSpec!, prep, { stdio: "ignore", detach: true, lifecycle: { ...ctx.jail.lifecycle } });
  const ok = await jr.ready();
  if (!ok || !jr.entry) {
    // the kernel's refusal of one more user namespace in a parent jail: children.max reached
    if (insideJail() && /at clone: (ENOSPC|EPERM|EUSERS)/.test(jr.error?.message ?? "")) throw new StepFailure(PRISON_LIMIT);
    const why = jr.error?.message.replace(/^sysjail: /, "") ?? "the jail did not start";
    throw new StepFailure(why);
  }
  jr.detach();
  ctx.ref = { entry: jr.entry, dir: prep.registry.dir, dirOwner: process.getuid?.() ?? 0, own: true };
  ctx.opts.out.note(label(ctx), "created");
  if (ctx.opts.printJid) process.stdout.write(`${jr.jid}\n`);
}

/** Removes a jail created by this run (no hooks: FreeBSD runs none for a failed creation). */
async function undoCreate(ctx: CreateContext): Promise<void> {
  if (!ctx.ref) return;
  await removeJail(ctx.ref, { force: true, settleMs: ctx.opts.settleMs ?? 5000, warn: (l) => ctx.opts.out.warn(undefined, l) });
  ctx.opts.out.note(label(ctx), "removed");
}

/** command: an argv from the command line, or command lines from a configuration. */
async function commandStep(ctx: CreateContext): Promise<void> {
  const cmd = ctx.jail.lifecycle.command;
  if (!cmd?.length) return;
  if (!ctx.jail.commandArgv) return runLines(ctx, cmd, "jail");
  // an interactive `jail -c ... command=/bin/sh` on a terminal gets a pty of the jail, as jexec does
  const tty = !ctx.hook.consoleLog && isatty(0) && isatty(1) ? "pty" : "pipe";
  await runChecked(ctx, "jail", cmd.join(" "), () => runJailCommand(cmd, ctx.hook, ctx.ref!, tty));
}

/** FreeBSD's creation order (CREATE_STEPS of src/conf), with Linux's own steps in between: the
 * addresses are planned by prepare() and the mounts made by the helper in the jail's private mount
 * namespace during "create"; exec.prepare's undo is exec.release. */
export const CREATE_SEQUENCE: readonly CreateStep[] = [
  hookStep("prepare", "host", "release"),
  { name: "mounts", where: "host", run: checkMounts },
  { name: "mount.devfs", where: "host", run: devfsStep },
  { name: "reserve", where: "host", run: reserve, undo: async (ctx) => { if (!ctx.started) ctx.prep?.reservation.release(); } },
  hookStep("prestart", "host"),
  { name: "create", where: "kernel", run: createStep, undo: undoCreate },
  hookStep("created", "host"),
  hookStep("start", "jail"),
  { name: "command", where: "jail", run: commandStep },
  hookStep("poststart", "host"),
];

/** Runs the creation sequence; on a failure undoes the completed steps in reverse and rethrows.
 * SIGINT, SIGTERM and SIGHUP count as a failure of the step under way (a half-made jail is undone). */
export async function runCreate(ctx: CreateContext, steps: readonly CreateStep[] = CREATE_SEQUENCE): Promise<JailRef> {
  const done: CreateStep[] = [];
  let signal: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    signal ??= sig;
    abortCurrent();
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const sig of signals) process.on(sig, onSignal);
  try {
    for (const step of steps) {
      try {
        if (signal) throw new StepFailure(`interrupted (${signal})`);
        await step.run(ctx);
        done.push(step);
        faultPoint(`create:${step.name}`);
        if (signal) throw new StepFailure(`interrupted (${signal})`);
      } catch (err) {
        await undoAll(ctx, done);
        throw err;
      }
    }
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
  }
  return ctx.ref!;
}

/** Undoes completed steps, last first; an undo that fails is reported and the others still run. */
async function undoAll(ctx: CreateContext, done: CreateStep[]): Promise<void> {
  for (const d of [...done].reverse()) {
    try {
      await d.undo?.(ctx);
    } catch (e) {
      ctx.opts.out.warn(label(ctx), (e as Error).message.replace(/^jail: /, ""));
    }
  }
}
