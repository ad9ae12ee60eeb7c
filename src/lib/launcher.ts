// startLauncher(): a child Node, forked before restrict(), that runs jails for a process that has
// confined itself (a restricted process cannot start jails: the helper would inherit its filter,
// its Landlock domain and no_new_privs). What the jails are is fixed when the launcher starts.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { printable, SysjailError, usageError } from "../errors.js";
import type { RunOptions } from "./options.js";
import { fireListeners, type RunResult } from "./run.js";
import { checkCollect, checkWorkFiles, checkWorkTemplate, type WorkTemplate } from "./launcher-work.js";

export type { WorkTemplate } from "./launcher-work.js";

/** The fields a request through a launcher may give; everything else is the launcher's template. */
export const LAUNCH_FIELDS = ["command", "stdin", "maxOutputBytes", "signal", "on", "via", "files", "collect"] as const;

/** What a launched run asks for (sent over the IPC channel). */
export interface LaunchRequest {
  id: number; command: string[]; stdin?: string; stdinBase64?: string; maxOutputBytes?: number;
  files?: { name: string; data: Uint8Array; mode: number }[]; collect?: string[];
}

/** startLauncher()'s template: run()'s options without the request's fields, and `work`. */
export type LauncherTemplate = Omit<RunOptions, "command" | "signal" | "on" | "stdin" | "via" | "files" | "collect" | "path"> & {
  /** The jail's root (leave it out when `work` has no mount: each run's directory is the root). */
  path?: string | undefined;
  /** A fresh directory per run, made by the launcher under a base of its own in `work.in`. */
  work?: WorkTemplate | undefined;
};

/** A started launcher: run() takes it as `{ via: launcher }`. */
export interface Launcher {
  /** Runs `command` in a jail of the template (as run() would); used by run({ via }). */
  run(options: RunOptions): Promise<RunResult>;
  /** Ends the launcher (pending runs are rejected); resolves once it has removed its work
   * directories and exited. */
  close(): Promise<void>;
}

/** Starts a launcher whose jails are `template` (run()'s options without command, signal and
 * listeners). Call it before restrict(): the launcher keeps the rights restrict() gives up. */
export async function startLauncher(template: LauncherTemplate): Promise<Launcher> {
  if (typeof template !== "object" || template === null) throw usageError("startLauncher(): the template must be run()'s options without command");
  for (const k of ["command", "signal", "on", "stdin", "via", "files", "collect"]) {
    if (k in template) throw usageError(`startLauncher(): the template may not hold ${k} (each run() through the launcher gives it)`);
  }
  const work = template.work !== undefined ? await checkWorkTemplate(template.work, template.path !== undefined) : undefined;
  const child: ChildProcess = fork(fileURLToPath(new URL("./launcher-child.js", import.meta.url)), [], {
    execArgv: [], stdio: ["ignore", "ignore", "inherit", "ipc"], serialization: "advanced",
  });
  const pending = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void; options: RunOptions }>();
  let next = 1;
  let closed = false;
  // the launcher keeps the caller alive only while a run is pending
  const idle = () => {
    if (pending.size === 0) {
      child.unref();
      (child.channel as { unref?: () => void } | undefined)?.unref?.();
    }
  };
  const fail = (why: string) => {
    closed = true;
    for (const p of pending.values()) p.reject(new SysjailError(`sysjail: the launcher ${why}`, { code: "EPIPE", phase: "runtime" }));
    pending.clear();
  };
  child.on("message", (m: { id?: number; result?: RunResult; error?: { message: string; code?: string; phase?: string; exitCode?: number } }) => {
    const p = typeof m?.id === "number" ? pending.get(m.id) : undefined;
    if (!p) return;
    pending.delete(m.id!);
    if (m.result) {
      // the advanced serialization brings Buffers back as Uint8Arrays
      if (m.result.files) m.result.files = Object.fromEntries(Object.entries(m.result.files).map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)]));
      fireListeners(p.options.on, m.result.report);
      p.resolve(m.result);
    } else {
      const e = m.error ?? { message: "sysjail: the launcher failed" };
      p.reject(new SysjailError(e.message, { code: e.code ?? "ELAUNCH", phase: (e.phase as "runtime") ?? "runtime", ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}) }));
    }
    idle();
  });
  child.on("exit", () => fail("ended"));
  child.on("error", (e) => fail(`failed: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    child.once("message", (m: { ready?: boolean; error?: { message: string } }) => (m?.ready ? resolve() : reject(usageError(m?.error?.message ?? "startLauncher(): the launcher did not start"))));
    child.once("exit", () => reject(new SysjailError("sysjail: the launcher ended before it was ready", { code: "EPIPE", phase: "runtime" })));
    child.send({ template: work ? { ...template, work } : template });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  idle();
  return {
    run(options: RunOptions): Promise<RunResult> {
      for (const k of Object.keys(options)) {
        if (!(LAUNCH_FIELDS as readonly string[]).includes(k)) {
          return Promise.reject(usageError(`run(): with via, option ${printable(k, 40)} is the launcher's (allowed: ${LAUNCH_FIELDS.join(", ")})`));
        }
      }
      let files: LaunchRequest["files"], collect: string[];
      try {
        if (!work && (options.files !== undefined || options.collect !== undefined)) throw usageError("run(): files and collect need a launcher with work");
        files = checkWorkFiles(options.files);
        collect = checkCollect(options.collect);
      } catch (e) {
        return Promise.reject(e);
      }
      if (closed) return Promise.reject(new SysjailError("sysjail: the launcher is closed", { code: "EPIPE", phase: "runtime" }));
      if (options.signal?.aborted) return Promise.reject(new SysjailError("sysjail: aborted before the jail started", { code: "ABORT_ERR", phase: "runtime" }));
      const id = next++;
      const req: LaunchRequest = { id, command: options.command };
      if (typeof options.stdin === "string") req.stdin = options.stdin;
      else if (options.stdin !== undefined) req.stdinBase64 = Buffer.from(options.stdin).toString("base64");
      if (options.maxOutputBytes !== undefined) req.maxOutputBytes = options.maxOutputBytes;
      if (files.length) req.files = files;
      if (collect.length) req.collect = collect;
      return new Promise<RunResult>((resolve, reject) => {
        pending.set(id, { resolve, reject, options });
        child.ref();
        (child.channel as { ref?: () => void } | undefined)?.ref?.();
        options.signal?.addEventListener("abort", () => child.send({ abort: id }), { once: true });
        child.send(req);
      });
    },
    close(): Promise<void> {
      if (!closed) fail("was closed");
      // whoever awaits the end is kept alive until the launcher has cleaned up and exited
      child.ref();
      if (child.connected) child.disconnect();
      return exited;
    },
  };
}
