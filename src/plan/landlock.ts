// The Landlock domain of a jail's command: scopes only (abstract unix sockets, signals), decided
// here from the jail's network mode and the kernel's ABI; native/src/command.c applies it.
import { Exit, SysjailError } from "../errors.js";
import type { LandlockFacts } from "../host/landlock.js";
import { op, type PlanOp } from "./types.js";
import type { UnveilSpec } from "../spec/types.js";

/** LANDLOCK_SCOPE_* (linux/landlock.h, ABI 6). */
export const LANDLOCK_SCOPE = { abstractUnixSocket: 1, signal: 2 } as const;
/** Every scope a jail's own processes get. */
export const JAIL_SCOPES = LANDLOCK_SCOPE.abstractUnixSocket | LANDLOCK_SCOPE.signal;
/** The first Landlock ABI with scopes (Linux 6.12). */
export const SCOPES_ABI = 6;

/** The parameters of the landlockScope op: which scopes, and whether a kernel without them fails
 * the start ("required") or is skipped with a warning ("optional"). */
export interface LandlockChoice {
  scoped: number;
  required: boolean;
  /** Unveil: the file-system rights the domain handles (0: none, the whole tree stays reachable)
   * and the rights granted beneath each path. */
  handledFs?: number;
  paths?: [path: string, access: number][];
}

/** LANDLOCK_ACCESS_FS_* (linux/landlock.h) and the ABI that introduced each beyond ABI 1. */
export const FS = {
  execute: 1 << 0, writeFile: 1 << 1, readFile: 1 << 2, readDir: 1 << 3, removeDir: 1 << 4, removeFile: 1 << 5,
  makeChar: 1 << 6, makeDir: 1 << 7, makeReg: 1 << 8, makeSock: 1 << 9, makeFifo: 1 << 10, makeBlock: 1 << 11,
  makeSym: 1 << 12, refer: 1 << 13, truncate: 1 << 14, ioctlDev: 1 << 15,
} as const;

/** Every file-system right a kernel of Landlock ABI `abi` handles. */
export function handledFs(abi: number): number {
  if (abi < 1) return 0;
  return (FS.refer - 1) | (abi >= 2 ? FS.refer : 0) | (abi >= 3 ? FS.truncate : 0) | (abi >= 5 ? FS.ioctlDev : 0);
}

/** OpenBSD's unveil permissions as Landlock rights (within `handled`): r reads files and lists
 * directories, w writes and truncates files, x executes, c creates, removes and renames (refer);
 * ioctl on devices comes with r or w. */
export function unveilAccess(perms: string, handled: number): number {
  let a = 0;
  if (perms.includes("r")) a |= FS.readFile | FS.readDir | FS.ioctlDev;
  if (perms.includes("w")) a |= FS.writeFile | FS.truncate | FS.ioctlDev;
  if (perms.includes("x")) a |= FS.execute;
  if (perms.includes("c")) {
    a |= FS.removeDir | FS.removeFile | FS.makeChar | FS.makeDir | FS.makeReg | FS.makeSock | FS.makeFifo | FS.makeBlock | FS.makeSym | FS.refer;
  }
  return a & handled;
}

/** Adds an unveil to a jail's choice of scopes (or makes one): refused where the kernel has no
 * Landlock (exit 71) unless `bestEffort`, which runs the jail unveiled-less with a warning. */
export function withUnveil(c: LandlockChoice | undefined, unveil: UnveilSpec[], ll: LandlockFacts | undefined, bestEffort: boolean): LandlockChoice | undefined {
  const abi = ll?.abi ?? 0;
  if (abi < 1) {
    if (bestEffort) return c;
    throw new SysjailError("unveil needs Landlock (Linux 5.13+ with landlock in the lsm= list); this kernel offers none (or ask for best effort)", {
      code: "ENOTSUP", phase: "plan", exitCode: Exit.osErr,
    });
  }
  const handled = handledFs(abi);
  return {
    scoped: c?.scoped ?? 0,
    required: (c?.required ?? false) || !bestEffort,
    handledFs: handled,
    paths: unveil.map((u) => [u.path, unveilAccess(u.perms, handled)]),
  };
}

/** The plan op for a choice (command phase: after no-new-privs, before seccomp). */
export function landlockOp(c: LandlockChoice): PlanOp {
  const names = [c.scoped & LANDLOCK_SCOPE.abstractUnixSocket ? "abstract unix sockets" : "", c.scoped & LANDLOCK_SCOPE.signal ? "signals" : ""].filter(Boolean);
  const args: (string | number)[] = [c.scoped, c.required ? "required" : "optional"];
  if (c.handledFs) {
    args.push(c.handledFs);
    for (const [p, a] of c.paths ?? []) args.push(p, a);
  }
  const unveiled = c.handledFs ? `; unveil: ${(c.paths ?? []).map(([p]) => p).join(", ") || "nothing"}` : "";
  return op("landlockScope", args, `Landlock scopes: ${names.join(", ") || "none"} of this jail only${unveiled}`);
}

/** The scopes for a new jail's command. A shared-stack jail (`shared`) must have the abstract
 * socket scope: on the host's network stack it would otherwise reach every abstract unix socket
 * of the host and of other shared-stack jails, so a kernel without it is refused (exit 71). A
 * jail with its own network namespace gets the scopes as defence in depth (its abstract sockets
 * are its namespace's already; the signal scope keeps its processes from signalling the init),
 * required when the kernel is known to have them, skipped on kernels without. */
export function jailLandlock(shared: boolean, ll: LandlockFacts | undefined): LandlockChoice | undefined {
  const abi = ll?.abi ?? 0;
  if (abi >= SCOPES_ABI) return { scoped: JAIL_SCOPES, required: shared || (ll?.sure ?? false) };
  if (!shared) return undefined;
  throw new SysjailError(
    `sysjail: jail addresses on the shared stack need Landlock's abstract unix socket scope (Linux 6.12+ with Landlock enabled; this kernel offers Landlock ABI ${abi}), else the jail would reach the host's abstract sockets; use --vnet`,
    { code: "ENOTSUP", phase: "plan", exitCode: Exit.osErr },
  );
}

/** The domain of a process entered into a running jail (planEnter). The jail's own processes'
 * domain cannot be joined, so an entered process either gets none (an admin's process in a jail
 * with its own network namespace: outside every jail domain, no jail process can ptrace,
 * pidfd_getfd or open /proc/PID/fd of it) or one of its own with the abstract-socket scope alone:
 * on the shared stack every entered process, and any process that belongs to the jail (exec.*,
 * Jail.spawn), so that none reaches the host's abstract sockets. No signal scope there: exec.stop
 * must be able to stop what exec.start started (a sibling domain). */
export function enteredLandlock(shared: boolean, jailProcess: boolean): LandlockChoice | undefined {
  if (shared) return { scoped: LANDLOCK_SCOPE.abstractUnixSocket, required: true };
  return jailProcess ? { scoped: LANDLOCK_SCOPE.abstractUnixSocket, required: false } : undefined;
}
