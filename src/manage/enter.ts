// Entering a running jail (jexec, jail -m, exec.stop): the enter plan, built from the registry entry.
import type { StdioOptions } from "node:child_process";
import { existsSync, lstatSync } from "node:fs";
import { isAbsolute, join, normalize } from "node:path";
import { defaultBackend } from "../cgroup/select.js";
import { CGROUP_KEYS } from "../cgroup/none.js";
import type { CgroupPaths } from "../cgroup/types.js";
import { SysjailError, Exit } from "../errors.js";
import { HelperRun, stepError, type ExitEvent } from "../helper/launch.js";
import type { CallEvent } from "../helper/events.js";
import { hostFacts, type HostFacts } from "../host/facts.js";
import { lookupUser, type UserInfo } from "../host/users.js";
import type { JailRoot } from "../host/jailfile.js";
import { buildFilter } from "../jail/filter.js";
import { fallbackRlimits } from "../limits/rlimit.js";
import { idMapping, type IdMapping } from "../plan/ids.js";
import { commandEnv, commandOps, NS, ownNetns } from "../plan/planner.js";
import { enteredLandlock, withUnveil } from "../plan/landlock.js";
import { landlockFacts, type LandlockFacts } from "../host/landlock.js";
import { op, type Plan, type PlanOp } from "../plan/types.js";
import { nsSocketPath, stateDir } from "../registry/paths.js";
import type { JailEntry } from "../registry/types.js";
import type { JailSpec } from "../spec/types.js";
import { jailNamespace, namespaceMembers } from "./proc.js";
import { pinProc, stillAlive } from "../host/pinproc.js";
import { trustedCgroups, trustedJoined } from "./cgroups.js";

const NS_ALL = NS.CLONE_NEWUSER | NS.CLONE_NEWNS | NS.CLONE_NEWPID | NS.CLONE_NEWUTS | NS.CLONE_NEWIPC | NS.CLONE_NEWCGROUP | NS.CLONE_NEWNET;
const NS_REQUIRED = NS.CLONE_NEWUSER | NS.CLONE_NEWNS | NS.CLONE_NEWPID | NS.CLONE_NEWUTS | NS.CLONE_NEWIPC;

/** The namespaces a process joins to be in the jail: exactly the ones the jail was made with, as
 * its entry recorded them at start (`namespaces`); an entry from before that record: the ones
 * its spec gives for its owner (a rootless -4/-6 jail has a network namespace of its own). */
export function enterNsFlags(entry: Pick<JailEntry, "spec" | "owner" | "namespaces">): number {
  const rec = entry.namespaces;
  if (rec !== undefined) {
    // root's OCI containers may share the runtime's network, uts, ipc and pid namespaces
    // (config.json leaves them out, src/oci/translate.ts); every other jail has its own
    const required = entry.owner === 0 ? NS.CLONE_NEWUSER | NS.CLONE_NEWNS : NS_REQUIRED;
    if (!Number.isInteger(rec) || (rec & ~NS_ALL) !== 0 || (rec & required) !== required) {
      throw new SysjailError(`sysjail: the jail's entry records an invalid namespace set (${String(rec)}); refusing to enter`, {
        code: "EINVAL", phase: "runtime", exitCode: Exit.software,
      });
    }
    return rec | NS.CLONE_NEWCGROUP;
  }
  let f = NS_REQUIRED | NS.CLONE_NEWCGROUP;
  if (ownNetns(entry.spec, Number.isInteger(entry.owner) ? entry.owner : 0)) f |= NS.CLONE_NEWNET;
  return f;
}

/** The jail's id mapping as recorded (root entering a user's jail must use the user's map). */
export function entryIdMapping(entry: JailEntry, facts: HostFacts): IdMapping {
  // the line of jail id 0 (root's OCI maps may have several lines)
  const m = /^\s*0\s+(\d+)\s+(\d+)\s*$/m.exec(entry.idmap?.uidMap ?? "");
  if (!m) return idMapping(facts);
  const rootless = entry.idmap.rootless;
  return {
    uidMap: entry.idmap.uidMap,
    gidMap: entry.idmap.gidMap,
    setgroups: rootless ? "deny" : "allow",
    count: Number(m[2]),
    hostBase: Number(m[1]),
    rootless,
  };
}

/** What to run in the jail and how. */
export interface EnterRequest {
  /** The command's argv (argv[0] is looked up on the jail's PATH). */
  argv: string[];
  /** The user (undefined: jail root). */
  user?: UserInfo | undefined;
  /** Exactly the command's environment. */
  env: Record<string, string>;
  /** Working directory inside the jail. */
  cwd: string;
  /** The command's stdio, relayed by the helper: a new pty of the jail (the caller is on a
   * terminal) or pipes. The caller's own descriptors never enter the jail. */
  stdio: "pty" | "pipe";
  /** Output written to the pipes after the command ended (by processes it left behind): relayed
   * into the helper's own stdout/stderr until they close ("keep": the jail's console log), or
   * read and dropped ("drop"), so that those processes are not killed by SIGPIPE. Absent: the
   * pipes close with the command (jexec: nothing reaches the caller after it returned). */
  after?: "keep" | "drop" | undefined;
  /** One of the jail's own processes (exec.start, command, Jail.spawn): a Landlock domain of its
   * own, as the jail's command has; else (jexec, an admin's process) none, so no jail process
   * can ptrace it or take its descriptors, or on the shared stack one with the abstract-socket
   * scope only. */
  jailProcess?: boolean;
}

/** What the enter plan needs besides the request; gathered by enterContext. */
export interface EnterContext {
  ids: IdMapping;
  filter?: { program: Uint8Array; flags: number; handOver?: boolean } | undefined;
  rlimits?: [number, number | bigint, number | bigint][] | undefined;
  /** cgroupAttach ops for the jail's cgroups. */
  attach: PlanOp[];
  /** The process whose namespaces are joined (default: the jail's init). */
  target?: EnterTarget | undefined;
  /** The namespaces come from the jail's monitor (an owner who is not root). */
  via?: EnterVia | undefined;
  /** The kernel's Landlock, for a jail with an unveil (its entered processes get it too). */
  landlock?: LandlockFacts | undefined;
  /** A pledged jail: `filter` is marked for a listener the entering helper answers (its
   * refusals reported, the command's own exec let through); this is the unmarked program. */
  notify?: { answer: Uint8Array } | undefined;
}

/** The jail's monitor, which serves its namespaces on a socket of the owner's state directory
 * (native/src/nsserve.c); the helper checks the socket's peer is this pid with this start time. */
export interface EnterVia { socket: string; monitorPid: number; monitorStart: number }

/** The way in for a caller who is not root: the jail's monitor, when it serves the namespaces
 * (a jail started by a user); the socket's path comes from the state directory and the jid,
 * never from the entry. Root needs none: it opens the init's namespaces itself. */
export function enterVia(entry: JailEntry, dir: string | undefined, uid = process.getuid?.() ?? 0): EnterVia | undefined {
  if (uid === 0 || dir === undefined) return undefined;
  const socket = nsSocketPath(dir, entry.jid);
  const { monitorPid, monitorStart } = entry;
  if (!Number.isInteger(monitorPid) || monitorPid <= 0 || !Number.isInteger(monitorStart) || (monitorStart ?? -1) < 0) return undefined;
  try {
    const st = lstatSync(socket);
    if (!st.isSocket() || st.uid !== uid) return undefined;
  } catch {
    return undefined;
  }
  return { socket, monitorPid, monitorStart: monitorStart! };
}

/** The plan op that takes the namespaces from the monitor. */
export function viaOps(via: EnterVia | undefined): PlanOp[] {
  return via ? [op("enterVia", [via.socket, via.monitorPid, via.monitorStart], "the jail's namespaces from its monitor")] : [];
}

/** A process of the jail to join the namespaces of, pinned by its start time. */
export interface EnterTarget { pid: number; start: number }

/** Whom to join: the jail's init when the caller may (root), else its oldest process that is
 * verifiably in the jail's pid namespace. The init is not dumpable (its memory belongs to the
 * host), so the kernel lets only a caller with CAP_SYS_PTRACE on the host open it for setns. */
export function enterTarget(entry: JailEntry): EnterTarget {
  const init = { pid: entry.initPid, start: entry.initStart };
  // the init's namespace read through its /proc directory pinned by its start time: never the
  // namespace of a process that took the pid of an init that ended (src/host/pinproc.ts)
  const pin = pinProc(entry.initPid, entry.initStart);
  let ns: string | undefined;
  try {
    if (pin?.ns("pid")) return init;
    ns = pin ? jailNamespace(entry.initPid) : undefined;
    if (pin && !stillAlive(pin)) ns = undefined;
  } finally {
    pin?.close();
  }
  const first = ns ? namespaceMembers(ns, 0)[0] : undefined;
  if (first) return first;
  throw new SysjailError("sysjail: this jail has no process you may join (only root can enter a jail whose only process is its init)", {
    code: "EPERM", phase: "runtime", exitCode: Exit.noPerm,
  });
}

/** Jail root as a user record, so the command phase sets uid and gid 0 explicitly. */
export const JAIL_ROOT: UserInfo = { name: "root", uid: 0, gid: 0, groups: [], home: "/root", shell: "/bin/sh" };

/** The plan that runs REQ in the jail with exactly the policy of the jail's own processes. Pure. */
export function planEnter(entry: JailEntry, req: EnterRequest, ctx: EnterContext): Plan {
  const spec: JailSpec = { ...entry.spec, env: req.env, cleanEnv: false, cwd: req.cwd, command: req.argv };
  let cmd: PlanOp[];
  try {
    let scopes = enteredLandlock((enterNsFlags(entry) & NS.CLONE_NEWNET) === 0, req.jailProcess === true);
    // the jail's unveil rides on the entered process's own domain (never the jail's, which cannot
    // be joined): jexec, exec.* and Jail.spawn reach no more paths than the jail's command
    if (spec.unveil?.length) scopes = withUnveil(scopes, spec.unveil, ctx.landlock, spec.unveilBestEffort ?? false);
    cmd = commandOps(spec, { user: req.user ?? JAIL_ROOT, filter: ctx.filter, rlimits: ctx.rlimits, scopes }, ctx.ids, req.argv);
  } catch (err) {
    if (err instanceof RangeError) throw new SysjailError(`sysjail: ${err.message}`, { code: "ENOUSER", phase: "usage", exitCode: Exit.noUser });
    throw err;
  }
  const t = ctx.target ?? { pid: entry.initPid, start: entry.initStart };
  const ns = enterNsFlags(entry);
  return {
    mode: "enter",
    flags: 0,
    ops: [
      op("enter", [t.pid, t.start, ns], "join the jail's namespaces"), ...viaOps(ctx.via), ...ctx.attach,
      // a jail without a devpts of its own (jail.conf without mount.devfs) gets pipes instead of a pty
      op("stdio", [req.stdio, req.stdio === "pty" ? "pipe" : "", ...(req.after ? [req.after] : [])], "relayed by the helper: no descriptor of the caller enters the jail"), ...cmd,
      // the entering helper answers the entered command's listener (native/src/enter.c, notify.c)
      ...(ctx.notify && ctx.filter ? [op("notify", ["answer", ctx.notify.answer], "seccomp listener of the entered command: explain refusals")] : []),
    ],
  };
}

/** The plan of `jail -m host.hostname=...`: join the user and UTS namespaces, set the names. Pure. */
export function planSetNames(entry: JailEntry, names: { hostname?: string | undefined; domainname?: string | undefined }, target?: EnterTarget, via?: EnterVia): Plan {
  const t = target ?? { pid: entry.initPid, start: entry.initStart };
  const ops: PlanOp[] = [op("enter", [t.pid, t.start, NS.CLONE_NEWUSER | NS.CLONE_NEWUTS]), ...viaOps(via)];
  if (names.hostname !== undefined) ops.push(op("hostname", [names.hostname]));
  if (names.domainname !== undefined) ops.push(op("domainname", [names.domainname]));
  return { mode: "enter", flags: 0, ops };
}

/** The environment of an entered command: the caller's (or -l's clean one) plus -e settings. */
export function enterEnv(base: Record<string, string | undefined>, clean: boolean, user: UserInfo, extra: Record<string, string>): Record<string, string> {
  const own = Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
  const env = clean
    ? commandEnv({ cleanEnv: true, env: own.TERM !== undefined ? { TERM: own.TERM } : {} } as JailSpec, user)
    : own;
  return { ...env, ...extra };
}

/** rlimit stand-ins the jail's own processes got for cgroup limits its cgroups do not enforce. */
export function entryRlimits(entry: JailEntry): [number, number | bigint, number | bigint][] {
  const controllerOf: Record<string, string> = { memory: "memory", swap: "memory", pids: "pids", cpu: "cpuacct", cores: "cpu", cpuShares: "cpu" };
  const have = entry.cgroups ?? {};
  // a cgroup v2 directory holds every controller; v1 has one directory per hierarchy (a hybrid
  // host's v1 jail's unified leaf, and a shared-stack jail's "net" directory, hold none)
  const unified = Object.entries(have).some(([k, d]) => k !== "unified" && k !== "net" && existsSync(join(d, "cgroup.controllers")));
  const unenforced = CGROUP_KEYS.filter((k) => entry.spec.limits[k] !== undefined && !(unified || have[controllerOf[k] ?? ""]));
  return fallbackRlimits(entry.spec.limits, unenforced).ops.map((o) => {
    const [res, soft, hard] = o.args.map(String);
    return [Number(res), BigInt(soft ?? 0), BigInt(hard ?? 0)];
  });
}

/** Looks up the entered user: -u in the host's database, -U (or jail root) in the jail's, read
 * inside the jail's root (src/host/jailfile.ts). Jail root with no usable passwd entry (none, or
 * a database or line the jail made unusable) is entered with JAIL_ROOT's defaults, so a jail can
 * always be entered and stopped; a named user with a bad entry is an error (SysjailError, 67). */
export function resolveEnterUser(entry: JailEntry, name: string | undefined, from: "host" | "jail", root?: JailRoot): UserInfo | undefined {
  if (name === undefined) {
    try {
      return lookupUser("root", root ?? jailRoot(entry)) ?? JAIL_ROOT;
    } catch {
      return JAIL_ROOT;
    }
  }
  return lookupUser(name, from === "host" ? "/" : root ?? jailRoot(entry));
}

/** The jail's tree as the host reads it: the root of a process of the jail (its own mounts),
 * pinned by pid and start time (the init for root, else the jail's oldest process), else, for a
 * jail with no process the caller may look into, its path read confined to it. */
export function jailRoot(entry: JailEntry): JailRoot {
  try {
    return enterTarget(entry);
  } catch {
    return { dir: entry.path };
  }
}

/** The cgroup2 directory of a shared-stack jail's address programs: an entered process must join
 * it too, or it would not be under the jail's address rules. */
function netAttach(entry: JailEntry, dirOwner: number): PlanOp[] {
  const dir = entry.cgroups?.net;
  if (typeof dir !== "string" || !isAbsolute(dir) || normalize(dir) !== dir || !dir.startsWith("/sys/fs/cgroup/")) return [];
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || (dirOwner !== 0 && st.uid !== dirOwner)) return [];
  } catch {
    return [];
  }
  return [op("cgroupAttach", [join(dir, "cgroup.procs")], "the jail's address programs")];
}

/** cgroupAttach ops for a container's other v1 hierarchies' directories (one per directory not
 * already among PATHS: a hierarchy of several controllers is recorded under each). */
function joinedAttach(joined: Record<string, string>, paths: CgroupPaths): PlanOp[] {
  const have = new Set(Object.values(paths));
  return [...new Set(Object.values(joined))].filter((d) => !have.has(d)).map((d) => op("cgroupAttach", [join(d, "cgroup.procs")], "the container's other cgroups (freezer, cpuset...)"));
}

/** Gathers the filter, rlimits, id mapping and cgroup attach ops of a jail for planEnter. */
export async function enterContext(entry: JailEntry, dirOwner: number, facts: HostFacts = hostFacts(), dir?: string): Promise<EnterContext> {
  const paths = trustedCgroups(entry, dirOwner) as CgroupPaths;
  // every cgroup the jail has is joined, or the jail is not entered (its limits, a container's
  // freezer and cpuset and, on the shared stack, its address programs would not hold for the
  // entered process)
  const listed = Object.keys(entry.cgroups ?? {});
  const net = netAttach(entry, dirOwner);
  const joined = trustedJoined(entry, dirOwner);
  const untrusted = listed.filter((k) => (k === "net" ? net.length === 0 : !(k in paths) && !(k in joined)));
  if (untrusted.length > 0) {
    const k = untrusted[0]!;
    throw new SysjailError(`sysjail: the jail's ${k} cgroup ${JSON.stringify(String((entry.cgroups as Record<string, unknown>)[k]))} cannot be verified; refusing to enter the jail outside it`, {
      code: "EPERM", phase: "runtime", exitCode: Exit.noPerm,
    });
  }
  const via = enterVia(entry, dir, facts.uid);
  // the filter cache of the caller's own state directory: nobody else can plant a program there
  let filter = await buildFilter(entry.spec, facts.arch, join(stateDir(), "cache"));
  let notify: EnterContext["notify"];
  // a pledged jail's entered processes get a listener too, answered by the entering helper: their
  // refusals are reported, and a pledge without exec lets their own exec through (docs/PLEDGE.md)
  if (entry.spec.policy.pledge?.length) {
    const { listeningFilter } = await import("../seccomp/mark.js");
    notify = { answer: filter.program };
    filter = listeningFilter(filter.program, filter.flags, "answer", facts.arch);
  }
  return {
    ids: entryIdMapping(entry, facts),
    filter,
    notify,
    rlimits: entryRlimits(entry),
    attach: [...(Object.keys(paths).length ? defaultBackend().attachOps(paths) : []), ...joinedAttach(joined, paths), ...net],
    target: via ? { pid: entry.initPid, start: entry.initStart } : enterTarget(entry),
    via,
    landlock: entry.spec.unveil?.length ? landlockFacts() : undefined,
  };
}

/** Runs an enter plan through the helper; resolves to its exit report and the calls its
 * listener saw (a pledged jail; throws on a setup error). */
export async function runEnter(plan: Plan, stdio: StdioOptions, jailPath: string, onStart?: (h: HelperRun) => void): Promise<ExitEvent & { calls: CallEvent[] }> {
  const h = new HelperRun(plan, stdio, false);
  onStart?.(h);
  let error: SysjailError | undefined;
  const calls: CallEvent[] = [];
  for (;;) {
    const ev = await h.next();
    if (!ev) break;
    if (ev.ev === "error") error ??= stepError(ev, jailPath);
    else if (ev.ev === "call") calls.push(ev);
    else if (ev.ev === "exit") {
      if (error) throw error;
      // the helper is in the jail's cgroups: gone before this returns, unless it stays on to
      // relay what the command left running writes (the stdio op's third word, "keep" or "drop")
      if (!plan.ops.some((o) => o.op === "stdio" && o.args.length > 2)) await h.exited();
      return { ...ev, calls };
    }
  }
  if (error) {
    if (error.errno === 3 && error.step === "enter") {
      throw new SysjailError("sysjail: the jail ended before it could be entered", { code: "ESRCH", phase: "runtime", exitCode: 1 });
    }
    throw error;
  }
  throw new SysjailError("sysjail: the helper ended without a report", { code: "EPIPE", phase: "runtime", exitCode: Exit.software });
}

/** The exit status of an entered command: its own, or 128+signal. */
export function enterStatus(ev: ExitEvent): number {
  if (ev.cmdSignal > 0) return 128 + ev.cmdSignal;
  return ev.cmdCode >= 0 ? ev.cmdCode : 1;
}
