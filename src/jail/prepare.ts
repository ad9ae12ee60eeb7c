// Gathers what planning needs (user, root layout, filter, cgroups) and reserves the jail's id.
import { lstatSync, statSync } from "node:fs";
import { join } from "node:path";
import { SysjailError, Exit } from "../errors.js";
import { hostFacts, type HostFacts } from "../host/facts.js";
import { nestDir } from "./nestpath.js";
import { landlockFacts } from "../host/landlock.js";
import { lookupUser, type UserInfo } from "../host/users.js";
import type { IdMapping } from "../plan/ids.js";
import { chooseIds, type IdChoice } from "../ids/choose.js";
import { releaseEphemeral } from "../ids/leases.js";
import { planJail, type PlanContext } from "../plan/planner.js";
import type { RootLayout } from "../plan/fs.js";
import type { Plan } from "../plan/types.js";
import { isAlive, Registry, type Reservation } from "../registry/store.js";
import { denialsFile, nsSocketPath, stateDir } from "../registry/paths.js";
import type { JailSpec } from "../spec/types.js";
import { buildFilter } from "./filter.js";
import { isThin } from "./thin.js";
import type { NetContext } from "../net/context.js";
import { netMode } from "../net/mode.js";
import type { NetOps } from "../net/plan.js";
import { instanceName } from "../registry/instance.js";
import type { CgroupContext } from "../limits/plan.js";
import type { DeviceRule } from "../cgroup/devices.js";

/** Options shared by everything that starts a jail. */
export interface PrepareOptions {
  /** -j: the state directory. */
  stateDir?: string | undefined;
  /** -d count: 2 and more trace the plan's steps. */
  debug?: number | undefined;
  detach?: boolean | undefined;
  /** Create accounting cgroups even without limits (a full run report). */
  accounting?: boolean | undefined;
  /** Device names for /dev (devfs ruleset result); default ruleset 4. */
  devices?: readonly string[] | undefined;
  /** Do not reserve an id (dry run). */
  dryRun?: boolean | undefined;
  /** The jail's name is no lasting identity (an OCI container id, new at every container): its
   * host id range is an ephemeral lease, returned when the jail ends (src/ids/choose.ts). */
  ephemeralIds?: boolean | undefined;
  /** The jail runs on these ids and leases none (sysjail-oci's sysjail.ids=host, src/oci/hostids.ts). */
  hostIds?: IdMapping | undefined;
  /** Reserve exactly this jid (jail.conf `jid`); an error when it is in use. */
  jid?: number | undefined;
  /** The monitor listens to the command's filter: "answer" (refusals explained in the report),
   * "learn" (every call recorded). A pledge without "exec" always listens (its one exec). */
  notify?: "answer" | "learn" | undefined;
  /** The command's standard output goes to standard error (sysjail --report -). */
  stdoutToStderr?: boolean | undefined;
  /** The root as rootFacts() found it for a prelude already sent (its init phase must match). */
  root?: RootFacts | undefined;
  /** The caller makes the root's missing /proc, /dev and /sys mount points before the clone
   * (sysjail-oci's mountPoints op, as runc makes them in an image FROM scratch): planned as there. */
  kernelMountPoints?: boolean | undefined;
  /** v1 cgroups: the init moves itself into them (cgroupJoin) rather than being attached. */
  cgroupJoin?: boolean | undefined;
  /** The jail's cgroups as the caller planned and prepared them (sysjail-oci's cgroupsPath,
   * src/oci/cgroups.ts): used instead of sysjail's own. */
  cgroups?: CgroupContext | undefined;
  /** The device cgroup's rules (sysjail-oci linux.resources.devices): with them the jail always
   * gets a cgroup (src/cgroup/devices.ts). */
  cgroupDevices?: readonly DeviceRule[] | undefined;
}

/** What the init phase needs to know of the jail root (planner InitPhaseContext). */
export interface RootFacts {
  rootOwner: number;
  layout: RootLayout;
  staging: string;
  /** The jail's id maps, from its range (src/ids/choose.ts). */
  ids: IdMapping;
  /** The range's lease: an ephemeral one is released when the jail ends or fails to start. */
  idChoice: IdChoice;
  /** A thin tree (mkjail thin): the host's /usr is bound read-only at its /usr (src/jail/thin.ts). */
  thin?: boolean | undefined;
}

/** Looks at the jail root: its owner, which mount points it has, where it is attached, and
 * (from the owner and the spec) the jail's host id range, which it leases unless dryRun. */
export function rootFacts(spec: JailSpec, opts: { dryRun?: boolean | undefined; stateDir?: string | undefined; ephemeralIds?: boolean | undefined; hostIds?: IdMapping | undefined; kernelMountPoints?: boolean | undefined } = {}): RootFacts {
  // made before the clone when missing (PrepareOptions.kernelMountPoints): not looked up
  const made = opts.kernelMountPoints === true;
  const rootOwner = statSync(spec.path).uid;
  const idChoice = chooseIds(spec, hostFacts(), {
    rootOwner,
    dryRun: opts.dryRun,
    ephemeral: opts.ephemeralIds,
    hostIds: opts.hostIds,
    runningBase: (key) => {
      const e = new Registry(stateDir(opts.stateDir)).find(key);
      const m = e && e.owner === 0 ? /^\s*0\s+(\d+)\s/.exec(e.idmap?.uidMap ?? "") : null;
      return m ? Number(m[1]) : undefined;
    },
  });
  return {
    rootOwner,
    layout: {
      proc: made || exists(join(spec.path, "proc")),
      dev: made || exists(join(spec.path, "dev")),
      sys: made || exists(join(spec.path, "sys")),
      tmp: exists(join(spec.path, "tmp")),
    },
    // a parent jail's child registry (children.max) is bound from the host like a mount source
    staging: stagingDir(spec, spec.policy.allowNesting ? [nestDir(stateDir(opts.stateDir), 0)] : []),
    ids: idChoice.mapping,
    idChoice,
    thin: isThin(spec.path, process.getuid?.() ?? 0),
  };
}

/** A planned, reserved jail start. */
export interface Prepared {
  plan: Plan;
  facts: HostFacts;
  registry: Registry;
  reservation: Reservation;
  user: UserInfo | undefined;
  /** The jail's cgroups, their stat names and the limits nothing could enforce. */
  cgroups: CgroupContext | undefined;
  /** The cgroup2 directory holding a shared-stack jail's network programs. */
  netCgroup?: string | undefined;
  /** The jail's host id range and its lease. */
  idChoice?: IdChoice | undefined;
}

/** Resolves -u (host database) or -U (the jail's database). */
export function resolveUser(spec: JailSpec): UserInfo | undefined {
  if (!spec.user) return undefined;
  // the jail's database is read confined to its root (a symlink or FIFO there leads nowhere)
  const u = lookupUser(spec.user.name, spec.user.from === "host" ? "/" : { dir: spec.path });
  if (!u) {
    const where = spec.user.from === "host" ? "the host's" : "the jail's";
    throw new SysjailError(`sysjail: unknown user '${spec.user.name}' in ${where} user database`, {
      code: "ENOUSER", phase: "usage", exitCode: Exit.noUser,
    });
  }
  return u;
}

function exists(p: string): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) !== undefined; // no exception for a missing entry
  } catch {
    return false;
  }
}

/** Where the helper attaches the jail's root before pivot_root, in its private mount namespace
 * (the directory is hidden from the rest of the setup): /tmp, unless a bind mount's source is
 * there; then the jail's own path, which the attached root merely covers with itself. */
export function stagingDir(spec: JailSpec, sources: readonly string[] = []): string {
  const all = [...spec.mounts.filter((m) => m.type === "bind").map((m) => m.source), ...sources];
  const underTmp = all.some((s) => s === "/tmp" || s.startsWith("/tmp/"));
  return underTmp && spec.path !== "/" ? spec.path : "/tmp";
}

/** The plan header switches that PrepareOptions decide (planFlags takes them with the spec). */
export function planSwitches(opts: PrepareOptions): { debug: boolean; detach: boolean } {
  return { debug: (opts.debug ?? 0) >= 2, detach: opts.detach ?? false };
}

/** Plans a jail start and reserves its jid and name in the registry. */
export async function prepare(spec: JailSpec, opts: PrepareOptions = {}): Promise<Prepared> {
  let root = opts.root ?? rootFacts(spec, { dryRun: opts.dryRun, stateDir: opts.stateDir, ephemeralIds: opts.ephemeralIds, hostIds: opts.hostIds, kernelMountPoints: opts.kernelMountPoints });
  if (opts.kernelMountPoints) root = { ...root, layout: { ...root.layout, proc: true, dev: true, sys: true } };
  try {
    return await prepareWithRoot(spec, opts, root);
  } catch (err) {
    releaseEphemeral(root.idChoice.file);
    throw err;
  }
}

/** src/seccomp/mark.ts once loaded (a listening jail's start then skips the import's lookup). */
let markModule: typeof import("../seccomp/mark.js") | undefined;

async function prepareWithRoot(spec: JailSpec, opts: PrepareOptions, root: RootFacts): Promise<Prepared> {
  const facts = hostFacts();
  const user = resolveUser(spec);
  const ids = root.ids;
  if (user && (user.uid >= ids.count || user.gid >= ids.count)) {
    throw new SysjailError(
      `sysjail: user '${user.name}' (uid ${user.uid}) is not mapped in this jail (jail ids 0-${ids.count - 1}${ids.rootless ? "; rootless jails map only root" : ""})`,
      { code: "ENOUSER", phase: "usage", exitCode: Exit.noUser },
    );
  }
  const dir = stateDir(opts.stateDir);
  let filter = await buildFilter(spec, facts.arch, join(dir, "cache"));
  let notify: PlanContext["notify"];
  const registry = new Registry(dir);
  const reservation: Reservation = opts.dryRun
    ? { jid: 0, name: spec.name ?? "0", files: [], release: () => undefined }
    : registry.reserve({ ...(spec.name !== undefined ? { name: spec.name } : {}), ...(opts.jid ? { jid: opts.jid } : {}), lease: root.idChoice.file });
  const listen = opts.notify ?? (spec.policy.pledge && !spec.policy.pledge.includes("exec") ? "answer" : undefined);
  if (listen && spec.command?.length) {
    const { listeningFilter } = markModule ??= await import("../seccomp/mark.js");
    // the live count of refused calls (sjls -v), written by the monitor, removed with the jail
    notify = { mode: listen, answer: filter.program, countFile: opts.dryRun ? undefined : denialsFile(dir, reservation.jid) };
    filter = listeningFilter(filter.program, filter.flags, listen, facts.arch);
  }
  // the monitor removes an ephemeral range's lease with the jail's files (before the id reservation, the last)
  if (root.idChoice.file) reservation.files.splice(Math.max(0, reservation.files.length - 1), 0, root.idChoice.file);
  let cgroups: CgroupContext | undefined;
  let netCgroup: string | undefined;
  try {
    const needCg = opts.accounting || opts.cgroupDevices !== undefined || Object.keys(spec.limits).some((k) => !["wall", "openFiles", "fileSize", "tmpSize", "shmSize"].includes(k));
    // the cgroup and network code loads only for jails that use them (start-up time)
    if (opts.cgroups) cgroups = opts.cgroups;
    else if (needCg) {
      const [{ planCgroups }, { defaultBackend }] = await Promise.all([import("../limits/plan.js"), import("../cgroup/select.js")]);
      cgroups = planCgroups(instanceName(dir, reservation.jid), spec.limits, { accounting: opts.accounting ?? false, join: opts.cgroupJoin ?? false, devices: opts.cgroupDevices });
      if (!opts.dryRun) defaultBackend().prepare(cgroups.cgroup);
    }
    let net: NetContext = { mode: "none" };
    let netOps: NetOps | undefined;
    if (netMode(spec, facts.uid) !== "none") {
      const [{ prepareNet }, plan] = await Promise.all([import("../net/context.js"), import("../net/plan.js")]);
      net = prepareNet(spec, {
        uid: facts.uid, jid: reservation.jid, instance: instanceName(dir, reservation.jid), dryRun: opts.dryRun,
        others: () => (opts.dryRun ? [] : registry.list().filter((e) => e.jid !== reservation.jid && isAlive(e))),
      });
      netOps = plan.netOps(spec, net, { cgroupOps: cgroups?.ops, rootUid: ids.hostBase });
    }
    netCgroup = net.cgroupDir;
    // children.max: the registry of the jail's children, owned by the jail's root
    // (loaded only for such a jail: it runs commands as the jail's root to clear leftovers)
    const nest = spec.policy.allowNesting && !opts.dryRun ? (await import("./nest.js")).makeNestDir(dir, reservation.jid, ids.hostBase, ids.gidBase ?? ids.hostBase) : undefined;
    const ctx: PlanContext = {
      nestDir: nest,
      facts,
      jid: reservation.jid,
      stateFiles: reservation.files,
      // a unix socket's path has 107 bytes at most: a longer state directory goes without one
      nsSocket: facts.uid !== 0 && !opts.dryRun && Buffer.byteLength(nsSocketPath(dir, reservation.jid)) < 108 ? nsSocketPath(dir, reservation.jid) : undefined,
      ...root,
      user,
      filter,
      cgroupOps: cgroups?.ops,
      rlimits: cgroups?.rlimits,
      devices: opts.devices,
      ...planSwitches(opts),
      net,
      netOps,
      landlock: landlockFacts(),
      notify,
      stdoutToStderr: opts.stdoutToStderr,
    };
    return { plan: planJail(spec, ctx), facts, registry, reservation, user, cgroups, netCgroup, idChoice: root.idChoice };
  } catch (err) {
    reservation.release();
    throw err;
  }
}
