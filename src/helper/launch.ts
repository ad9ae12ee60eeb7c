// Starts the C helper with a plan on fd 3 and turns its JSON-line reports into typed events.
import type { ChildProcess, StdioOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SysjailError, errnoName, Exit } from "../errors.js";
import { encodePlan } from "../plan/encode.js";
import { PROTOCOL, type Plan } from "../plan/types.js";
import type { ErrorEvent, HelperEvent } from "./events.js";
import type { FrontChannel } from "./front.js";
import { builtin, codeDir } from "./locate.js";

export type { ErrorEvent, ExitEvent, HelperEvent, StartedEvent } from "./events.js";

/** node:child_process, loaded on first use: a run through a native front spawns nothing, and
 * loading it costs about 4 ms of a jail's start. */
let cp: typeof import("node:child_process") | undefined;
function childProcess(): typeof import("node:child_process") {
  cp ??= builtin<typeof import("node:child_process")>("node:child_process");
  return cp;
}
let foundHelper: string | undefined;

/** The package's prebuilt helpers by process.arch (native/prebuilt/ARCH, scripts/pack-native.mjs). */
const PREBUILT_ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

/** Path of the helper binary (looked up once per process): the one built from source
 * (native/build/sysjail-helper: a checkout, or an install that built it), else the package's
 * prebuilt one for this process's arch. */
export function helperPath(): string {
  if (foundHelper) return foundHelper;
  const here = codeDir();
  const arch = PREBUILT_ARCH[process.arch];
  const candidates = [join(here, "..", "..", "..", "native", "build", "sysjail-helper"), join(here, "..", "..", "native", "build", "sysjail-helper")];
  if (arch) candidates.push(join(here, "..", "..", "..", "native", "prebuilt", arch, "sysjail-helper"), join(here, "..", "..", "native", "prebuilt", arch, "sysjail-helper"));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new SysjailError(`the C helper is not built and the package has no prebuilt one for ${process.arch}; run \`npm rebuild sysjail\` (needs a C compiler)`, {
      code: "ENOHELPER", phase: "setup", exitCode: Exit.software,
    });
  }
  foundHelper = found;
  return found;
}

/** The error for a helper that closed its channel without a report. A helper of another
 * protocol refuses the plan and may be gone before the plan is written, taking its report with
 * it; asking its version (only on this failure path) still names the cause. */
export function lostReportError(): SysjailError {
  let proto: number | undefined;
  try {
    const m = /protocol (\d+)/.exec(childProcess().spawnSync(helperPath(), ["--version"], { encoding: "utf8", timeout: 5000 }).stdout ?? "");
    proto = m ? Number(m[1]) : undefined;
  } catch {
    /* no helper at all: helperPath() said so before */
  }
  if (proto !== undefined && proto !== PROTOCOL) {
    return stepError({ ev: "error", op: -1, step: "protocol", errno: 71, path: "", msg: `protocol mismatch: helper speaks ${proto}, sysjail speaks ${PROTOCOL}` });
  }
  return new SysjailError("sysjail: the helper ended without a report", { code: "EPIPE", phase: "runtime", exitCode: Exit.software });
}

/** The SysjailError for a failed helper step. */
export function stepError(e: ErrorEvent, jailPath?: string): SysjailError {
  const code = e.step === "protocol" ? "EPROTO" : errnoName(e.errno);
  if (e.step === "protocol") {
    return new SysjailError(`sysjail: ${e.msg}; rebuild the helper with \`npm rebuild sysjail\``, { code, phase: "protocol", step: e.step, errno: e.errno, exitCode: Exit.software });
  }
  if (e.step === "exec") {
    const notFound = e.errno === 2;
    const what = notFound ? "command not found" : e.errno === 13 ? "permission denied" : `cannot execute (${code})`;
    return new SysjailError(`sysjail: ${e.path}: ${what} in jail ${jailPath ?? ""}`.trimEnd(), {
      code, phase: "exec", step: e.step, errno: e.errno, path: e.path, exitCode: notFound ? Exit.notFound : 126,
    });
  }
  if (e.step === "hook") {
    // sysjail-oci's in-container hooks: the helper's one printable line names the hook and why
    return new SysjailError(`sysjail: ${e.path}`, { code, phase: "setup", step: e.step, errno: e.errno, path: e.path, exitCode: Exit.osErr });
  }
  if (e.step === "net-helper" || e.step === "landlock-scope") {
    // one line naming the tool or the kernel feature; the helper already made the text printable
    const what = e.step === "net-helper" ? `outbound traffic for the jail failed: ${e.msg || `${e.path}: ${code}`}` : `Landlock (scopes, unveil) for the jail failed: ${e.path || e.msg} (${code})`;
    return new SysjailError(`sysjail: ${what}`, { code, phase: "setup", step: e.step, errno: e.errno, path: e.path, exitCode: Exit.osErr });
  }
  const detail = e.msg ? `: ${e.msg}` : "";
  return new SysjailError(`sysjail: setting up the jail failed at ${e.step}${e.path ? ` ${e.path}` : ""}: ${code}${detail}`, {
    code, phase: "setup", step: e.step, errno: e.errno, path: e.path, exitCode: Exit.osErr,
  });
}

/** A running helper: its events, in order, and control over it. */
export class HelperRun {
  /** The spawned helper; undefined when a native front is this run's helper. */
  readonly child: ChildProcess | undefined;
  private readonly front: FrontChannel | undefined;
  private readonly queue: HelperEvent[] = [];
  private waiter: ((e: HelperEvent | null) => void) | null = null;
  private closed = false;
  private buf = "";

  /** Spawns the helper, or uses the native front's channel (FRONT, src/helper/front.ts); with a
   * plan it is sent at once, else later with sendPlan() (the helper waits for it on fd 3, so its
   * start-up overlaps with the caller's planning). A prelude (planPrelude) sent at once lets it
   * make the jail's namespaces meanwhile too. */
  constructor(plan: Plan | "run" | "enter", stdio: StdioOptions, detached: boolean, prelude?: Plan, front?: FrontChannel) {
    const first = typeof plan !== "string" ? plan : prelude;
    if (front) {
      // read by next(), blocking, once this process has nothing else to do
      this.front = front;
      if (first) front.write(encodePlan(first));
      return;
    }
    const base = Array.isArray(stdio) ? stdio.slice(0, 3) : [stdio, stdio, stdio];
    const mode = typeof plan === "string" ? plan : plan.mode;
    const child = childProcess().spawn(helperPath(), [mode], { stdio: [...base, "pipe"] as StdioOptions, detached });
    this.child = child;
    const ctl = child.stdio[3] as unknown as NodeJS.ReadWriteStream;
    ctl.on("data", (d: Buffer) => this.onData(d));
    ctl.on("end", () => this.finish());
    ctl.on("close", () => this.finish());
    ctl.on("error", () => this.finish());
    child.on("error", (err) => {
      this.push({ ev: "error", op: -1, step: "spawn", errno: 2, path: helperPath(), msg: String(err.message) });
      this.finish();
    });
    if (first) ctl.write(encodePlan(first));
  }

  private write(data: Uint8Array | string): void {
    if (this.front) this.front.write(data);
    else (this.child?.stdio[3] as unknown as NodeJS.WritableStream | null)?.write(data);
  }

  /** Sends the plan to a helper spawned without one. */
  sendPlan(plan: Plan): void {
    this.write(encodePlan(plan));
  }

  /** Ends a helper that will get no plan (planning failed): a front sees its channel close. */
  abandon(): void {
    this.stop();
    this.release();
  }

  private stop(): void {
    if (this.front) this.front.close();
    else this.child?.kill("SIGKILL");
  }

  private onData(d: Buffer): void {
    this.buf += d.toString("utf8");
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      try {
        this.push(JSON.parse(line) as HelperEvent);
      } catch {
        /* a torn line cannot happen on a stream socket; ignore noise */
      }
    }
  }

  private push(e: HelperEvent): void {
    if (e.ev === "hello" && e.proto !== PROTOCOL) {
      e = { ev: "error", op: -1, step: "protocol", errno: 71, path: "", msg: `protocol mismatch: helper speaks ${e.proto}, sysjail speaks ${PROTOCOL}` };
      this.stop();
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(e);
    } else this.queue.push(e);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }

  /** The next event, or null when the helper closed its channel. */
  next(): Promise<HelperEvent | null> {
    // a front's channel is read here, blocking (src/helper/front.ts): nothing else runs meanwhile
    while (this.front && this.queue.length === 0 && !this.closed) {
      const d = this.front.readSync();
      if (d) this.onData(d);
      else this.finish();
    }
    const e = this.queue.shift();
    if (e) return Promise.resolve(e);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Sends a control byte: A (recorded), K (kill the jail), T (terminate). */
  send(byte: "A" | "K" | "T"): void {
    try {
      this.write(byte);
    } catch {
      /* the helper is gone */
    }
  }

  /** Resolves once the spawned helper process has ended (at once for a front or an ended one). */
  exited(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => c.once("exit", () => resolve()));
  }

  /** Lets this process exit while the helper (a background jail's monitor) goes on. */
  release(): void {
    if (!this.child) return;
    const ctl = this.child.stdio[3] as (NodeJS.ReadWriteStream & { destroy?: () => void; unref?: () => void }) | null;
    ctl?.removeAllListeners("data");
    ctl?.destroy?.();
    this.child.unref();
  }
}
