// planJail: a validated spec and the host facts in, the helper's plan out. Pure: no I/O here.
import { needsTtyGuard, ttyGuardProgram } from "../seccomp/ttyguard.js";
import type { HostFacts } from "../host/facts.js";
import type { UserInfo } from "../host/users.js";
import type { JailSpec } from "../spec/types.js";
import type { NetContext } from "../net/context.js";
import { netMode } from "../net/mode.js";
import type { NetOps } from "../net/plan.js";
import { capMask, FORBIDDEN_CAPS, jailCaps } from "./caps.js";
import { devOps, extraMountOps, procOps, RULESET4_DEVICES, sysOps, type RootLayout } from "./fs.js";
import { idMapOps, idMapping, type IdMapping } from "./ids.js";
import type { LandlockFacts } from "../host/landlock.js";
import { jailLandlock, landlockOp, withUnveil, type LandlockChoice } from "./landlock.js";
import { MountFlag as MF, op, PlanFlag, type Plan, type PlanOp } from "./types.js";

/** Namespace flags (linux/sched.h). */
export const NS = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
} as const;

/** rlimit resource numbers (asm-generic/resource.h). */
export const RLIMIT = { CPU: 0, FSIZE: 1, DATA: 2, STACK: 3, CORE: 4, NPROC: 6, NOFILE: 7, AS: 9 } as const;

/** Everything about the host and this start that the planner may not look up itself. */
export interface PlanContext {
  facts: HostFacts;
  jid: number;
  /** Registry files the helper removes when the jail ends. */
  stateFiles: string[];
  /** A user's jail: the socket on which its monitor serves the jail's namespaces to the owner
   * (the init is not dumpable, so the owner cannot open them itself; native/src/nsserve.c). */
  nsSocket?: string | undefined;
  /** Owner uid of the jail root directory. */
  rootOwner: number;
  /** The jail's id maps (src/ids/choose.ts); default idMapping(facts). */
  ids?: IdMapping | undefined;
  layout: RootLayout;
  /** The resolved user the command runs as (undefined: jail root). */
  user?: UserInfo | undefined;
  /** The compiled system-call filter and seccomp(2) flags. */
  /** handOver: the command sends the listener on its exec channel (src/seccomp/mark.ts). */
  filter?: { program: Uint8Array; flags: number; handOver?: boolean } | undefined;
  /** Cgroup ops (mkdir, write, attach, stat, cpu limit) from the cgroup backend. */
  cgroupOps?: PlanOp[] | undefined;
  /** Extra rlimits (resource, soft, hard) for limits the cgroups could not enforce. */
  rlimits?: [number, number | bigint, number | bigint][] | undefined;
  /** Device names exposed in /dev (the devfs ruleset's choice); default: ruleset 4. */
  devices?: readonly string[] | undefined;
  debug: boolean;
  detach: boolean;
  /** Where the helper attaches the root before pivot_root (a host directory). */
  staging: string;
  /** A thin tree: the host's /usr is bound read-only at /usr (src/jail/thin.ts decides). */
  thin?: boolean | undefined;
  /** A jail with children.max: the host directory that is its registry of child jails, bound at
   * /run/sysjail inside (where jail(8) run by its root keeps state; src/jail/nest.ts). */
  nestDir?: string | undefined;
  /** The jail's network as prepareNet (src/net) found the host; needed when the spec has addresses. */
  net?: NetContext | undefined;
  /** The network's ops (src/net/plan.ts netOps for net and cgroupOps); needed when the spec has
   * addresses. Made by the caller like cgroupOps, so a jail without addresses never loads the
   * network code (the eBPF assembler and programs). */
  netOps?: NetOps | undefined;
  /** The kernel's Landlock ABI (src/host/landlock.ts); undefined: none known (a shared-stack jail
   * is then refused, see src/plan/landlock.ts). */
  landlock?: LandlockFacts | undefined;
  /** The monitor listens to the command's filter (ctx.filter is then the marked program, with
   * the new-listener flag): the unmarked program it answers from, and how. */
  notify?: { mode: "answer" | "learn"; answer: Uint8Array; countFile?: string | undefined } | undefined;
  /** The command's standard output goes to its standard error (sysjail --report -, whose
   * standard output then carries the report alone). */
  stdoutToStderr?: boolean | undefined;
}

/** The environment the command gets. -l cleans it to what sysjail(1) and jail(8) list. */
export function commandEnv(spec: JailSpec, user: UserInfo | undefined): Record<string, string> {
  if (!spec.cleanEnv) return { ...spec.env };
  const env: Record<string, string> = {
    HOME: user?.home ?? "/root",
    SHELL: user?.shell ?? "/bin/sh",
    USER: user?.name ?? "root",
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
  if (spec.env.TERM) env.TERM = spec.env.TERM;
  return env;
}

function cloneFlags(spec: JailSpec, uid: number): number {
  let f = NS.CLONE_NEWUSER | NS.CLONE_NEWPID | NS.CLONE_NEWNS | NS.CLONE_NEWUTS | NS.CLONE_NEWIPC | NS.CLONE_NEWCGROUP;
  if (ownNetns(spec, uid)) f |= NS.CLONE_NEWNET;
  return f;
}

/** A jail has its own network namespace unless it has addresses on the shared stack (which needs
 * root: a rootless caller's addresses live in a private namespace; see src/net/mode.ts). */
export function ownNetns(spec: JailSpec, uid = 0): boolean {
  return netMode(spec, uid) !== "shared";
}

/** The first ops of every jail's plan: its namespaces and id maps. */
function cloneAndMapOps(spec: JailSpec, facts: HostFacts, ids = idMapping(facts)): { clone: PlanOp; maps: PlanOp[] } {
  return {
    clone: op("clone", [cloneFlags(spec, facts.uid)], "user, pid, mount, uts, ipc, cgroup (and net) namespaces"),
    maps: idMapOps(ids),
  };
}

/** What the init phase depends on: the host facts and the jail root as prepare() found them. */
export type InitPhaseContext = Pick<PlanContext, "facts" | "rootOwner" | "layout" | "devices" | "staging" | "ids" | "thin" | "nestDir">;

/** The init phase: the root, its mounts, pivot_root, the hostname and the loopback. They depend
 * on the spec and the root alone, so a prelude can carry them. The root is never an idmapped
 * mount: a tree shows the jail its on-disk owners through the jail's own id map (a tree of the
 * jail's range is the jail's; a root-owned one is nobody's), so nothing jail root writes is ever
 * stored as owned by host root (docs/JAILS.md, Host ids and setuid files). */
export function initPhaseOps(spec: JailSpec, ctx: InitPhaseContext, ids: IdMapping = ctx.ids ?? idMapping(ctx.facts)): PlanOp[] {
  const ops: PlanOp[] = [];
  const netns = ownNetns(spec, ctx.facts.uid);
  ops.push(op("root", [spec.path]));
  ops.push(op("staging", [ctx.staging]));
  if (spec.mountProc && ctx.layout.proc) ops.push(...procOps(spec.policy.allowNesting === true));
  if (spec.mountDev && ctx.layout.dev) {
    ops.push(...devOps(ctx.devices ?? RULESET4_DEVICES, {
      ttyGid: ids.count > 5 ? 5 : undefined,
      shmSize: spec.limits.shmSize,
      mqueue: true,
    }));
  }
  if (ctx.layout.sys) ops.push(...sysOps(netns));
  if (spec.limits.tmpSize !== undefined && ctx.layout.tmp) {
    ops.push(op("mountFs", ["tmpfs", "/tmp", "scud", `mode=1777,size=${spec.limits.tmpSize}`]));
  }
  if (ctx.thin) ops.push(op("bind", ["/usr", "/usr", `${MF.ro}${MF.recursive}${MF.nosuid}${MF.nodev}`], "thin tree: the host's /usr, read-only"));
  // children.max: the kernel caps the user namespaces the jail's ids make (each child jail is one)
  if (spec.policy.allowNesting) ops.push(op("usernsMax", [String(Math.max(0, Number(spec.params?.["children.max"] ?? 0) || 0))], "children.max"));
  if (ctx.nestDir) ops.push(op("bind", [ctx.nestDir, "/run/sysjail", `${MF.strict}${MF.optional}${MF.nosuid}${MF.nodev}`], "children.max: the registry of child jails"));
  ops.push(...extraMountOps(spec.mounts));
  ops.push(op("pivot", [], "pivot_root into the jail; the old root is detached"));
  ops.push(op("hostname", [spec.hostname]));
  if (netns) ops.push(op("loUp", [], "loopback in the jail's network namespace"));
  return ops;
}

/** A prelude: the clone flags and id maps of the jail planJail will plan, and with INIT its init
 * phase, sent to a helper started early: it makes and maps the namespaces, and its init builds
 * the jail's root, while the rest is planned. The helper checks that the whole plan repeats all
 * of it (and these flags, without the prelude bit). */
export function planPrelude(spec: JailSpec, facts: HostFacts, flags: number, init?: Omit<InitPhaseContext, "facts">, ids = init?.ids ?? idMapping(facts)): Plan {
  const { clone, maps } = cloneAndMapOps(spec, facts, ids);
  const phase = init ? initPhaseOps(spec, { ...init, facts }) : [];
  return { mode: "run", flags: flags | PlanFlag.prelude, ops: [clone, ...maps, ...phase] };
}

/** The plan's header flags for a spec. */
export function planFlags(spec: JailSpec, opts: { debug: boolean; detach: boolean }): number {
  let flags = 0;
  if (opts.debug) flags |= PlanFlag.debug;
  if (spec.persist) flags |= PlanFlag.persist;
  if (spec.killOnExit) flags |= PlanFlag.killAll;
  if (opts.detach) flags |= PlanFlag.detach;
  return flags;
}

/** The plan that starts a jail. */
export function planJail(spec: JailSpec, ctx: PlanContext): Plan {
  const ids: IdMapping = ctx.ids ?? idMapping(ctx.facts);
  const mode = netMode(spec, ctx.facts.uid);
  if (mode !== "none" && (ctx.net?.mode !== mode || !ctx.netOps)) {
    throw new Error(`planJail: a jail with addresses needs ctx.net for mode ${mode} (prepareNet) and ctx.netOps (netOps)`);
  }
  const net: NetOps = mode === "none" ? { host: [], init: [] } : ctx.netOps!;
  const ops: PlanOp[] = [];
  const first = cloneAndMapOps(spec, ctx.facts, ids);
  ops.push(first.clone);
  if (ctx.nsSocket) ops.push(op("nsSocket", [ctx.nsSocket, ctx.facts.uid], "the owner enters through the monitor"), op("stateFile", [ctx.nsSocket]));
  for (const f of ctx.stateFiles) ops.push(op("stateFile", [f]));
  if (spec.limits.wall !== undefined) ops.push(op("wallLimit", [Math.ceil(spec.limits.wall)]));
  ops.push(...(ctx.cgroupOps ?? []));
  ops.push(...net.host);
  ops.push(...first.maps);
  ops.push(...initPhaseOps(spec, ctx, ids));
  ops.push(...net.init);
  let scopes = jailLandlock(mode === "shared", ctx.landlock);
  if (spec.unveil) scopes = withUnveil(scopes, spec.unveil, ctx.landlock, spec.unveilBestEffort ?? false);
  if (spec.command && spec.command.length > 0) {
    // the monitor's seccomp listener (native/src/notify.c): the program it answers from
    if (ctx.notify) ops.push(op("notify", [ctx.notify.mode, ctx.notify.answer, ...(ctx.notify.countFile ? [ctx.notify.countFile] : [])], `seccomp listener: ${ctx.notify.mode === "learn" ? "record every call" : "explain refusals"}`));
    const cmd = commandOps(spec, { ...ctx, scopes }, ids);
    if (ctx.stdoutToStderr) cmd.unshift(op("dup2", [2, 1], "the command's standard output is sysjail's standard error"));
    ops.push(...cmd);
  }
  return { mode: "run", flags: planFlags(spec, ctx), ops };
}

/** The command phase: limits, cwd, capabilities, ids, no_new_privs, Landlock scopes, seccomp,
 * exec. Shared by new jails and jexec, so an entered process gets what the jail's own processes
 * got; `scopes` (the landlock op's parameters, src/plan/landlock.ts) is the caller's choice:
 * jailLandlock for a new jail, no domain or the abstract-socket scope alone for an entered one. */
export function commandOps(spec: JailSpec, ctx: Pick<PlanContext, "user" | "filter" | "rlimits"> & { scopes?: LandlockChoice | undefined }, ids: IdMapping, command = spec.command ?? []): PlanOp[] {
  const ops: PlanOp[] = [];
  const lim = spec.limits;
  if (lim.openFiles !== undefined) ops.push(op("rlimit", [RLIMIT.NOFILE, lim.openFiles, lim.openFiles]));
  if (lim.fileSize !== undefined) ops.push(op("rlimit", [RLIMIT.FSIZE, lim.fileSize, lim.fileSize]));
  for (const [res, soft, hard] of ctx.rlimits ?? []) ops.push(op("rlimit", [res, soft, hard]));
  const user = ctx.user;
  const cwd = spec.cwd ?? (spec.cleanEnv && user ? user.home : "/");
  ops.push(op("cwd", [cwd]));
  ops.push(op("caps", [capMask(jailCaps({ allowSetHostname: spec.policy.allowSetHostname, vnet: spec.vnet })), capMask(FORBIDDEN_CAPS)]));
  if (user) {
    if (user.uid >= ids.count || user.gid >= ids.count) {
      throw new RangeError(`user ${user.name} (uid ${user.uid}) is outside the jail's id map (0-${ids.count - 1})`);
    }
    if (!ids.rootless) ops.push(op("groups", user.groups.filter((g) => g < ids.count)));
    ops.push(op("gid", [user.gid]));
    ops.push(op("uid", [user.uid]));
  } else if (!ids.rootless) {
    ops.push(op("groups", []));
  }
  // no_new_privs unless the jail allows setuid programs: the helper then installs the Landlock
  // domain and the filter with CAP_SYS_ADMIN of the jail's user namespace, which it drops before exec
  // (native/src/command.c)
  ops.push(spec.policy.allowSetuid ? op("nnp", ["off"], "setuid programs of the jail's own ids work inside") : op("nnp", []));
  if (ctx.scopes) ops.push(landlockOp(ctx.scopes));
  // a policy of files may let TIOCSTI/TIOCLINUX through: the fixed guard is stacked first
  if (ctx.filter && needsTtyGuard(spec.policy)) ops.push(op("seccomp", [0, ttyGuardProgram()], "terminal guard: TIOCSTI and TIOCLINUX refused whatever the policy"));
  if (ctx.filter) ops.push(op("seccomp", [ctx.filter.flags, ctx.filter.program, ...(ctx.filter.handOver ? ["send"] : [])], "system-call policy, last before exec"));
  for (const [k, v] of Object.entries(commandEnv(spec, user))) ops.push(op("env", [`${k}=${v}`]));
  ops.push(op("exec", [command[0] ?? "", ...command]));
  return ops;
}
