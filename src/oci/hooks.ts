// config.json hooks (runtime-spec "POSIX-platform Hooks"): checked on load, run with the state on stdin.
import type * as ChildProcess from "node:child_process";
import { op, type PlanOp } from "../plan/types.js";
import { ociError } from "./config.js";

/** One hook: an absolute program, its argv (argv[0] included), environment and timeout in seconds. */
export interface OciHook { path: string; args?: string[]; env?: string[]; timeout?: number }
/** The hooks sysjail-oci keeps in a container's record. */
export type OciHooks = Partial<Record<HookName, OciHook[]>>;
/** The hook kinds of runtime-spec 1.2 (prestart is the deprecated alias of createRuntime's time). */
export type HookName = "prestart" | "createRuntime" | "createContainer" | "startContainer" | "poststart" | "poststop";

const HOST: HookName[] = ["prestart", "createRuntime", "poststart", "poststop"];
const INSIDE: HookName[] = ["createContainer", "startContainer"];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const strList = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === "string"));

/** Checks config.json's hooks; every kind with hooks comes back (createContainer and
 * startContainer become plan ops, see hookOps). */
export function checkHooks(raw: unknown, where: string): OciHooks {
  if (raw === undefined) return {};
  if (!isObj(raw)) throw ociError(`${where}: "hooks" must be an object of hook lists`);
  const out: OciHooks = {};
  for (const [k, list] of Object.entries(raw)) {
    if (![...HOST, ...INSIDE].includes(k as HookName)) throw ociError(`${where}: hooks.${k.slice(0, 40)}: unknown hook kind (${[...HOST, ...INSIDE].join(", ")} are allowed)`);
    if (!Array.isArray(list)) throw ociError(`${where}: hooks.${k} must be a list`);
    list.forEach((h, i) => {
      if (!isObj(h) || typeof h.path !== "string" || !h.path.startsWith("/")) throw ociError(`${where}: hooks.${k}[${i}].path must be an absolute path`);
      if (!strList(h.args) || !strList(h.env)) throw ociError(`${where}: hooks.${k}[${i}]: args and env must be lists of strings`);
      if (h.timeout !== undefined && !(Number.isInteger(h.timeout) && (h.timeout as number) > 0)) throw ociError(`${where}: hooks.${k}[${i}].timeout must be a positive number of seconds`);
    });
    if (list.length) out[k as HookName] = list as OciHook[];
  }
  return out;
}

/** Runs the hooks of KIND in order, each as this runtime's caller (on the host), with STATE as JSON
 * on stdin. Without WARN the first failing one (status, signal, timeout) throws, naming it; stdout and stderr
 * are collected (the engine's pipes stay ours) and the error carries stderr's first line. */
export function runHooks(hooks: OciHooks | undefined, kind: HookName, state: Record<string, unknown>, warn?: (m: string) => void): void {
  const input = `${JSON.stringify(state)}\n`;
  (hooks?.[kind] ?? []).forEach((h, i) => {
    try {
      runHook(h, `hook ${kind}[${i}] ${h.path}`, input);
    } catch (err) {
      // poststart and poststop: a failure is a warning and the others still run (runtime-spec)
      if (!warn) throw err;
      warn((err as Error).message);
    }
  });
}

/** Runs one hook H (called NAME in errors) with INPUT on stdin; throws on any failure. */
function runHook(h: OciHook, name: string, input: string): void {
  {
    // loaded only when a hook runs: child_process costs every create milliseconds otherwise
    const { spawnSync } = (process as unknown as { getBuiltinModule(id: string): typeof ChildProcess }).getBuiltinModule("node:child_process");
    const args = h.args?.length ? h.args : [h.path];
    const env = Object.fromEntries((h.env ?? []).map((e) => { const n = e.indexOf("="); return n < 0 ? [e, ""] : [e.slice(0, n), e.slice(n + 1)]; }));
    const r = spawnSync(h.path, args.slice(1), {
      argv0: args[0], env, input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], maxBuffer: 1 << 20,
      killSignal: "SIGKILL", ...(h.timeout ? { timeout: h.timeout * 1000 } : {}),
    });
    const why = (r.stderr ?? "").trim().split("\n")[0]?.slice(0, 200) ?? "";
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT") throw ociError(`${name}: timed out after ${h.timeout}s`);
    // a hook that does not read the state (EPIPE on its stdin) is judged by its status alone
    if (r.error && (r.error as NodeJS.ErrnoException).code !== "EPIPE") throw ociError(`${name}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
    if (r.signal) throw ociError(`${name}: killed by ${r.signal}`);
    if (r.status !== 0) throw ociError(`${name}: exit status ${r.status}${why ? ` (${why})` : ""}`);
  }
}

/** The plan ops of the in-container hooks (native/src/hook.c): createContainer ("create", run by
 * the init before pivot_root, its path in the runtime's mount namespace) and startContainer
 * ("start", after `start`, set up as the command is, its path in the container). STATE is the
 * state JSON; the helper puts the init's pid as the container sees it in place of its "pid". */
export function hookOps(hooks: OciHooks, state: Record<string, unknown>): { create: PlanOp[]; start: PlanOp[] } {
  const ops = (kind: "createContainer" | "startContainer", short: string, status: string) => {
    const text = JSON.stringify({ ...state, status, pid: 0 });
    const at = text.indexOf('"pid":0') + 6;
    return (hooks[kind] ?? []).map((h, i) => {
      const env = h.env ?? [];
      return op("hook", [short, h.timeout ?? 0, text.slice(0, at), text.slice(at + 1), h.path, env.length, ...env, ...(h.args?.length ? h.args : [h.path])], `hooks.${kind}[${i}]`);
    });
  };
  return { create: ops("createContainer", "create", "creating"), start: ops("startContainer", "start", "created") };
}
