// sjtest's host side: where the tools are, a private temp directory and registry, child
// processes with a deadline, jail roots made for a test, and the cleanup that runs whatever
// happens (also on SIGINT).
import { spawn, type StdioOptions } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dropPersistentLease } from "../ids/leases.js";

/** What a child process did. */
export interface Result {
  status: number | null;
  signal: string | null;
  out: string;
  err: string;
  timedOut: boolean;
}

/** Options of one child process. */
export interface ExecOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdio?: StdioOptions;
  /** Hang detector only (no test asserts speed): the child is killed after this long. */
  deadlineMs?: number;
  input?: string;
}

const UID_NOBODY = 65534;

/** The package's root directory (this file is build/src/sjtest/context.js). */
export const PKG = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** One sjtest run: paths, identity, temp space, and cleanup. */
export class Ctx {
  readonly root = process.getuid?.() === 0;
  readonly uid = process.getuid?.() ?? -1;
  readonly tools = join(PKG, "native", "build");
  readonly probe = join(PKG, "native", "build", "sjprobe");
  readonly self = join(PKG, "bin", "sjtest.js");
  readonly node = process.execPath;
  /** Private temp directory (0711: jail ids pass through it, list nothing). */
  readonly dir: string;
  /** Private registry of this run's jails (SYSJAIL_STATE_DIR). */
  readonly state: string;
  /** A world-writable (1777) directory path=/ jails may write into. */
  readonly shared: string;
  /** Unique prefix of this run's jail names. */
  readonly prefix = `sjt${process.pid}`;
  private cleanups: (() => Promise<unknown> | unknown)[] = [];
  /** Every jail name handed out: root's named jails keep a host id range per name, given back at close. */
  private names: string[] = [];
  /** Every directory made (a jail root among them): root's unnamed jails keep a range per tree. */
  private trees: string[] = [];
  private children = new Set<ReturnType<typeof spawn>>();
  private seq = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "sjtest-"));
    chmodSync(this.dir, 0o711);
    this.state = join(this.dir, "state");
    mkdirSync(this.state, { mode: 0o700 });
    this.shared = join(this.dir, "shared");
    mkdirSync(this.shared);
    chmodSync(this.shared, 0o1777);
  }

  /** A unique jail name (also a valid hostname) for TAG. */
  name(tag: string): string {
    const n = `${this.prefix}-${tag}-${++this.seq}`.slice(0, 60);
    this.names.push(n);
    return n;
  }

  /** A fresh directory below the temp directory (mode 0755). */
  mkdir(tag: string): string {
    const d = join(this.dir, `${tag}-${++this.seq}`);
    this.trees.push(d);
    mkdirSync(d, { mode: 0o755 });
    chmodSync(d, 0o755);
    return d;
  }

  /** A minimal jail root: /sjprobe, proc, dev, sys, tmp (1777), etc/marker; owned by the
   * caller (root: a root-owned tree), or by OWNER when given. */
  tree(tag: string, owner?: number): string {
    const d = this.mkdir(tag);
    for (const sub of ["proc", "dev", "sys", "etc", "tmp"]) mkdirSync(join(d, sub), { mode: 0o755 });
    chmodSync(join(d, "tmp"), 0o1777);
    copyFileSync(this.probe, join(d, "sjprobe"));
    chmodSync(join(d, "sjprobe"), 0o755);
    writeFileSync(join(d, "etc", "marker"), "sjtest-marker\n", { mode: 0o644 });
    if (owner !== undefined) for (const p of ["", "proc", "dev", "sys", "etc", "tmp", "sjprobe", "etc/marker"]) chownSync(join(d, p), owner, owner);
    return d;
  }

  /** Registers FN to run at the end, also after a failure or SIGINT (last registered first). */
  defer(fn: () => Promise<unknown> | unknown): void {
    this.cleanups.push(fn);
  }

  /** Runs FILE ARGS with a deadline; never throws. */
  exec(file: string, args: string[], o: ExecOptions = {}): Promise<Result> {
    return new Promise((resolve) => {
      const env: Record<string, string | undefined> = { ...process.env, SYSJAIL_STATE_DIR: this.state, ...o.env };
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
      let child: ReturnType<typeof spawn>;
      try {
        // its own process group: a hang is ended with every process it started (the native
        // front's Node child included, which would otherwise keep our pipes open)
        child = spawn(file, args, { env: env as NodeJS.ProcessEnv, cwd: o.cwd ?? this.dir, stdio: o.stdio ?? ["pipe", "pipe", "pipe"], detached: true });
      } catch (e) {
        resolve({ status: null, signal: null, out: "", err: String((e as Error).message), timedOut: false });
        return;
      }
      this.children.add(child);
      let out = "";
      let err = "";
      let timedOut = false;
      child.stdout?.setEncoding("utf8").on("data", (d: string) => { if (out.length < 1 << 20) out += d; });
      child.stderr?.setEncoding("utf8").on("data", (d: string) => { if (err.length < 1 << 20) err += d; });
      if (child.stdin) { child.stdin.on("error", () => {}); child.stdin.end(o.input ?? ""); }
      const timer = setTimeout(() => { timedOut = true; killGroup(child); }, o.deadlineMs ?? 30_000);
      child.on("error", (e) => { err += e.message; });
      let done = false;
      const finish = (status: number | null, signal: string | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.children.delete(child);
        resolve({ status, signal, out, err, timedOut });
      };
      child.on("close", finish);
      // a descendant that outlives the child (a -b jail's monitor, a stray process) may hold its
      // output open: after the exit, wait a little for the output, not for that descendant
      child.on("exit", (status, signal) => {
        setTimeout(() => { child.stdout?.destroy(); child.stderr?.destroy(); finish(status, signal); }, 2000).unref();
      });
    });
  }

  /** Runs one of the package's commands (sysjail, jail, jls, sjls, jexec) on this run's registry. */
  tool(name: string, args: string[], o: ExecOptions = {}): Promise<Result> {
    return this.exec(join(this.tools, name), args, o);
  }

  /** The command prefix that runs what follows as uid 65534 (root only), with STATE as its registry. */
  nobody(state: string): string[] {
    return ["setpriv", `--reuid=${UID_NOBODY}`, `--regid=${UID_NOBODY}`, "--clear-groups", "env", `SYSJAIL_STATE_DIR=${state}`, "HOME=/"];
  }

  /** A directory owned by 65534 (mode 0700) for its registry or files. */
  nobodyDir(tag: string): string {
    const d = this.mkdir(tag);
    chownSync(d, UID_NOBODY, UID_NOBODY);
    chmodSync(d, 0o700);
    return d;
  }

  /** Runs every cleanup, kills the children still running (ours only), removes the temp dir. */
  async close(): Promise<void> {
    for (const c of this.children) killGroup(c);
    for (const fn of this.cleanups.reverse()) {
      try { await fn(); } catch { /* the next one still runs */ }
    }
    this.cleanups = [];
    // a named jail of root keeps its host id range leased per name (docs/JAILS.md, Host ids): these
    // names were this run's alone (pid and sequence), so their ranges go back to the pool
    if (process.getuid?.() === 0) {
      for (const n of this.names) { try { dropPersistentLease("name", n); } catch { /* best effort */ } }
      for (const t of this.trees) { try { dropPersistentLease("tree", t); } catch { /* best effort */ } }
    }
    this.names = [];
    this.trees = [];
    // never delete through a mount point: a broken jail must not turn cleanup into harm
    const mounts = readFileSync("/proc/self/mountinfo", "latin1").split("\n").map((l) => l.split(" ")[4] ?? "");
    const inside = mounts.filter((m) => m === this.dir || m.startsWith(`${this.dir}/`));
    if (inside.length) {
      process.stderr.write(`sjtest: left ${this.dir} in place: something is mounted below it (${inside.join(", ")})\n`);
      return;
    }
    try { rmSync(this.dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
}

/** SIGKILL to the process group of CHILD, a child we started in a group of its own. */
function killGroup(child: ReturnType<typeof spawn>): void {
  try {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

/** The lines of a result's standard output. */
export function lines(r: Result): string[] {
  return r.out.split("\n").filter((l) => l.length > 0);
}

/** One line describing a result, for a failure's reason. */
export function show(r: Result): string {
  const how = r.timedOut ? "timed out" : r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
  const text = `${r.out.trim()} ${r.err.trim()}`.trim().replace(/\s*\n\s*/g, " | ");
  return `${how}: ${text.slice(0, 300)}`;
}
