// Jail: a persistent jail for Node programs: create, spawn/exec inside, update, remove, events.
import { EventEmitter } from "node:events";
import { existsSync, readFileSync, watch } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { SysjailError, Exit } from "../errors.js";
import type { HelperRun } from "../helper/launch.js";
import { prepare } from "../jail/prepare.js";
import { JailRun } from "../jail/run.js";
import { statKey } from "../cgroup/stats.js";
import { buildReport, type RunReport } from "../limits/report.js";
import { enterContext, enterStatus, planEnter, resolveEnterUser, runEnter } from "../manage/enter.js";
import { findJail, listJails, type JailRef, type StateDirRef } from "../manage/locate.js";
import { modifyJail } from "../manage/modify.js";
import { denialsFor } from "../jail/denials.js";
import type { Denial } from "../seccomp/listener.js";
import { removeJail } from "../manage/remove.js";
import { stateDir } from "../registry/paths.js";
import type { JailEntry } from "../registry/types.js";
import type { CgroupContext } from "../limits/plan.js";
import { checkJailId, checkSpawn, checkStateDirOption, specFromOptions, type JailOptions, type LimitsInput } from "./options.js";

// The stdio streams are typed by Node's global stream interfaces, declared (empty) here too so
// that the package's types compile with nothing but the package installed: with @types/node these
// declarations merge into Node's and add nothing; without it they are opaque (docs/LIBRARY.md).
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace NodeJS {
    interface ReadableStream {}
    interface WritableStream {}
  }
}

/** The events a Jail emits. */
export type JailEventName = "exit" | "halt" | "oom" | "limit";
/** Accepted by on/once/off: the events, and "error" (never emitted), which events.once() of Node
 * listens to on any emitter it is given. */
const EVENT_NAMES: ReadonlySet<string> = new Set(["exit", "halt", "oom", "limit", "error"]);

/** Options of spawn() and exec(). */
export interface SpawnOptions {
  /** Exactly the command's environment (default: PATH only). */
  env?: Record<string, string> | undefined;
  /** Absolute working directory in the jail (default: /). */
  cwd?: string | undefined;
  /** A user of the jail's passwd (default: jail root). */
  user?: string | undefined;
}

/** A process started in a jail: stdio streams and a promise of its exit. */
export interface JailProcess {
  /** The command's standard input (end() it to send EOF). */
  stdin: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  /** Resolves when the command ends: its exit code (128+signal when killed) and signal; rejects
   * with SysjailError when it could not be started (no such command, the jail is gone, ...).
   * In a pledged jail, `denials` lists the calls its policy refused the command (as run()'s report).
   * An output stream that is being read has delivered all its data by then. */
  exit: Promise<{ code: number; signal: number | null; denials?: Denial[] }>;
  /** Ends the command: the helper that entered the jail SIGKILLs it (exit: code 137, signal 9). */
  kill(): void;
}

/** What a Jail's "oom" and "limit" events carry while the jail lives (its "exit" carries a RunReport). */
export interface JailLimitEvent {
  jid: number;
  /** The limit that was reached: memory (an OOM kill in the jail) or pids (a fork refused). */
  limit: "memory" | "pids";
  /** The cgroup's counter: OOM kills, or forks refused, since the jail started. */
  count: number;
  /** The spawn()/exec() command whose end revealed it, if any. */
  command?: string[];
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const SIGKILL = 9;

function readCounter(dir: string | undefined, files: string[], key: string): number | undefined {
  if (!dir) return undefined;
  for (const f of files) {
    try {
      const v = statKey(readFileSync(join(dir, f), "utf8"), key);
      if (v !== undefined) return v;
    } catch {
      /* not this cgroup version */
    }
  }
  return undefined;
}

/** A persistent jail: it exists, with its init only, until remove(); emits exit, oom, limit, halt. */
export class Jail {
  /** Its listeners (an EventEmitter kept inside, so that the public type needs no Node types). */
  private readonly events = new EventEmitter();
  /** Settles when the creating handle has emitted "exit". */
  private ended: Promise<void> | undefined;
  private holdOpen: (() => void) | undefined;
  /** Counters already announced through "oom" and "limit". */
  private seen = { oom: 0, pids: 0 };
  /** Commands spawn() started that are still running (an event names the command when one runs). */
  private readonly running = new Set<string[]>();

  private constructor(private ref: JailRef, private readonly dirs: StateDirRef[]) {}

  /** Adds a listener: "exit" and "halt" get the RunReport, "oom" and "limit" a JailLimitEvent. */
  on(event: "exit" | "halt", listener: (report: RunReport) => void): this;
  on(event: "oom" | "limit", listener: (ev: JailLimitEvent) => void): this;
  on(event: JailEventName, listener: (arg: RunReport | JailLimitEvent) => void): this;
  on(event: JailEventName, listener: (arg: never) => void): this {
    const name = checkEvent(event, listener, "on");
    this.events.on(name, listener as (...a: unknown[]) => void);
    return this;
  }

  /** Adds a listener called at most once. */
  once(event: "exit" | "halt", listener: (report: RunReport) => void): this;
  once(event: "oom" | "limit", listener: (ev: JailLimitEvent) => void): this;
  once(event: JailEventName, listener: (arg: RunReport | JailLimitEvent) => void): this;
  once(event: JailEventName, listener: (arg: never) => void): this {
    const name = checkEvent(event, listener, "once");
    this.events.once(name, listener as (...a: unknown[]) => void);
    return this;
  }

  /** Removes a listener added with on() or once(). */
  off(event: "exit" | "halt", listener: (report: RunReport) => void): this;
  off(event: "oom" | "limit", listener: (ev: JailLimitEvent) => void): this;
  off(event: JailEventName, listener: (arg: RunReport | JailLimitEvent) => void): this;
  off(event: JailEventName, listener: (arg: never) => void): this {
    const name = checkEvent(event, listener, "off");
    this.events.off(name, listener as (...a: unknown[]) => void);
    return this;
  }

  /** on() under EventEmitter's other name. */
  addListener(event: JailEventName, listener: (arg: RunReport | JailLimitEvent) => void): this {
    return this.on(event, listener);
  }

  /** off() under EventEmitter's other name. */
  removeListener(event: JailEventName, listener: (arg: RunReport | JailLimitEvent) => void): this {
    return this.off(event, listener);
  }

  /** How many listeners an event has. */
  listenerCount(event: JailEventName): number {
    return this.events.listenerCount(event);
  }

  private emit(event: JailEventName, arg: RunReport | JailLimitEvent): void {
    this.events.emit(event, arg);
  }

  /** Creates a persistent jail (it outlives this process until removed, like `jail -c persist`).
   * It always gets accounting cgroups where the caller may make them, so that its limits can be
   * changed later with update() and its processes are counted together. */
  static async create(options: JailOptions): Promise<Jail> {
    const spec = specFromOptions(options, "create");
    const prep = await prepare(spec, { stateDir: options.stateDir, detach: true, accounting: true });
    const jr = new JailRun(spec, prep, { stdio: "ignore", detach: true });
    const ok = await jr.ready();
    if (!ok || !jr.entry) throw jr.error ?? new SysjailError("sysjail: the jail did not start", { code: "EIO", phase: "setup", exitCode: Exit.osErr });
    jr.helper.send("A");
    const dirs: StateDirRef[] = [{ dir: stateDir(options.stateDir), own: true }];
    const jail = new Jail({ entry: jr.entry, dir: dirs[0]!.dir, dirOwner: prep.facts.uid, own: true }, dirs);
    jail.watch(jr, prep.cgroups);
    return jail;
  }

  /** A handle on a running jail of the registry, by jid or name. It emits no events (only the
   * handle that created the jail follows its monitor). */
  static async get(id: number | string, options: { stateDir?: string | undefined } = {}): Promise<Jail> {
    const key = checkJailId(id);
    const dirs: StateDirRef[] = [{ dir: stateDir(checkStateDirOption(options)), own: true }];
    return new Jail(findJail("sysjail", key, listJails(dirs)), dirs);
  }

  /** Follows the monitor without keeping this process alive, to emit the jail's events. */
  private watch(jr: JailRun, cg: CgroupContext | undefined): void {
    const h: HelperRun = jr.helper;
    const child = h.child!; // spawned: the library never has a native front
    child.unref();
    const ctl = child.stdio[3] as unknown as { unref?: () => void; ref?: () => void } | null;
    ctl?.unref?.();
    this.holdOpen = () => ctl?.ref?.();
    const stopLive = this.watchCounters();
    this.ended = jr.wait().then((ev) => {
      stopLive();
      if (!ev) return;
      // a persistent jail ends when its init is killed (jail -r, remove()): that is a removal,
      // not an internal error
      const event = !ev.reason && !ev.cmd && ev.initSignal === SIGKILL ? { ...ev, reason: "killed" as const } : ev;
      const report: RunReport = buildReport(event, {
        limits: this.ref.entry.spec.limits, // as update() left them
        ...(cg ? { stats: cg.stats, unenforced: cg.unenforced, rlimited: cg.rlimited } : {}),
        command: false,
      });
      if (report.oomKills !== null && report.oomKills > this.seen.oom) this.announce("memory", report.oomKills);
      if (report.status === "halted") this.emit("halt", report);
      this.emit("exit", report);
    });
  }

  /** Announces an OOM kill or a refused fork while the jail lives, when it happens (not when a
   * command ends): the kernel notifies a change of pids.events (v1 and v2) and memory.events (v2),
   * which fs.watch sees; v1's memory.oom_control notifies nobody, so the counters are also read
   * every 100 ms. Neither the watchers nor the timer keep this process alive. Returns the stop. */
  private watchCounters(): () => void {
    const cg = this.ref.entry.cgroups ?? {};
    if (!cg.memory && !cg.pids) return () => undefined;
    const check = () => {
      try {
        this.checkCounters(this.running.size === 1 ? [...this.running][0] : undefined);
      } catch {
        /* the jail is going away */
      }
    };
    const watchers: { close(): void }[] = [];
    for (const f of [cg.pids && `${cg.pids}/pids.events`, cg.memory && `${cg.memory}/memory.events`].filter((x): x is string => !!x && existsSync(x))) {
      try {
        const w = watch(f, { persistent: false }, check);
        w.on("error", () => undefined);
        watchers.push(w);
      } catch {
        /* the poll below covers it */
      }
    }
    const timer = setInterval(check, 100);
    timer.unref();
    return () => {
      clearInterval(timer);
      for (const w of watchers) w.close();
    };
  }

  /** Emits "oom"/"limit" for a counter that grew. */
  private announce(limit: "memory" | "pids", count: number, command?: string[]): void {
    const ev: JailLimitEvent = { jid: this.jid, limit, count, ...(command ? { command } : {}) };
    if (limit === "memory") {
      this.seen.oom = count;
      this.emit("oom", ev);
    } else {
      this.seen.pids = count;
    }
    this.emit("limit", ev);
  }

  /** Reads the jail's OOM-kill and refused-fork counters and announces what grew. */
  private checkCounters(command?: string[]): void {
    const cg = this.ref.entry.cgroups ?? {};
    const oom = readCounter(cg.memory, ["memory.oom_control", "memory.events"], "oom_kill");
    const pids = readCounter(cg.pids, ["pids.events"], "max");
    if (oom !== undefined && oom > this.seen.oom) this.announce("memory", oom, command);
    if (pids !== undefined && pids > this.seen.pids) this.announce("pids", pids, command);
  }

  get jid(): number { return this.ref.entry.jid; }
  get name(): string { return this.ref.entry.name; }
  get hostname(): string { return this.ref.entry.hostname; }
  get path(): string { return this.ref.entry.path; }
  /** The registry entry as jls sees it. */
  get entry(): JailEntry { return this.ref.entry; }

  private current(): JailRef {
    this.ref = findJail("sysjail", String(this.ref.entry.jid), listJails(this.dirs));
    return this.ref;
  }

  /** Starts CMD with ARGS in the jail, with the jail's own policy, capabilities, cgroups and limits.
   * The streams exist at once (data flows once the command runs); `exit` settles at its end. */
  spawn(cmd: string, args: string[] = [], opts: SpawnOptions = {}): JailProcess {
    checkSpawn("spawn", cmd, args, opts);
    let helper: HelperRun | undefined;
    let killed = false;
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const argv = [cmd, ...args];
    this.running.add(argv);
    const exit = (async () => {
      const ref = this.current();
      const user = resolveEnterUser(ref.entry, opts.user, "jail");
      if (!user) throw new SysjailError(`sysjail: unknown user '${opts.user}' in the jail's user database`, { code: "ENOUSER", phase: "usage", exitCode: Exit.noUser });
      const ctx = await enterContext(ref.entry, ref.dirOwner, undefined, ref.dir);
      const plan = planEnter(ref.entry, { argv, user, env: opts.env ?? { PATH: DEFAULT_PATH }, cwd: opts.cwd ?? "/", stdio: "pipe", jailProcess: true }, ctx);
      const killedResult = { code: 128 + SIGKILL, signal: SIGKILL };
      if (killed) {
        // kill() before the helper started: the command never runs
        stdout.end();
        stderr.end();
        stdin.resume();
        return killedResult;
      }
      const ev = await runEnter(plan, ["pipe", "pipe", "pipe"], ref.entry.path, (h) => {
        helper = h;
        const child = h.child!; // spawned: the library never has a native front
        child.stdin?.on("error", () => undefined);
        if (child.stdin) stdin.pipe(child.stdin);
        else stdin.resume();
        if (child.stdout) child.stdout.pipe(stdout);
        else stdout.end();
        if (child.stderr) child.stderr.pipe(stderr);
        else stderr.end();
      }).catch((err: unknown) => {
        // a helper killed before it took charge of the command gives no report: the command was
        // ended (or never started), which is what kill() asked for
        if (killed && err instanceof SysjailError && err.code === "EPIPE") return undefined;
        throw err;
      });
      this.checkCounters(argv);
      // the report comes on another descriptor than the output: a reader that is reading gets all
      // of the command's output before exit resolves (as child_process's 'close'); an unread
      // stream is not waited for (its data may sit in a full buffer)
      await Promise.all([stdout, stderr].map((s) => (s.readableFlowing && !s.readableEnded ? new Promise<void>((r) => { s.once("end", r); s.once("close", r); s.once("error", () => r()); }) : undefined)));
      if (!ev) return killedResult;
      const result = { code: enterStatus(ev), signal: ev.cmdSignal > 0 ? ev.cmdSignal : null };
      return ctx.notify ? { ...result, denials: await denialsFor(ref.entry.spec, ev.calls) } : result;
    })();
    const done = () => { this.running.delete(argv); };
    exit.then(done, done);
    exit.catch(() => {
      // never started (or the helper failed): end the streams so that readers are not left hanging
      if (!helper) {
        stdout.end();
        stderr.end();
        stdin.resume();
      }
    });
    return {
      stdin,
      stdout,
      stderr,
      exit,
      kill: () => {
        killed = true;
        helper?.child?.kill("SIGTERM");
      },
    };
  }

  /** Runs ARGV in the jail to completion; resolves with its output and status (code 128+signal
   * when it was killed, e.g. 137 after an OOM kill). */
  async exec(argv: string[], opts: SpawnOptions & { stdin?: string | Uint8Array } = {}): Promise<{ code: number; signal: number | null; stdout: string; stderr: string }> {
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string")) {
      throw new SysjailError("exec() needs an argv array of strings", { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
    }
    checkSpawn("exec", argv[0], argv.slice(1), opts);
    const { stdin: input, ...spawnOpts } = opts;
    const p = this.spawn(argv[0]!, argv.slice(1), spawnOpts);
    const collect = (s: NodeJS.ReadableStream) => new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      s.on("data", (d: Buffer) => chunks.push(d));
      s.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      s.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
    const out = collect(p.stdout);
    const err = collect(p.stderr);
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
    const res = await p.exit;
    const [stdout, stderr] = await Promise.all([out, err]);
    return { ...res, stdout, stderr };
  }

  /** Changes the running jail: its hostname (visible inside at once) and its cgroup limits
   * (memory, swap, pids, cores, cpuShares). */
  async update(changes: { hostname?: string | undefined; limits?: LimitsInput | undefined }): Promise<void> {
    if (typeof changes !== "object" || changes === null) throw new SysjailError("sysjail: update() needs an object", { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
    for (const k of Object.keys(changes)) {
      if (k !== "hostname" && k !== "limits") throw new SysjailError(`sysjail: unknown update '${k}' (allowed: hostname, limits)`, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
    }
    if (changes.limits !== undefined) {
      const { updateLimits } = await import("./limits.js");
      await updateLimits(this.current(), changes.limits);
      this.current();
    }
    if (changes.hostname !== undefined) {
      this.ref = await modifyJail(this.current(), [{ name: "host.hostname", raw: changes.hostname } as Parameters<typeof modifyJail>[1][number]]);
    }
  }

  /** Ends the jail: every process in it is killed; its cgroups and registry entry go. The
   * creating handle then emits "exit". */
  async remove(): Promise<void> {
    let ref: JailRef;
    try {
      ref = this.current();
    } catch {
      return; // already gone
    }
    // keep the monitor's channel referenced until its last report arrives, so "exit" fires
    // before remove() resolves even when nothing else keeps this process alive
    this.holdOpen?.();
    await removeJail(ref, { warn: () => undefined });
    if (this.ended) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.ended, new Promise((r) => { timer = setTimeout(r, 5000); })]);
      clearTimeout(timer);
    }
  }
}

/** The event name, checked: one of JailEventName, with a function as its listener. */
function checkEvent(event: unknown, listener: unknown, method: string): JailEventName {
  if (typeof event !== "string" || !EVENT_NAMES.has(event)) {
    throw new SysjailError(`jail.${method}(): unknown event ${JSON.stringify(String(event)).slice(0, 40)} (allowed: exit, halt, oom, limit)`, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
  }
  if (typeof listener !== "function") {
    throw new SysjailError(`jail.${method}(): the listener of "${event}" must be a function`, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
  }
  return event as JailEventName;
}
