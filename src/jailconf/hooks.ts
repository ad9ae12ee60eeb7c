// The exec.* hook runner: host-side hooks through /bin/sh -c, exec.start/exec.stop and command in
// the jail through the jexec machinery; JID, JNAME and JPATH in their environment, exec.clean,
// exec.jail_user, exec.system_user, exec.timeout and exec.consolelog applied.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { closeSync, existsSync } from "node:fs";
import { SysjailError } from "../errors.js";
import type { HelperRun } from "../helper/launch.js";
import { lookupUser, type UserInfo } from "../host/users.js";
import { isJailDir } from "../host/jailfile.js";
import { openHostLog } from "../host/hostfile.js";
import { enterContext, enterEnv, enterStatus, jailRoot, planEnter, resolveEnterUser, runEnter, type EnterContext } from "../manage/enter.js";
import type { HookCall, HookRunner } from "../manage/hooks.js";
import type { JailRef } from "../manage/locate.js";
import { ownerEnv, runAsOwner, spawnAsOwner, type RunAs } from "../manage/owner.js";
import type { Plan } from "../plan/types.js";
import type { JailEntry } from "../registry/types.js";

/** What a hook needs to know about its jail and the lifecycle options that shape it. */
export interface HookJail {
  /** JNAME: the jail's name (its jid when it has none). */
  name: string;
  /** JID, once the jail has one. */
  jid?: number | undefined;
  /** JPATH. */
  path: string;
  clean: boolean;
  jailUser?: string | undefined;
  systemJailUser: boolean;
  systemUser?: string | undefined;
  /** Seconds a command may run (0 or absent: no limit). */
  execTimeout?: number | undefined;
  consoleLog?: string | undefined;
  /** Host commands run as this identity, the jail's owner, when the caller is someone else
   * (root managing a user's jail): see src/manage/owner.ts. */
  runAs?: RunAs | undefined;
}

/** How one command ended. */
export interface HookResult {
  status: number;
  timedOut: boolean;
  /** Why it could not run at all, when it could not. */
  error?: string | undefined;
  /** The last line the command wrote to its standard error (without exec.consolelog). */
  lastErr?: string | undefined;
}

/** Keeps the last non-empty line of a stream (at most 200 characters of it). */
class LastLine {
  private tail = "";
  line: string | undefined;
  feed(chunk: Buffer | string): void {
    const text = this.tail + chunk.toString();
    const lines = text.split("\n");
    this.tail = lines.pop()!.slice(-200);
    for (const l of lines) if (l.trim() !== "") this.line = l.slice(-200);
  }
  get(): string | undefined {
    return this.tail.trim() !== "" ? this.tail : this.line;
  }
}

/** Forwards a command's stderr pipe to ours, keeping its last line; resolves once the pipe ends or
 * soon after the command exited (a process it left behind may hold the pipe open). */
function teeStderr(stream: NodeJS.ReadableStream | null | undefined, forward: boolean): { last: LastLine; drained: (exited: Promise<void>) => Promise<void> } {
  const last = new LastLine();
  let ended: Promise<void> = Promise.resolve();
  if (stream) {
    ended = new Promise((r) => { stream.once("end", () => r()); stream.once("error", () => r()); });
    stream.on("data", (c: Buffer) => {
      last.feed(c);
      if (forward) process.stderr.write(c);
    });
  }
  const drained = (exited: Promise<void>) => exited.then(() => Promise.race([ended, new Promise<void>((r) => setTimeout(r, 200).unref())]));
  return { last, drained };
}

/** Ends the command that is running now, if any (jail(8) got SIGINT, SIGTERM or SIGHUP). */
let current: (() => void) | undefined;

/** Stops the command under way: a host hook is killed, a jailed one ended by its helper. */
export function abortCurrent(): void {
  current?.();
}

const SHELL_META = /[!"$&'()*;<>?[\\\]`{|}~]/;

/** A command line as jail(8) runs it: through /bin/sh -c when it has shell metacharacters, else
 * split into words and executed directly (so a jail needs no shell for `exec.start = "/app -d"`). */
export function commandArgv(line: string): string[] {
  if (SHELL_META.test(line)) return ["/bin/sh", "-c", line];
  return line.split(/[ \t\f\v\r\n]+/).filter(Boolean);
}

/** The JID, JNAME and JPATH variables every hook gets. */
export function jailVars(j: HookJail): Record<string, string> {
  return { JID: j.jid === undefined ? "" : String(j.jid), JNAME: j.name, JPATH: j.path };
}

/** The lifecycle options of a registry entry (what jail -r needs to run its hooks). */
export function hookJailOf(entry: JailEntry): HookJail {
  const l = (entry.lifecycle ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof l[k] === "string" && l[k] !== "" ? (l[k] as string) : undefined);
  return {
    name: entry.name, jid: entry.jid, path: entry.path, clean: l.clean === true,
    jailUser: str("jailUser"), systemJailUser: l.systemJailUser === true, systemUser: str("systemUser"),
    execTimeout: typeof l.execTimeout === "number" ? l.execTimeout : undefined, consoleLog: str("consoleLog"),
  };
}

/** stdout and stderr of a hook: the consolelog file (appended to), else jail(8)'s own. */
function outputFds(j: HookJail): { fds: [number | "inherit", number | "inherit"]; close(): void } {
  if (!j.consoleLog) return { fds: ["inherit", "inherit"], close: () => undefined };
  let fd: number;
  try {
    fd = openHostLog(j.consoleLog, j.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    const why = code === "EXDEV" ? "inside the jail's path (keep it on the host)" : code === "ELOOP" ? "a symbolic link" : code === "ENOTREG" ? "not a regular file" : code;
    throw new SysjailError(`jail: ${j.name}: exec.consolelog ${j.consoleLog}: ${why}`, { code: "EIO", phase: "runtime", exitCode: 1 });
  }
  return { fds: [fd, fd], close: () => closeSync(fd) };
}

function cleanHostEnv(user: UserInfo | undefined): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: user?.home || "/", SHELL: user?.shell || "/bin/sh", USER: user?.name ?? "root",
  };
  if (process.env.TERM) env.TERM = process.env.TERM;
  return env;
}

/** Watches a hook's process group (it is started detached): kills it, or else the child, after
 * LIMIT seconds (0: never) or when jail(8) is interrupted (`current`), until stop(). */
function watchHook(child: Pick<ChildProcess, "pid" | "kill">, limit: number): { timedOut: () => boolean; stop: () => void } {
  let timedOut = false;
  const kill = () => {
    try { process.kill(-child.pid!, "SIGKILL"); } catch { child.kill("SIGKILL"); }
  };
  const timer = limit > 0 ? setTimeout(() => { timedOut = true; kill(); }, limit * 1000) : undefined;
  current = kill;
  return {
    timedOut: () => timedOut,
    stop: () => {
      if (timer) clearTimeout(timer);
      current = undefined;
    },
  };
}

/** Runs a host-side hook with /bin/sh -c as the caller or exec.system_user; for another user's
 * jail as that user (j.runAs), never as the caller. */
export function runHostHook(line: string, j: HookJail): Promise<HookResult> {
  if (j.runAs) return runOwnerHook(line, j, j.runAs);
  let user: UserInfo | undefined;
  try {
    if (j.systemUser) {
      user = lookupUser(j.systemUser, "/");
      if (!user) return Promise.resolve({ status: 67, timedOut: false, error: `exec.system_user ${j.systemUser}: no such user` });
    } else if (j.clean) user = lookupUser(String(process.getuid?.() ?? 0), "/");
  } catch (err) {
    // a malformed host passwd entry (src/host/users.ts): one line, never used
    return Promise.resolve({ status: 67, timedOut: false, error: (err as Error).message.replace(/^sysjail: /, "") });
  }
  const base = j.clean ? cleanHostEnv(user) : { ...process.env } as Record<string, string>;
  if (j.systemUser && !j.clean && user) Object.assign(base, { HOME: user.home, USER: user.name, SHELL: user.shell || "/bin/sh" });
  const out = outputFds(j);
  const limit = j.execTimeout ?? 0;
  return new Promise<HookResult>((resolve) => {
    const child = spawn("/bin/sh", ["-c", line], {
      env: { ...base, ...jailVars(j) },
      stdio: ["inherit", out.fds[0], out.fds[1] === "inherit" ? "pipe" : out.fds[1]] as StdioOptions,
      // its own process group, so that all of it can be killed (exec.timeout, jail(8) interrupted)
      detached: true,
      cwd: j.clean && user?.home && existsSync(user.home) ? user.home : process.cwd(),
      ...(j.systemUser && user ? { uid: user.uid, gid: user.gid } : {}),
    });
    const watch = watchHook(child, limit);
    const err = teeStderr(child.stderr, true);
    const done = (r: HookResult) => {
      watch.stop();
      out.close();
      void err.drained(Promise.resolve()).then(() => resolve({ ...r, lastErr: err.last.get() }));
    };
    child.on("error", (e) => done({ status: 127, timedOut: false, error: e.message }));
    child.on("exit", (code, sig) => done({ status: code ?? 128 + (sig === "SIGKILL" ? 9 : 15), timedOut: watch.timedOut() }));
  });
}

/** A host hook of another user's jail: as its owner, with nothing of the caller's (owner.ts).
 * exec.system_user may only name the owner; exec.consolelog is opened by the owner's shell. */
function runOwnerHook(line: string, j: HookJail, who: RunAs): Promise<HookResult> {
  if (j.systemUser) {
    const u = lookupUser(j.systemUser, "/");
    if (!u || u.uid !== who.uid) {
      return Promise.resolve({ status: 77, timedOut: false, error: `exec.system_user ${j.systemUser}: the host commands of a jail of uid ${who.uid} run as that user only` });
    }
  }
  const env = ownerEnv(who, jailVars(j));
  let cmd = line;
  if (j.consoleLog) {
    env.SYSJAIL_CONSOLELOG = j.consoleLog;
    cmd = `exec >>"$SYSJAIL_CONSOLELOG" 2>&1 || exit 73; unset SYSJAIL_CONSOLELOG\n${line}`;
  }
  const limit = j.execTimeout ?? 0;
  return new Promise<HookResult>((resolve) => {
    let child: ReturnType<typeof spawnAsOwner>;
    try {
      child = spawnAsOwner(cmd, who, env);
    } catch (err) {
      resolve({ status: 126, timedOut: false, error: (err as Error).message });
      return;
    }
    const watch = watchHook(child, limit);
    const done = (r: HookResult) => {
      watch.stop();
      resolve(r);
    };
    const err = teeStderr(child.stderr, false); // spawnAsOwner relays it (escaped)
    child.on("error", (e) => done({ status: 127, timedOut: false, error: e.message }));
    child.on("close", (code, sig) => done({ status: code ?? 128 + (sig === "SIGKILL" ? 9 : 15), timedOut: watch.timedOut(), lastErr: err.last.get() }));
  });
}

/** Enter contexts by jail, computed once per jail and command run (the filter is the costly part). */
const contexts = new WeakMap<JailEntry, Promise<EnterContext>>();

/** Runs ARGV in the jail (exec.start, command, exec.stop) as jail root or exec.jail_user, with the
 * policy, namespaces and limits of the jail's own processes. STDIN is jail(8)'s own for command. */
export async function runJailCommand(argv: string[], j: HookJail, ref: Pick<JailRef, "entry" | "dirOwner" | "dir">, stdio: "pty" | "pipe" = "pipe"): Promise<HookResult> {
  const entry = ref.entry;
  const root = jailRoot(entry);
  let user: UserInfo | undefined;
  try {
    user = resolveEnterUser(entry, j.jailUser, j.systemJailUser ? "host" : "jail", root);
  } catch (err) {
    return { status: 67, timedOut: false, error: `exec.jail_user ${j.jailUser}: ${(err as Error).message.replace(/^sysjail: /, "")}` };
  }
  if (!user) return { status: 67, timedOut: false, error: `exec.jail_user ${j.jailUser}: no such user` };
  let ctxP = contexts.get(entry);
  if (!ctxP) {
    ctxP = enterContext(entry, ref.dirOwner, undefined, ref.dir);
    contexts.set(entry, ctxP);
  }
  let plan: Plan;
  try {
    const ctx = await ctxP;
    // as FreeBSD's setusercontext: a named user's USER, HOME and SHELL, also without exec.clean
    const named: Record<string, string> = j.jailUser ? { USER: user.name, HOME: user.home, SHELL: user.shell || "/bin/sh" } : {};
    // root running exec.stop for a user's jail: none of root's environment enters that jail
    const env = enterEnv(process.env, j.clean || j.runAs !== undefined, user, { ...named, ...jailVars(j) });
    const cwd = j.clean && user.home && user.home !== "/" && isJailDir(root, user.home) ? user.home : "/";
    // what an exec.start daemon writes later goes on into the console log (or nowhere), and never
    // kills it with SIGPIPE; never to jail(8)'s own output once jail(8) is done
    plan = planEnter(entry, { argv, user, env, cwd, stdio, jailProcess: true, after: j.consoleLog ? "keep" : "drop" }, ctx);
  } catch (err) {
    // the jail cannot be entered (a rootless caller and a jail with no process but its init)
    return { status: (err as SysjailError).exitCode ?? 70, timedOut: false, error: (err as Error).message.replace(/^sysjail: /, "") };
  }
  const out = outputFds(j);
  let helper: HelperRun | undefined;
  let timedOut = false;
  const limit = j.execTimeout ?? 0;
  // the helper ends the command with SIGKILL when it gets SIGTERM
  const timer = limit > 0 ? setTimeout(() => { timedOut = true; helper?.child?.kill("SIGTERM"); }, limit * 1000) : undefined;
  const onInt = () => undefined; // ^C reaches the command itself
  process.on("SIGINT", onInt);
  current = () => helper?.child?.kill("SIGTERM");
  let err: ReturnType<typeof teeStderr> | undefined;
  try {
    const stdio = ["inherit", out.fds[0], out.fds[1] === "inherit" ? "pipe" : out.fds[1]] as StdioOptions;
    const ev = await runEnter(plan, stdio, entry.path, (h) => {
      helper = h;
      if (out.fds[1] === "inherit") err = teeStderr(h.child?.stderr, true);
    });
    if (err) await err.drained(Promise.resolve());
    return { status: enterStatus(ev), timedOut, lastErr: err?.last.get() };
  } catch (err) {
    return { status: (err as SysjailError).exitCode ?? 126, timedOut, error: (err as Error).message.replace(/^sysjail: /, "") };
  } finally {
    if (timer) clearTimeout(timer);
    current = undefined;
    process.off("SIGINT", onInt);
    out.close();
  }
}

/** One run of a hook line, where it belongs: the host, or the jail. */
export function runHookLine(line: string, where: "host" | "jail", j: HookJail, ref?: Pick<JailRef, "entry" | "dirOwner" | "dir">): Promise<HookResult> {
  if (where === "host") return runHostHook(line, j);
  if (!ref) return Promise.resolve({ status: 70, timedOut: false, error: "the jail does not exist yet" });
  return runJailCommand(commandArgv(line), j, ref);
}

/** The message of a failed command, as FreeBSD's jail(8) words it. */
export function failureText(line: string, r: HookResult): string {
  if (r.error) return r.error;
  if (r.timedOut) return `${line}: timed out`;
  // the command, its exit status and the last line of its stderr (text from a jail: the reporter
  // escapes the whole message, src/jailconf/report.ts)
  const why = r.lastErr !== undefined ? `: ${r.lastErr}` : "";
  if (r.status > 128) return `${line}: failed: exited on signal ${r.status - 128}${why}`;
  return `${line}: failed: exit status ${r.status}${why}`;
}

/** A runner for src/manage's stop sequence (jail -r, -rc): the same semantics as at creation, with
 * -v's "run command" notes and FreeBSD's failure messages. */
export function stopHookRunner(note: (name: string, text: string) => void, warn: (name: string, text: string) => void): HookRunner {
  return async (call: HookCall) => {
    const j = { ...hookJailOf(call.ref.entry), runAs: runAsOwner(call.ref.dirOwner) };
    note(j.name, `run command${call.where === "jail" ? " in jail" : ""}: ${call.command}`);
    const r = await runHookLine(call.command, call.where, j, call.ref);
    if (r.status !== 0 || r.timedOut) {
      warn(j.name, failureText(call.command, r));
      return r.status === 0 ? 124 : r.status;
    }
    return 0;
  };
}
