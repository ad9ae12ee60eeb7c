// Jail: a persistent jail for Node programs: create, spawn/exec inside, update, remove, events.
import { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";
import { SysjailError, Exit } from "../errors.js";
import type { HelperRun } from "../helper/launch.js";
import { prepare } from "../jail/prepare.js";
import { JailRun } from "../jail/run.js";
import { buildReport, type RunReport } from "../limits/report.js";
import { enterContext, enterStatus, planEnter, resolveEnterUser, runEnter } from "../manage/enter.js";
import { findJail, listJails, type JailRef, type StateDirRef } from "../manage/locate.js";
import { modifyJail } from "../manage/modify.js";
import { removeJail } from "../manage/remove.js";
import { stateDir } from "../registry/paths.js";
import type { JailEntry } from "../registry/types.js";
import { specFromOptions, type JailOptions } from "./options.js";
import { fireListeners } from "./run.js";

/** Options of spawn() and exec(). */
export interface SpawnOptions {
  /** Exactly the command's environment (default: PATH only). */
  env?: Record<string, string>;
  cwd?: string;
  /** A user of the jail's passwd (default: jail root). */
  user?: string;
}

/** A process started in a jail: stdio streams and a promise of its exit. */
export interface JailProcess {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Resolves when the command ends: its exit code (128+signal when killed) and signal. */
  exit: Promise<{ code: number; signal: number | null }>;
  /** Ends the command (the helper kills it). */
  kill(): void;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A persistent jail: it exists, with its init only, until remove(); emits exit, oom, limit, halt. */
export class Jail extends EventEmitter {
  private constructor(private ref: JailRef, private readonly dirs: StateDirRef[]) {
    super();
  }

  /** Creates a persistent jail (it outlives this process until removed, like `jail -c persist`). */
  static async create(options: JailOptions): Promise<Jail> {
    const spec = specFromOptions(options, "create");
    const prep = await prepare(spec, { stateDir: options.stateDir, detach: true, accounting: Object.keys(spec.limits).length > 0 });
    const jr = new JailRun(spec, prep, { stdio: "ignore", detach: true });
    const ok = await jr.ready();
    if (!ok || !jr.entry) throw jr.error ?? new SysjailError("sysjail: the jail did not start", { code: "EIO", phase: "setup", exitCode: Exit.osErr });
    jr.helper.send("A");
    const dirs: StateDirRef[] = [{ dir: stateDir(options.stateDir), own: true }];
    const jail = new Jail({ entry: jr.entry, dir: dirs[0]!.dir, dirOwner: prep.facts.uid, own: true }, dirs);
    jail.watch(jr);
    return jail;
  }

  /** A handle on a running jail of the registry, by jid or name. */
  static async get(id: number | string, options: { stateDir?: string } = {}): Promise<Jail> {
    const dirs: StateDirRef[] = [{ dir: stateDir(options.stateDir), own: true }];
    return new Jail(findJail("sysjail", String(id), listJails(dirs)), dirs);
  }

  /** Follows the monitor without keeping this process alive, to emit the jail's events. */
  private watch(jr: JailRun): void {
    const h: HelperRun = jr.helper;
    h.child.unref();
    const ctl = h.child.stdio[3] as unknown as { unref?: () => void } | null;
    ctl?.unref?.();
    void jr.wait().then((ev) => {
      if (!ev) return;
      const report: RunReport = buildReport(ev, { limits: jr.spec.limits, command: false });
      fireListeners({
        exit: (r) => this.emit("exit", r),
        oom: (r) => this.emit("oom", r),
        limit: (r) => this.emit("limit", r),
        halt: (r) => this.emit("halt", r),
      }, report);
    });
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

  /** Starts CMD with ARGS in the jail, with the jail's own policy, capabilities and limits. */
  spawn(cmd: string, args: string[] = [], opts: SpawnOptions = {}): JailProcess {
    let helper: HelperRun | undefined;
    let killed = false;
    const ready = new Promise<HelperRun>((resolve, reject) => {
      void (async () => {
        const ref = this.current();
        const user = resolveEnterUser(ref.entry, opts.user, "jail");
        if (!user) throw new SysjailError(`sysjail: unknown user '${opts.user}' in the jail's user database`, { code: "ENOUSER", phase: "usage", exitCode: Exit.noUser });
        const ctx = await enterContext(ref.entry, ref.dirOwner);
        const plan = planEnter(ref.entry, { argv: [cmd, ...args], user, env: opts.env ?? { PATH: DEFAULT_PATH }, cwd: opts.cwd ?? "/" }, ctx);
        const exit = runEnter(plan, ["pipe", "pipe", "pipe"], ref.entry.path, (h) => {
          helper = h;
          if (killed) h.send("T");
          resolve(h);
        });
        return exit;
      })().then((ev) => done(ev), reject);
    });
    let done: (ev: Awaited<ReturnType<typeof runEnter>>) => void = () => undefined;
    const exit = new Promise<{ code: number; signal: number | null }>((resolve, reject) => {
      done = (ev) => resolve({ code: enterStatus(ev), signal: ev.cmdSignal > 0 ? ev.cmdSignal : null });
      ready.catch(reject);
    });
    // the streams exist once the helper is spawned, which happens in the same tick as planning ends
    const proc: JailProcess = {
      stdin: null,
      stdout: null,
      stderr: null,
      exit,
      kill: () => {
        killed = true;
        helper?.child.kill("SIGTERM");
      },
    };
    void ready.then((h) => {
      proc.stdin = h.child.stdin;
      proc.stdout = h.child.stdout;
      proc.stderr = h.child.stderr;
    }, () => undefined);
    (proc as JailProcess & { started: Promise<HelperRun> }).started = ready;
    return proc;
  }

  /** Runs ARGV in the jail to completion; resolves with its output and status. */
  async exec(argv: string[], opts: SpawnOptions & { stdin?: string | Uint8Array } = {}): Promise<{ code: number; signal: number | null; stdout: string; stderr: string }> {
    const p = this.spawn(argv[0] ?? "", argv.slice(1), opts) as JailProcess & { started: Promise<HelperRun> };
    const h = await p.started;
    const collect = (s: Readable | null) => new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      if (!s) return resolve("");
      s.on("data", (d: Buffer) => chunks.push(d));
      s.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
      s.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
    const out = collect(h.child.stdout);
    const err = collect(h.child.stderr);
    h.child.stdin?.on("error", () => undefined);
    h.child.stdin?.end(opts.stdin);
    const [res, stdout, stderr] = await Promise.all([p.exit, out, err]);
    return { ...res, stdout, stderr };
  }

  /** Changes the running jail: its hostname now (visible inside at once). */
  async update(changes: { hostname?: string; limits?: Record<string, string | number> }): Promise<void> {
    for (const k of Object.keys(changes)) {
      if (k !== "hostname" && k !== "limits") throw new SysjailError(`sysjail: unknown update '${k}' (allowed: hostname, limits)`, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
    }
    if (changes.limits !== undefined) {
      const { updateLimits } = await import("./limits.js");
      await updateLimits(this.current(), changes.limits);
    }
    if (changes.hostname !== undefined) {
      this.ref = await modifyJail(this.current(), [{ name: "host.hostname", raw: changes.hostname } as Parameters<typeof modifyJail>[1][number]]);
    }
  }

  /** Ends the jail: every process in it is killed; its cgroups and registry entry go. */
  async remove(): Promise<void> {
    let ref: JailRef;
    try {
      ref = this.current();
    } catch {
      return; // already gone
    }
    await removeJail(ref, { warn: () => undefined });
  }
}
