// Running the command-line tools as a user would: the installed command (package.json bin, the
// native front) or `node bin/TOOL.js`, as root or through setpriv as 65534. Every run carries a unique token in its
// environment (TOKEN_VAR) so that what it leaves behind can be found, and killed, precisely.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import type { Writable } from "node:stream";
import { BIN, FRONT, type ToolName } from "./paths.js";
import type { Nobody } from "./nobody.js";
import { killTokenProcesses, tokenProcesses, TOKEN_VAR } from "./proc.js";
import { waitUntil } from "./wait.js";

export interface CliOptions {
  tool?: ToolName;
  /** "front" (default): the package's command, native/build/TOOL; "node": node bin/TOOL.js. */
  via?: "front" | "node";
  /** Another front binary to run instead of native/build/TOOL. */
  frontPath?: string;
  /** Run as uid 65534 through setpriv (its own XDG_RUNTIME_DIR). */
  as?: Nobody | undefined;
  /** "pipe" keeps stdin open (closeStdin() ends it), "ignore" gives /dev/null, a string is written
   * and then closed. Default: "ignore". */
  stdin?: "pipe" | "ignore" | { text: string };
  /** Extra environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Descriptors the CLI gets as fds 3, 4, ... (to check none reaches the jail). */
  extraFds?: (number | "pipe" | "ignore" | null)[];
  /** Hang guard: the process is killed and the run fails after this long (default 60 s). */
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  token: string;
  pid: number;
}

const live = new Set<CliRun>();

/** A started CLI process. */
export class CliRun {
  readonly child: ChildProcess;
  readonly token = randomBytes(8).toString("hex");
  readonly pid: number;
  stdout = "";
  stderr = "";
  readonly done: Promise<CliResult>;
  private ended = false;

  constructor(readonly args: string[], readonly opts: CliOptions = {}) {
    const tool = opts.tool ?? "sysjail";
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...(opts.env ?? {}), [TOKEN_VAR]: this.token })) if (v !== undefined) env[k] = v;
    const argv = opts.via === "node" ? [process.execPath, BIN[tool], ...args] : [opts.frontPath ?? FRONT[tool], ...args];
    const full = opts.as ? [...opts.as.prefix, ...argv] : argv;
    const stdin = opts.stdin === undefined || opts.stdin === "ignore" ? "ignore" : "pipe";
    const stdio: StdioOptions = [stdin, "pipe", "pipe", ...(opts.extraFds ?? [])];
    this.child = spawn(full[0]!, full.slice(1), { env, stdio });
    if (this.child.pid === undefined) throw new Error(`cannot start ${full.join(" ")}`);
    this.pid = this.child.pid;
    live.add(this);
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    if (opts.stdin && typeof opts.stdin === "object") this.child.stdin!.end(opts.stdin.text);
    this.child.stdin?.on("error", () => undefined);
    const timeoutMs = opts.timeoutMs ?? 60_000;
    this.done = new Promise<CliResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        killTokenProcesses(this.token);
        try { this.child.kill("SIGKILL"); } catch { /* gone */ }
        reject(new Error(`${tool} ${args.join(" ")} did not exit within ${timeoutMs} ms (killed); stdout: ${this.stdout.slice(0, 400)} stderr: ${this.stderr.slice(0, 400)}`));
      }, timeoutMs);
      this.child.on("error", (e) => { clearTimeout(timer); reject(e); });
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.ended = true;
        live.delete(this);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, token: this.token, pid: this.pid });
      };
      // "close" comes once the CLI exited and its output pipes are drained. A process the CLI
      // left behind may hold the pipes open (a bug the tests then report); don't hang on it.
      this.child.on("close", (code, signal) => finish(code, signal));
      this.child.on("exit", (code, signal) => { setTimeout(() => finish(code, signal), 2_000).unref(); });
    });
    this.done.catch(() => undefined);
  }

  get exited(): boolean {
    return this.ended || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits until the stream's text matches RE; fails when the process exits first. */
  async waitOutput(re: RegExp, stream: "stdout" | "stderr" = "stdout", timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return waitUntil(() => {
      const m = this[stream].match(re);
      if (m) return m;
      if (this.exited) throw new Error(`${this.args.join(" ")} exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${re}; stdout: ${this.stdout} stderr: ${this.stderr}`);
      return undefined;
    }, `${re} on ${stream} of sysjail ${this.args.join(" ")}`, timeoutMs);
  }

  /** Ends the CLI's stdin (a holding probe inside then exits). */
  closeStdin(): void {
    (this.child.stdin as Writable | null)?.end();
  }

  /** Sends a signal to the CLI process itself (a process this test started). */
  signal(sig: NodeJS.Signals): void {
    if (!this.exited) this.child.kill(sig);
  }

  /** Processes this run left (its token), excluding the CLI itself once it has exited. */
  leftovers(): number[] {
    return tokenProcesses(this.token);
  }

  /** Cleanup: kill the CLI and everything carrying its token; wait for the CLI to be gone. */
  async stop(): Promise<void> {
    if (!this.exited) {
      try { this.child.kill("SIGKILL"); } catch { /* gone */ }
    }
    killTokenProcesses(this.token);
    await this.done.catch(() => undefined);
    await waitUntil(() => killTokenProcesses(this.token) === 0 && tokenProcesses(this.token).length === 0, `processes of run ${this.token} to end`, 10_000).catch(() => undefined);
  }
}

/** Starts a CLI run (call stop() in a cleanup hook). */
export function startCli(args: string[], opts: CliOptions = {}): CliRun {
  return new CliRun(args, opts);
}

/** Runs a CLI to its end. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const r = new CliRun(args, opts);
  try {
    return await r.done;
  } finally {
    if (!r.exited) await r.stop();
  }
}

/** sysjail ARGS... */
export function sysjail(args: string[], opts: Omit<CliOptions, "tool"> = {}): Promise<CliResult> {
  return runCli(args, { ...opts, tool: "sysjail" });
}

/** jail ARGS... (the legacy FreeBSD form) */
export function jail(args: string[], opts: Omit<CliOptions, "tool"> = {}): Promise<CliResult> {
  return runCli(args, { ...opts, tool: "jail" });
}

/** Stops every run still alive (a file-level after() safety net). */
export async function stopAllCli(): Promise<number> {
  const all = [...live];
  await Promise.all(all.map((r) => r.stop()));
  return all.length;
}

/** Describes a result for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code ?? r.signal}; stdout: ${JSON.stringify(r.stdout.slice(0, 600))}; stderr: ${JSON.stringify(r.stderr.slice(0, 600))}`;
}

/** Asserts exit 0 and returns stdout's lines. */
export function assertOk(r: CliResult): string[] {
  assert.equal(r.code, 0, `expected exit 0: ${show(r)}`);
  return r.stdout.split("\n").filter(Boolean);
}

/** The probe's single result line ("ok ..." / "err E...") from a run's stdout. */
export function probeLine(r: CliResult): string {
  const lines = r.stdout.split("\n").filter((l) => /^(ok|err|refused|fds|ls|ifaces)\b/.test(l));
  assert.equal(lines.length, 1, `expected one probe result line: ${show(r)}`);
  return lines[0]!;
}

/** Asserts a bad-input outcome: exit CODE, exactly one line on stderr (matching RE when given),
 * no stack trace, nothing on stdout. */
export function assertOneLineError(r: CliResult, code: number | number[], re?: RegExp): void {
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(r.code ?? -1), `expected exit ${codes.join(" or ")}: ${show(r)}`);
  const lines = r.stderr.split("\n").filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected exactly one line on stderr: ${show(r)}`);
  assert.doesNotMatch(r.stderr, /^\s+at |node:internal|Error: |internal error/m, `stack trace or internal error: ${show(r)}`);
  assert.equal(r.stdout, "", `expected nothing on stdout: ${show(r)}`);
  if (re) assert.match(lines[0]!, re);
}
