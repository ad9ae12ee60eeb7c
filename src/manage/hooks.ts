// exec.* hooks of the stop sequence: where they come from (the entry's lifecycle) and a default runner.
import { spawn } from "node:child_process";
import type { JailEntry } from "../registry/types.js";
import { enterContext, enterEnv, enterStatus, planEnter, resolveEnterUser, runEnter } from "./enter.js";
import type { JailRef } from "./locate.js";
import { ownerEnv, runAsOwner, spawnAsOwner } from "./owner.js";

/** The hooks jail -r runs. */
export type HookName = "prestop" | "stop" | "poststop" | "release";

/** One hook command to run. */
export interface HookCall {
  hook: HookName;
  /** exec.stop runs inside the jail; the others on the host. */
  where: "host" | "jail";
  /** An sh(1) command line. */
  command: string;
  ref: JailRef;
}

/** Runs one hook command; resolves to its exit status. Replaceable (jail.conf's exec.* options). */
export type HookRunner = (call: HookCall) => Promise<number>;

/** The command lines of a hook, from the entry's lifecycle (JailLifecycle.exec), in order. */
export function hooksOf(entry: JailEntry, hook: HookName): string[] {
  const exec = (entry.lifecycle as { exec?: Record<string, unknown> } | undefined)?.exec;
  const list = exec?.[hook];
  return Array.isArray(list) ? list.filter((c): c is string => typeof c === "string" && c.trim() !== "") : [];
}

function hostShell(command: string, owner: number): Promise<number> {
  return new Promise((resolve) => {
    // another user's jail: its commands run as that user (owner.ts), never as the caller
    const who = runAsOwner(owner);
    let child: ReturnType<typeof spawn>;
    try {
      child = who ? spawnAsOwner(command, who, ownerEnv(who), false) : spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "inherit", "inherit"] });
    } catch {
      resolve(126);
      return;
    }
    child.on("error", () => resolve(127));
    child.on("close", (code, sig) => resolve(code ?? 128 + (sig ? 15 : 0)));
  });
}

/** Runs host hooks with /bin/sh, and exec.stop through the jail's own sh as jail root (or
 * exec.jail_user), with the jail's policy, exactly like jexec. */
export const defaultHookRunner: HookRunner = async (call) => {
  if (call.where === "host") return hostShell(call.command, call.ref.dirOwner);
  const { entry } = call.ref;
  const life = (entry.lifecycle ?? {}) as { jailUser?: unknown; systemJailUser?: unknown; clean?: unknown };
  const name = typeof life.jailUser === "string" ? life.jailUser : undefined;
  let user;
  try {
    user = resolveEnterUser(entry, name, life.systemJailUser === true ? "host" : "jail");
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 67;
  }
  if (!user) return 67;
  const ctx = await enterContext(entry, call.ref.dirOwner, undefined, call.ref.dir);
  // for another user's jail none of the caller's environment enters it (owner.ts)
  const env = enterEnv(process.env, life.clean === true || runAsOwner(call.ref.dirOwner) !== undefined, user, {});
  const plan = planEnter(entry, { argv: ["/bin/sh", "-c", call.command], user, env, cwd: "/", stdio: "pipe", jailProcess: true }, ctx);
  try {
    return enterStatus(await runEnter(plan, ["ignore", "inherit", "inherit"], entry.path));
  } catch {
    return 126;
  }
};
