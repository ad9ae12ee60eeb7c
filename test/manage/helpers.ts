// Helpers of the management tests: the built tools, a private state directory per test, a jail
// root holding a static test program, and jails that are always removed again.
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The project root (tests run from build/test/manage). */
export const ROOT = join(here, "..", "..", "..");
const FIXTURE = join(ROOT, "test", "manage", "fixtures", "mprobe.c");

/** The tools under test. */
export type Tool = "sysjail" | "jail" | "jls" | "sjls" | "jexec";

/** Throws unless `npm run build` has made the bundled tools and the helper. */
export function requireBuilt(): void {
  for (const t of ["jls", "sjls", "jexec", "jail", "sysjail"]) {
    if (!existsSync(join(ROOT, "build", "bin", `${t}.mjs`))) throw new Error(`build/bin/${t}.mjs is missing: run npm run build first`);
  }
  if (!existsSync(join(ROOT, "native", "build", "sysjail-helper"))) throw new Error("the helper is not built: run npm run build first");
  if (process.getuid?.() !== 0) throw new Error("the management tests start jails as root and (through setpriv) as uid 65534: run them as root");
}

/** A fresh directory (mode 0755 unless told), removed by the caller. */
export function tempDir(prefix: string, mode = 0o755): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, mode);
  return d;
}

/** A runtime directory for uid 65534 (its XDG_RUNTIME_DIR: mode 0700, owned by it), removed by the caller. */
export function nobodyRuntimeDir(prefix = "sysjail-mxdg-"): string {
  const d = tempDir(prefix, 0o700);
  chownSync(d, 65534, 65534);
  return d;
}

let probeBin: string | undefined;
/** The static test program (test/manage/fixtures/mprobe.c), compiled once per process. */
export function probe(): string {
  if (probeBin) return probeBin;
  const dir = tempDir("sysjail-mprobe-");
  const out = join(dir, "mprobe");
  const r = spawnSync("gcc", ["-O2", "-static", "-o", out, FIXTURE], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot build the test program: ${r.stderr}`);
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  probeBin = out;
  return out;
}

/** A minimal jail root: /mprobe and empty proc, dev, tmp, etc, sys; readable by everyone. */
export function makeRoot(owner?: number): string {
  const r = tempDir("sysjail-mroot-");
  for (const d of ["proc", "dev", "tmp", "etc", "sys"]) mkdirSync(join(r, d));
  chmodSync(join(r, "tmp"), 0o1777);
  copyFileSync(probe(), join(r, "mprobe"));
  chmodSync(join(r, "mprobe"), 0o755);
  if (owner !== undefined) chownSync(r, owner, owner);
  return r;
}

/** The result of a tool run. */
export interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** How a tool runs: its state directory, extra environment, and (optionally) as uid 65534. */
export interface RunOptions {
  state?: string | undefined;
  env?: Record<string, string> | undefined;
  /** Run through setpriv as 65534 with this XDG_RUNTIME_DIR ("": none). */
  nobody?: string | undefined;
  input?: string | undefined;
  timeoutMs?: number | undefined;
}

/** The file, argv and environment that run a tool as the tests run it (for spawns of their own). */
export function command(tool: Tool, args: string[], o: RunOptions): { file: string; argv: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(o.env ?? {}) };
  delete env.NODE_TEST_CONTEXT;
  delete env.SYSJAIL_STATE_DIR;
  if (o.state) env.SYSJAIL_STATE_DIR = o.state;
  // as installed (package.json bin): the native front, which runs Node with the tool's bundle
  const bin = join(ROOT, "native", "build", tool);
  if (o.nobody === undefined) return { file: bin, argv: args, env };
  // nobody "" runs without XDG_RUNTIME_DIR: the user's state directory is then /tmp/sysjail-65534
  const xdg = o.nobody === "" ? ["-u", "XDG_RUNTIME_DIR"] : [`XDG_RUNTIME_DIR=${o.nobody}`];
  const pass = [...xdg, "HOME=/", ...(o.state ? [`SYSJAIL_STATE_DIR=${o.state}`] : [])];
  return { file: "setpriv", argv: ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "-u", "SYSJAIL_STATE_DIR", ...pass, bin, ...args], env };
}

/** Runs a tool to its end. */
export function run(tool: Tool, args: string[], o: RunOptions = {}): Run {
  const c = command(tool, args, o);
  const r: SpawnSyncReturns<string> = spawnSync(c.file, c.argv, {
    env: c.env, encoding: "utf8", input: o.input ?? "", timeout: o.timeoutMs ?? 60000, cwd: ROOT,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Runs a tool without blocking the event loop (for concurrent runs). */
export function runAsync(tool: Tool, args: string[], o: RunOptions = {}): Promise<Run> {
  const c = command(tool, args, o);
  return new Promise((resolve) => {
    const child = spawn(c.file, c.argv, { env: c.env, cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 60000);
    child.on("close", (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

/** Starts a background jail (sysjail -b -i); returns its jid. */
export function start(o: RunOptions, root: string, hostname: string, cmd: string[], extra: string[] = []): number {
  const r = run("sysjail", ["-b", "-i", ...extra, root, hostname, ...cmd], o);
  const jid = Number(r.stdout.trim().split("\n").pop());
  if (r.code !== 0 || !Number.isInteger(jid) || jid <= 0) throw new Error(`sysjail -b -i failed (${r.code}): ${r.stdout} ${r.stderr}`);
  return jid;
}

/** A private state directory whose jails are all removed by cleanup(), whatever happened. */
export class Scope {
  readonly state: string;
  constructor(readonly nobody?: string) {
    this.state = tempDir("sysjail-mstate-");
    if (nobody !== undefined) chownSync(this.state, 65534, 65534);
  }

  /** Options to run a tool in this scope. */
  get o(): RunOptions {
    return { state: this.state, nobody: this.nobody };
  }

  /** Removes every jail of the scope (as root: root may remove any), then the directory. */
  cleanup(): void {
    const r = run("jail", ["-R", "*"], { state: this.state });
    if (r.code !== 0) process.stderr.write(`cleanup of ${this.state}: ${r.stderr}`);
    rmSync(this.state, { recursive: true, force: true });
  }
}

/** Polls COND every 20 ms until it holds or ms pass; returns whether it held. */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** Whether a process is alive (not a zombie). */
export function alive(pid: number): boolean {
  const r = spawnSync("cat", [`/proc/${pid}/stat`], { encoding: "utf8" });
  if (r.status !== 0) return false;
  return r.stdout.slice(r.stdout.lastIndexOf(")") + 2)[0] !== "Z";
}

/** Host pids whose command line contains TEXT (as ps would find them). */
export function pidsWithCmdline(text: string): number[] {
  const r = spawnSync("pgrep", ["-f", text], { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean).map(Number).filter((p) => p !== process.pid);
}

/** Entry of jail JID as sjls --json reports it. */
export function sjlsEntry(o: RunOptions, jid: number): Record<string, unknown> | undefined {
  const r = run("sjls", ["--json"], o);
  const arr = JSON.parse(r.stdout) as Record<string, unknown>[];
  return arr.find((x) => x.jid === jid);
}

/** Kills jails the registry lost (a registry bug must not leak processes past a test): for each
 * process whose command line matches PATTERN exactly, its parent is SIGKILLed only when that is
 * a jail's init (the first process of a nested pid namespace) run by the sysjail helper. */
export function killLostJails(pattern: string): number {
  let n = 0;
  for (const pid of pidsWithCmdline(pattern)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const init = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const status = readFileSync(`/proc/${init}/status`, "utf8");
      const cmd = readFileSync(`/proc/${init}/cmdline`, "utf8");
      if (!/^NSpid:\s*\d+\s+1$/m.test(status) || !(cmd.includes("sysjail-helper") || cmd.startsWith("sysjail-init"))) continue;
      process.kill(init, "SIGKILL");
      n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}
