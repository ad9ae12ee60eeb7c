// The Landlock domain of a jail's command: scopes only (abstract unix sockets, signals), decided
// here from the jail's network mode and the kernel's ABI; native/src/command.c applies it.
import { Exit, SysjailError } from "../errors.js";
import type { LandlockFacts } from "../host/landlock.js";
import { op, type PlanOp } from "./types.js";

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
}

/** The plan op for a choice (command phase: after no-new-privs, before seccomp). */
export function landlockOp(c: LandlockChoice): PlanOp {
  const names = [c.scoped & LANDLOCK_SCOPE.abstractUnixSocket ? "abstract unix sockets" : "", c.scoped & LANDLOCK_SCOPE.signal ? "signals" : ""].filter(Boolean);
  return op("landlockScope", [c.scoped, c.required ? "required" : "optional"], `Landlock scopes: ${names.join(", ")} of this jail only`);
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
