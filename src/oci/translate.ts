// config.json to a jail: the JailSpec sysjail plans from, and what the plan then gets on top
// (the OCI process's own capabilities, ids, limits and mounts, pid 1 and the start gate).
import { lstatSync, statSync } from "node:fs";
import { RULESET4_DEVICES } from "../plan/fs.js";
import { Cap, capMask, FORBIDDEN_CAPS, OCI_GRANTABLE_CAPS, ociForbiddenMask, type CapName } from "../plan/caps.js";
import { MountFlag as F, op, PlanFlag, type Plan, type PlanOp } from "../plan/types.js";
import type { IdMapping } from "../plan/ids.js";
import { baseSpec, checkHostname, checkName } from "../spec/validate.js";
import type { JailSpec, Limits } from "../spec/types.js";
import { ociError, type OciConfig, type OciMount, type OciProcess } from "./config.js";
import { fsSources, nameSources } from "./sources.js";
import { inheritAmbient } from "./capsets.js";
import { addHome } from "./home.js";
import { hostIdOf, ociIds, type OciIds } from "./idmap.js";
import { idmapped, idmapsImage } from "./idmapmounts.js";
import { hostIdsAsked, hostNamespacesJoined, sameNamespace } from "./hostids.js";
import { initialUserNs } from "../ids/choose.js";
import { builtin } from "../helper/locate.js";
import { deviceRules, devNodeOps, parseDevices, type OciDevice } from "./devices.js";
import type { DeviceRule } from "../cgroup/devices.js";
import { hostGidRange, PING_GROUP_RANGE } from "./sysctlids.js";

/** rlimit numbers by OCI name (asm-generic/resource.h). */
export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** What the OCI process asks for beyond the JailSpec: applied to the plan by patchPlan. */
export interface ProcessPatch {
  keepCaps: bigint;
  /** process.capabilities.inheritable and ambient, within keepCaps (0 when not given). */
  inheritCaps?: bigint;
  ambientCaps?: bigint;
  rlimits: [number, number, number][];
  uid: number;
  gid: number;
  groups: number[];
  umask?: number | undefined;
  noNewPrivs: boolean;
}

/** The whole patch of a container's plan. */
export interface OciPatch extends ProcessPatch {
  readonlyRoot: boolean;
  /** The root and config.json's binds idmapped onto the container's user namespace (src/oci/idmapmounts.ts). */
  idmap?: boolean | undefined;
  /** Mount ops placed before pivot_root. */
  mounts: PlanOp[];
  domainname?: string | undefined;
  /** config.json's source names of the jail's own kernel filesystems, by destination. */
  sources?: Map<string, string>;
  /** maskedPaths, readonlyPaths, namespaced sysctls and the cgroup mount: ops placed after the
   * mounts, before pivot_root. */
  paths: PlanOp[];
  /** process.oomScoreAdj, written by create into the gated pid 1 (src/oci/oom.ts). */
  oomScoreAdj?: number | undefined;
  /** linux.uidMappings: a pool block's first SIZE ids, or root's own maps (src/oci/idmap.ts). */
  ids?: OciIds | undefined;
  /** Annotation sysjail.ids=host: the host's ids one to one, no pool block (src/oci/hostids.ts). */
  hostIds?: boolean | undefined;
  /** Namespaces joined by path (clone flag and path): network, uts, ipc, pid, mount. */
  joins: [number, string][];
  /** linux.sysctl of those joined namespaces: "nsSysctl" ops, written by the monitor, after the joins. */
  joinedSysctls?: PlanOp[] | undefined;
  /** Clone flags of the namespaces config.json leaves out: the runtime's own are kept (network,
   * uts, ipc, pid). */
  inherit?: number | undefined;
  /** linux.devices made by the helper's monitor (root's containers: src/oci/devices.ts). */
  devices?: OciDevice[] | undefined;
  /** createContainer hook ops (before pivot_root) and startContainer hook ops (src/oci/hooks.ts). */
  hooks?: { create: PlanOp[]; start: PlanOp[]; started?: string | undefined } | undefined;
}

/** The capabilities the process keeps: its bounding set without what a jail may never hold. */
export function processCaps(p: OciProcess, warn: (m: string) => void): bigint {
  const keep: CapName[] = [];
  const never: string[] = [];
  const list = p.capabilities?.bounding ?? [];
  for (const c of list) {
    const name = (c.startsWith("CAP_") ? c.slice(4) : c) as CapName;
    if (!(name in Cap)) { warn(`capability ${c} is unknown here: left out`); continue; }
    if (FORBIDDEN_CAPS.includes(name) && !OCI_GRANTABLE_CAPS.includes(name)) { never.push(c); continue; }
    keep.push(name);
  }
  // one line for all of them (podman --privileged asks for every capability)
  if (never.length === 1) warn(`capability ${never[0]} is never given to a jail: left out`);
  else if (never.length > 1) warn(`capabilities ${never.join(", ")} are never given to a jail: left out`);
  return capMask(keep);
}

/** The process part of the patch (also for exec --process). */
export function processPatch(p: OciProcess, warn: (m: string) => void): ProcessPatch {
  const rlimits: [number, number, number][] = [];
  for (const r of p.rlimits ?? []) {
    const n = RLIMITS[r.type];
    if (n === undefined) throw ociError(`process.rlimits: ${JSON.stringify(r.type)} is not an rlimit (RLIMIT_NOFILE, ...)`);
    rlimits.push([n, r.soft, r.hard]);
  }
  if (p.apparmorProfile) warn(`apparmorProfile ${JSON.stringify(p.apparmorProfile)} cannot be applied by sysjail: ignored`);
  if (p.selinuxLabel) warn(`selinuxLabel ${JSON.stringify(p.selinuxLabel)} cannot be applied by sysjail: ignored`);
  const keepCaps = processCaps(p, warn);
  const { inheritable, ambient } = inheritAmbient(p.capabilities, keepCaps);
  return {
    keepCaps,
    inheritCaps: inheritable,
    ambientCaps: ambient,
    rlimits,
    uid: p.user?.uid ?? 0,
    gid: p.user?.gid ?? 0,
    groups: p.user?.additionalGids ?? [],
    umask: p.user?.umask,
    noNewPrivs: p.noNewPrivileges === true,
  };
}

const DEV_SHM = "/dev/shm";
/** config.json's mount op on /dev/shm, if any: it takes the place of the jail's own tmpfs there (in
 * the devfs' order, which mountinfo then shows as config.json lists it). */
const shmMount = (ops: PlanOp[]) => ops.find((o) => (o.op === "bind" || o.op === "mountFs") && o.args[1] === DEV_SHM);
/** Whether D is /proc, /dev or /sys or under one (string tests: each distinct regular expression
 * a create runs costs it 20-50 us to compile, as V8 keeps no compiled one between processes). */
const underKernelFs = (d: string) => ["/proc", "/dev", "/sys"].some((p) => d.startsWith(p) && (d.length === p.length || d[p.length] === "/"));
const ATTR: Record<string, string> = { ro: F.ro, noexec: F.noexec, strictatime: F.strictatime, noatime: F.noatime, nodiratime: F.nodiratime };
/** Propagation options (runc's table): the flag, and whether it is for the whole tree. */
const PROPAGATION: Record<string, [string, boolean]> = {
  shared: [F.shared, false], rshared: [F.shared, true], slave: [F.slave, false], rslave: [F.slave, true],
  private: [F.private, false], rprivate: [F.private, true], unbindable: [F.unbindable, false], runbindable: [F.unbindable, true],
};
const SKIP_OPT = new Set(["rw", "ro", "bind", "rbind", "nosuid", "nodev", "noexec", "exec", "suid", "dev", "private", "rprivate", "unbindable", "runbindable", "shared", "rshared", "slave", "rslave", "relatime", "norelatime", "noatime", "strictatime", "nodiratime", "sync", "async", "tmpcopyup", "notmpcopyup", "z", "Z", "U", "copy", "nocopy", "idmap"]);

/** config.json mounts the jail does not make itself: binds and tmpfs. /proc, /dev and /sys are
 * the jail's own (its procfs with masked entries, its minimal devfs, a read-only sysfs). Every
 * one is nosuid and nodev, like every extra mount of a jail; missing targets are created, and a
 * mount whose target cannot be made (a read-only root) is skipped with a warning. */
export function mountOps(mounts: OciMount[], warn: (m: string) => void): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const m of mounts) {
    const d = m.destination;
    if (!d.startsWith("/") || d.split("/").includes("..")) throw ociError(`mount ${JSON.stringify(d)}: an absolute destination without '..' is needed`);
    // /dev/shm is the one the engine's to give (podman: a tmpfs of --shm-size it made, bound in,
    // or another container's with --ipc container:X); the rest of /dev, /proc and /sys is the jail's
    if (underKernelFs(d) && d !== DEV_SHM) continue;
    const opts = m.options ?? [];
    const attrs = new Set<string>([F.create, F.nosuid, F.nodev, F.optional]);
    for (const o of opts) if (ATTR[o]) attrs.add(ATTR[o]!);
    // the last propagation option counts (each one replaces the one before, as runc applies them)
    const prop = opts.filter((o) => PROPAGATION[o]).pop();
    if (prop) {
      const [flag, tree] = PROPAGATION[prop]!;
      attrs.add(flag);
      if (tree) attrs.add(F.propagationTree);
    }
    const isBind = m.type === "bind" || opts.includes("bind") || opts.includes("rbind");
    if (isBind) {
      if (!m.source) throw ociError(`mount ${d}: a bind mount needs a source`);
      let st;
      try { st = statSync(m.source); } catch { warn(`mount ${d}: source ${m.source} does not exist: skipped`); continue; }
      // a bind is a copy of a mount of the host, whose access-time mode the kernel locks for a
      // jail's namespace (EPERM): only tmpfs mounts (the jail's own) take one
      const atime = opts.filter((o) => o === "strictatime" || o === "noatime" || o === "nodiratime");
      if (atime.length) {
        for (const f of [F.strictatime, F.noatime, F.nodiratime]) attrs.delete(f);
        warn(`mount ${d}: ${atime.join(", ")} cannot be applied to a bind mount here (it keeps its source's access times): ignored`);
      }
      if (!st.isDirectory()) attrs.add(F.file);
      else attrs.add(F.recursive);
      ops.push(op("bind", [m.source, d, [...attrs].join("")], "OCI bind mount"));
    } else if (m.type === "tmpfs") {
      const fsOpts = opts.filter((o) => !SKIP_OPT.has(o) && /^[a-z_]+(=[A-Za-z0-9.%:_-]+)?$/.test(o));
      // the source config.json names, as mountinfo shows it (a plain word only: sources.ts)
      if (typeof m.source === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(m.source)) fsOpts.push(`source=${m.source}`);
      ops.push(op("mountFs", ["tmpfs", d, [...attrs].join(""), fsOpts.join(",")], "OCI tmpfs"));
    } else {
      warn(`mount ${d} of type ${m.type ?? "?"}: not supported outside /proc, /dev and /sys: skipped`);
    }
  }
  return ops;
}

/** The ops that build a jail's own mount table (none in a joined mount namespace). */
const MOUNT_OPS = new Set(["root", "staging", "mountFs", "bind", "rebind", "mask", "mkdir", "mkfile", "symlink", "pivot"]);

/** clone(2) flags of the namespace types a container may join by path. */
export const JOINABLE: Record<string, number> = { network: 0x40000000, uts: 0x04000000, ipc: 0x08000000, pid: 0x20000000, mount: 0x00020000 };
const NS_TYPES = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];

/** The namespace types a config.json may leave out: the container is then in the runtime's own
 * namespace of that type (runtime-spec), as with podman --network/--ipc/--uts/--pid=host. */
export const INHERITABLE: Record<string, number> = { network: 0x40000000, uts: 0x04000000, ipc: 0x08000000, pid: 0x20000000 };

/** linux.namespaces: the ones to join by path and the ones left out (the runtime's own, as
 * clone flags). Security stance (docs/JAILS.md, Security, "OCI namespaces"): a container always
 * has its own user namespace, so it owns no namespace it joins or inherits and cannot reconfigure
 * it (no address, route, hostname or sysctl of the host's; no raw socket there); network, uts,
 * ipc, pid and mount namespaces may be joined by path, network, uts, ipc and pid left out. A
 * mount namespace left out is refused: the container's mounts would go into the host's table,
 * which sysjail never changes. The cgroup namespace is always the container's own (rooted at its
 * jail's cgroup); user and cgroup left out mean the container's own, as before. */
function namespaceJoins(config: OciConfig, warn: (m: string) => void): { joins: [number, string][]; inherit: number } {
  const list = config.linux?.namespaces;
  // no list at all: every namespace the container's own (as before; runtime-tools always gives one)
  if (list === undefined) return { joins: [], inherit: 0 };
  if (!Array.isArray(list) || !list.every((n) => typeof n === "object" && n && typeof n.type === "string" && (n.path === undefined || typeof n.path === "string"))) {
    throw ociError("linux.namespaces must be a list of {type, path?}");
  }
  const joins: [number, string][] = [];
  const seen = new Set<string>();
  const hostOwn = new Set<string>();
  for (const ns of list) {
    if (!NS_TYPES.includes(ns.type)) throw ociError(`linux.namespaces: ${JSON.stringify(ns.type.slice(0, 40))} is not a namespace type (${NS_TYPES.join(", ")})`);
    if (seen.has(ns.type)) throw ociError(`linux.namespaces: ${ns.type} is listed twice`);
    seen.add(ns.type);
    if (!ns.path) continue;
    const flag = JOINABLE[ns.type];
    if (flag === undefined) throw ociError(`linux.namespaces: joining a ${ns.type} namespace (${ns.path}) is not supported: a container has its own (network, uts, ipc, pid and mount may be joined)`);
    if (!ns.path.startsWith("/")) throw ociError(`linux.namespaces: the ${ns.type} namespace path ${JSON.stringify(ns.path)} must be absolute`);
    // a path naming the runtime's own namespace (a host-network pod's sandbox under CRI: its
    // containers name its network and uts, which are the host's) is that type left out, with every
    // rule of a left-out type; never a join (the monitor refuses to join its own namespace)
    if (INHERITABLE[ns.type] !== undefined && isOwnNamespace(ns.path, ns.type)) { hostOwn.add(ns.type); continue; }
    joins.push([flag, ns.path]);
    if (ns.type === "mount") {
      // the init resolves the console socket and createContainer hook paths where it is: in
      // that table, which may be another container's (anything could be there)
      if (config.process?.terminal === true || (Array.isArray(config.hooks?.createContainer) && config.hooks.createContainer.length)) {
        throw ociError(`linux.namespaces: with a joined mount namespace (${ns.path}) a terminal and createContainer hooks are not supported (their paths would be looked up in that namespace)`);
      }
      warn(`linux.namespaces: the container lives in the mount namespace ${ns.path}: root.path, mounts, maskedPaths and readonlyPaths are not applied there`);
    }
  }
  if (!seen.has("mount")) throw ociError("linux.namespaces has no mount namespace: the container's mounts would go into the runtime's own (the host's) mount table, which sysjail never changes; give it a mount namespace (or join one by path)");
  const inherit = Object.entries(INHERITABLE).reduce((f, [t, flag]) => (seen.has(t) && !hostOwn.has(t) ? f : f | flag), 0);
  return { joins, inherit };
}

/** Whether PATH is the runtime's own namespace of TYPE (the same nsfs inode as /proc/self/ns's);
 * a path that cannot be read is not (the monitor's join reports it). */
function isOwnNamespace(path: string, type: string): boolean {
  return sameNamespace(path, `/proc/self/ns/${type === "network" ? "net" : type}`);
}

const cleanPath = (where: string, p: unknown): string => {
  if (typeof p !== "string" || !p.startsWith("/") || p.split("/").includes("..") || p.includes("\0") || p.includes("\n")) throw ociError(`${where}: ${JSON.stringify(p).slice(0, 80)} must be an absolute path without '..'`);
  return p;
};

/** linux.maskedPaths (hidden: an empty read-only file or directory over them) and
 * linux.readonlyPaths (bound onto themselves read-only, recursively): no symlink anywhere on
 * their path inside the container; missing ones are skipped without a word, as runc does. */
export function pathOps(config: OciConfig): PlanOp[] {
  const l = config.linux ?? {};
  for (const k of ["maskedPaths", "readonlyPaths"] as const) {
    if (l[k] !== undefined && !Array.isArray(l[k])) throw ociError(`linux.${k} must be a list of paths`);
  }
  return [
    ...(l.maskedPaths ?? []).map((p) => op("mask", [cleanPath("linux.maskedPaths", p)], "OCI maskedPaths")),
    ...(l.readonlyPaths ?? []).map((p) => op("rebind", [cleanPath("linux.readonlyPaths", p), [F.ro, F.strict, F.recursive, F.nosuid, F.nodev, F.optional, F.quiet].join("")], "OCI readonlyPaths")),
  ];
}

/** linux.devices of a user's (rootless) container: the names of the host's /dev nodes bound into
 * the container's devfs beside the jail's own (null, zero, full, random, urandom, tty), or
 * undefined when none is added. Only root's monitor makes nodes (src/oci/devices.ts); here a
 * device is the host's node at the same path, which must be of the asked type and numbers. */
export function ociDevices(config: OciConfig): string[] | undefined {
  const list = config.linux?.devices;
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw ociError("linux.devices must be a list of devices");
  const names: string[] = [];
  for (const d of list as Record<string, unknown>[]) {
    const path = typeof d?.path === "string" ? d.path : "";
    const where = `linux.devices: ${JSON.stringify(path.slice(0, 80))}`;
    if (!/^\/dev\/[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/.test(path) || path.split("/").some((c) => c === "." || c === "..")) throw ociError(`${where}: a path under /dev is needed`);
    if (!["c", "u", "b"].includes(d.type as string) || !Number.isInteger(d.major) || !Number.isInteger(d.minor)) throw ociError(`${where}: a type c or b with major and minor numbers is needed`);
    let st;
    try { st = lstatSync(path); } catch { st = undefined; }
    const major = st ? Math.floor(st.rdev / 256) & 0xfff : -1, minor = st ? (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) : -1;
    const typeOk = st && (d.type === "b" ? st.isBlockDevice() : st.isCharacterDevice());
    if (!typeOk || major !== d.major || minor !== d.minor) throw ociError(`${where} (${d.type} ${d.major}:${d.minor}): the host has no such node at that path (a container gets the host's node bound in)`);
    const name = path.slice(5);
    if (!RULESET4_DEVICES.includes(name) && !names.includes(name)) names.push(name);
  }
  return names.length ? [...RULESET4_DEVICES, ...names] : undefined;
}

/** The sysctls a container may set: the ones of its own network, ipc and mqueue namespaces. */
const NAMESPACED_SYSCTL = /^(net\.[A-Za-z0-9_.:@-]+|kernel\.(shmmax|shmall|shmmni|shm_rmid_forced|msgmax|msgmnb|msgmni|sem)|fs\.mqueue\.[a-z_]+)$/;

/** linux.sysctl: namespaced ones of the container's own namespaces written by the init ("sysctl"
 * ops, before pivot_root), those of a namespace it joins by path written by the monitor in that
 * namespace before the clone ("nsSysctl" ops: the container's root is not privileged over a
 * namespace it joins); one of a namespace left out (the runtime's own, also when named by path) or
 * any other name (a host-wide setting) is refused in one line. */
export function sysctlOps(config: OciConfig, joins: [number, string][], inherit = 0): PlanOp[] {
  const sc = config.linux?.sysctl;
  if (sc === undefined) return [];
  if (typeof sc !== "object" || sc === null || Array.isArray(sc)) throw ociError("linux.sysctl must be an object of name: value");
  const ops: PlanOp[] = [];
  for (const [name0, value] of Object.entries(sc)) {
    const name = name0.replaceAll("/", ".");
    if (!NAMESPACED_SYSCTL.test(name) || name.includes("..")) throw ociError(`linux.sysctl: ${JSON.stringify(name0.slice(0, 80))} is not a namespaced sysctl (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* are allowed)`);
    if (typeof value !== "string" || value.includes("\0") || value.includes("\n") || value.length > 1024) throw ociError(`linux.sysctl: the value of ${name} must be a one-line string`);
    const ns = name.startsWith("net.") ? JOINABLE.network! : JOINABLE.ipc!;
    if (inherit & ns) throw ociError(`linux.sysctl: ${name} belongs to the runtime's own (the host's) namespace, which the container shares: a container never changes the host's settings`);
    const path = `/proc/sys/${name.replaceAll(".", "/")}`;
    if (joins.some(([f]) => f === ns)) ops.push(op("nsSysctl", [ns, path, value], `linux.sysctl ${name}, in the namespace joined by path`));
    else ops.push(op("sysctl", [path, value], `linux.sysctl ${name}`));
  }
  return ops;
}

/** A cgroup mount of config.json (podman's /sys/fs/cgroup): the container's own cgroup namespace's
 * cgroup2, always read-only (the jail's limits are not its to change). */
function cgroupOps(mounts: OciMount[]): PlanOp[] {
  return mounts.filter((m) => (m.type === "cgroup" || m.type === "cgroup2") && m.destination === "/sys/fs/cgroup")
    .map(() => op("mountFs", ["cgroup2", "/sys/fs/cgroup", [F.ro, F.strict, F.nosuid, F.nodev, F.noexec, F.optional].join(""), ""], "OCI cgroup mount (read-only)"));
}

function limitsOf(c: OciConfig, warn: (m: string) => void): Limits {
  const r = c.linux?.resources ?? {};
  const l: Limits = {};
  const mem = r.memory?.limit;
  if (typeof mem === "number" && mem > 0) {
    l.memory = mem;
    const sw = r.memory?.swap;
    l.swap = typeof sw === "number" && sw > mem ? sw - mem : 0;
  }
  if (typeof r.pids?.limit === "number" && r.pids.limit > 0) l.pids = r.pids.limit;
  const cpu = r.cpu;
  if (cpu?.quota && cpu.quota > 0 && cpu.period && cpu.period > 0) l.cores = cpu.quota / cpu.period;
  if (cpu?.shares && cpu.shares > 0) l.cpuShares = cpu.shares;
  for (const k of Object.keys(r)) {
    if (!["memory", "pids", "cpu", "devices"].includes(k)) warn(`resources.${k}: accepted, not enforced`);
  }
  return l;
}

/** The jail a container is: its spec and the plan patch. HOMEMEMO: the --root where the HOME
 * answers of confined passwd reads are kept (src/oci/home.ts). */
export function ociJail(id: string, config: OciConfig, rootPath: string, warn: (m: string) => void, running?: Parameters<typeof ociIds>[2], homeMemo?: string): { spec: JailSpec; patch: OciPatch; devices?: string[] | undefined; deviceRules?: DeviceRule[] | undefined } {
  const p = config.process;
  if (!p?.args?.length) throw ociError("config.json: process.args is empty (a container needs a command)");
  const spec = baseSpec(rootPath, config.hostname || id.slice(0, 12));
  checkHostname(spec.hostname);
  spec.name = checkName(id);
  spec.command = p.args;
  for (const kv of p.env ?? []) {
    const i = kv.indexOf("=");
    if (i > 0) spec.env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  addHome(spec.env, p.user?.uid ?? 0, { dir: rootPath }, warn, homeMemo);
  spec.cwd = p.cwd ?? "/";
  spec.limits = limitsOf(config, warn);
  // the container has its own IPC namespace: System V IPC stays inside it
  spec.policy.allowIpc = true;
  const { joins, inherit } = namespaceJoins(config, warn);
  if (inherit & INHERITABLE.uts! && (config.hostname || config.domainname)) throw ociError("hostname: the container has no uts namespace of its own (it shares the runtime's), so it cannot have its own name; leave hostname and domainname out");
  // the runtime's uts namespace: the registry (jls) shows the host's name, which the container has
  if (inherit & INHERITABLE.uts!) {
    // node:os loaded only here: a module load (0.2-0.4 ms) at every create otherwise
    const h = builtin<typeof import("node:os")>("node:os").hostname();
    if (/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(h)) spec.hostname = h;
  }
  // sysjail.ids=host: the host's ids, which needs the container's own pid, ipc and network namespaces
  const hostIds = hostIdsAsked(config, () => [...["pid", "ipc", "network"].filter((t) => inherit & INHERITABLE[t]!), ...hostNamespacesJoined(joins)]);
  const ids = ociIds(config, warn, running);
  if (ids?.kind === "block") spec.idrange = ids.idrange;
  const oom = p.oomScoreAdj;
  if (oom !== undefined && !(Number.isInteger(oom) && oom >= -1000 && oom <= 1000)) throw ociError(`process.oomScoreAdj: ${JSON.stringify(oom)} must be an integer from -1000 to 1000`);
  if (config.linux?.mountLabel) warn("linux.mountLabel cannot be applied by sysjail: ignored");
  const sysctls = sysctlOps(config, joins, inherit);
  const patch: OciPatch = {
    ...processPatch(p, warn),
    readonlyRoot: config.root?.readonly === true,
    // host ids: on-disk owners are the container's already, nothing to idmap
    idmap: !hostIds && idmapsImage(config),
    hostIds,
    mounts: mountOps(config.mounts ?? [], warn),
    domainname: config.domainname,
    sources: fsSources(config.mounts ?? []),
    joins,
    inherit,
    paths: [...cgroupOps(config.mounts ?? []), ...pathOps(config), ...sysctls.filter((o) => o.op === "sysctl")],
    joinedSysctls: sysctls.filter((o) => o.op === "nsSysctl"),
    oomScoreAdj: oom,
    ids,
  };
  // root's monitor makes the nodes, and root's container has a device cgroup; a user's container
  // gets the host's nodes bound in (a user can load no device program nor write v1 device rules),
  // also one of root of a user namespace other than the host's (rootless podman's), which can
  // make no node either (docs/OCI.md, Rootless)
  const devs = parseDevices(config);
  const rules = deviceRules(config);
  if (process.getuid?.() === 0 && initialUserNs()) {
    if (devs.length) patch.devices = devs;
    return { spec, patch, deviceRules: rules };
  }
  if (config.linux?.resources?.devices !== undefined) warn("linux.resources.devices: not enforced for a user's container (no device cgroup; its only device nodes are its devfs's)");
  return { spec, patch, devices: withDeviceBinds(ociDevices(config), config) };
}

/** Rootless podman's `--device`: a bind of the host's node onto the same path under /dev (it can
 * make no node), which a user's container takes as a device (the host's node bound into its
 * devfs, as linux.devices: ociDevices); any other bind under /dev stays the jail's own devfs's. */
export function withDeviceBinds(names: string[] | undefined, config: OciConfig): string[] | undefined {
  const add: string[] = [];
  for (const m of Array.isArray(config.mounts) ? config.mounts : []) {
    const opts = Array.isArray(m?.options) ? m.options : [];
    const isBind = m?.type === "bind" || opts.includes("bind") || opts.includes("rbind");
    const d = typeof m?.destination === "string" ? m.destination : "";
    if (!isBind || m.source !== d || !/^\/dev\/[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/.test(d) || d.split("/").some((c) => c === "." || c === "..")) continue;
    let st;
    try { st = lstatSync(d); } catch { continue; }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) continue;
    const name = d.slice(5);
    if (!RULESET4_DEVICES.includes(name) && !names?.includes(name) && !add.includes(name)) add.push(name);
  }
  if (!add.length) return names;
  return [...(names ?? RULESET4_DEVICES), ...add];
}

/** Applies the process part of a patch to a plan's command ops (a new jail's or an exec's). */
export function patchProcess(ops: PlanOp[], pp: ProcessPatch, ids: IdMapping): PlanOp[] {
  for (const id of [pp.uid, pp.gid, ...pp.groups]) {
    if (id < 0 || id >= ids.count) throw ociError(`process.user: id ${id} is outside the container's id map (0-${ids.count - 1})`);
  }
  const out: PlanOp[] = [];
  for (const o of ops) {
    switch (o.op) {
      case "caps":
        for (const [res, soft, hard] of pp.rlimits) out.push(op("rlimit", [res, soft, hard]));
        if (pp.umask !== undefined) out.push(op("umask", [`0${pp.umask.toString(8)}`]));
        // inheritable and ambient (ambient within inheritable, both within the kept set): a non-root
        // process keeps its ambient set across exec, as with runc (docs/OCI.md); the forbidden
        // mask: the plan's, less CAP_MKNOD when config.json keeps it (caps.ts)
        const forbidden = BigInt(o.args[1] as string) & ociForbiddenMask(pp.keepCaps);
        out.push(op("caps", (pp.inheritCaps || pp.ambientCaps) ? [pp.keepCaps, forbidden, pp.inheritCaps ?? 0n, pp.ambientCaps ?? 0n] : [pp.keepCaps, forbidden]));
        if (!ids.rootless) out.push(op("groups", pp.groups));
        out.push(op("gid", [pp.gid]), op("uid", [pp.uid]));
        break;
      case "groups": case "gid": case "uid": case "umask": break;
      case "nnp": out.push(pp.noNewPrivs ? op("nnp", []) : op("nnp", ["off"], "OCI noNewPrivileges is false")); break;
      case "rlimit": if (!pp.rlimits.some(([r]) => String(r) === String(o.args[0]))) out.push(o); break;
      default: out.push(o);
    }
  }
  return out;
}

/** The container's plan: the command is pid 1 (the OCI flag), held back until `start` writes
 * into GATE; the process's own settings; its mounts; a read-only root; its own filter after
 * the jail's. */
export function patchPlan(plan: Plan, patch: OciPatch, ids0: IdMapping, gate: string | undefined, filter?: { program: Uint8Array; flags: number }): Plan {
  // linux.uidMappings: only the asked ids of the block, or root's own maps (src/oci/idmap.ts)
  const m = patch.ids;
  const size = m?.kind === "block" && m.size < ids0.count ? m.size : undefined;
  const ids = m?.kind === "maps" ? { ...ids0, count: m.count } : size === undefined ? ids0 : { ...ids0, count: size };
  let ops = nameSources(patchProcess(plan.ops, patch, ids), patch.sources ?? new Map());
  if (size !== undefined) {
    ops = ops.map((o) => (o.op === "uidMap" || o.op === "gidMap" ? op(o.op, [`0 ${o.op === "uidMap" ? ids.hostBase : ids.gidBase ?? ids.hostBase} ${size}\n`], "linux.uidMappings") : o));
  }
  if (m?.kind === "maps") ops = ops.map((o) => (o.op === "uidMap" || o.op === "gidMap" ? op(o.op, [o.op === "uidMap" ? m.uidMap : m.gidMap], "linux.uidMappings (root's own)") : o));
  // linux.devices owners as host ids: through root's own maps when it gave some
  const nodeOps = m?.kind !== "maps" ? devNodeOps(patch.devices ?? [], ids) : devNodeOps((patch.devices ?? []).map((d) => {
    const uid = hostIdOf(m.uid, d.uid), gid = hostIdOf(m.gid, d.gid);
    if (uid === undefined || gid === undefined) throw ociError(`linux.devices: ${JSON.stringify(d.path)}: uid ${d.uid} or gid ${d.gid} is outside the container's id maps`);
    return { ...d, uid, gid };
  }), { ...ids, hostBase: 0, gidBase: 0, count: 0xffffffff });
  // a namespace joined or left out (the runtime's) is not the container's: neither made anew nor
  // configured (hostname, loopback, the mqueue and sysfs instances only its owner may mount)
  const inherit = patch.inherit ?? 0;
  const joinedOnly = patch.joins.reduce((f, [flag]) => f | flag, 0);
  const joined = joinedOnly | inherit;
  const ownMnt = !(joined & JOINABLE.mount!);
  const shm = shmMount(patch.mounts);
  // a joined pid namespace's procfs: made by the monitor, mounted by the init where the plan's
  // own proc mount stands (native/src/ocimon.c proc_of_pidns); none in a joined mount namespace
  const procOp = ops.find((o) => o.op === "mountFs" && o.args[0] === "proc");
  const procNs = joined & JOINABLE.pid! && ownMnt && procOp ? [op("procNs", [procOp.args[2]!, procOp.args[3]!], "a procfs of the joined pid namespace, made by the monitor")] : [];
  // a joined mount namespace: the container lives in its mount table, which it does not own
  if (!ownMnt) ops = ops.filter((o) => !MOUNT_OPS.has(o.op));
  ops = ops.flatMap((o) => {
    // a joined namespace is not made anew, and is not the container's to configure
    if (o.op === "clone" && joined) return [op("clone", [Number(o.args[0]) & ~joined], o.note), ...patch.joins.map(([f, p]) => op("nsJoin", [f, p], "linux.namespaces path")), ...(patch.joinedSysctls ?? []), ...procNs];
    // the host's network: its abstract unix sockets (a shim's, say) stay out of reach only by the
    // Landlock scope, which is then required (a kernel without it fails the create)
    if (o.op === "landlockScope" && inherit & JOINABLE.network!) return [op("landlockScope", [o.args[0]!, "required", ...o.args.slice(2)], o.note)];
    if ((o.op === "hostname" || o.op === "domainname") && joined & JOINABLE.uts!) return [];
    if (o.op === "loUp" && joined & JOINABLE.network!) return [];
    // mqueue and sysfs instances belong to the ipc and network namespace: only its owner mounts them
    if (o.op === "mountFs" && ((o.args[0] === "mqueue" && joined & JOINABLE.ipc!) || (o.args[0] === "sysfs" && joined & JOINABLE.network!))) return [];
    if (o.op === "mountFs" && o.args[0] === "tmpfs" && o.args[1] === DEV_SHM && shm) return [shm];
    if (o.op === "root") {
      const root = patch.readonlyRoot ? op("root", [o.args[0]!, F.ro], "OCI root.readonly") : o;
      return [patch.idmap ? idmapped(root) : root];
    }
    if (o.op === "pivot") {
      const binds = patch.mounts.filter((m) => m !== shm);
      return [...(patch.idmap ? binds.map(idmapped) : binds), ...nodeOps, ...patch.paths, ...(patch.hooks?.create ?? []), o];
    }
    if (!ownMnt && o.op === "cwd") return [...patch.paths.filter((p) => p.op === "sysctl"), ...(patch.hooks?.create ?? []), o];
    if (o.op === "hostname" && patch.domainname && !(joined & JOINABLE.uts!)) return [o, op("domainname", [patch.domainname])];
    if (o.op === "seccomp" && filter) return [o, op("seccomp", [filter.flags, filter.program], "the container's own seccomp profile, stacked")];
    return [o];
  });
  // ping_group_range of a joined network namespace: the monitor writes it in its own user
  // namespace, so the container's gids become its own (src/oci/sysctlids.ts)
  const gidMap = ops.find((o) => o.op === "gidMap")?.args[0];
  if (typeof gidMap === "string") {
    ops = ops.map((o) => (o.op === "nsSysctl" && o.args[1] === PING_GROUP_RANGE ? op("nsSysctl", [o.args[0]!, o.args[1], hostGidRange(String(o.args[2]), gidMap)], `${o.note ?? ""} (the container's gids as the monitor's)`) : o));
  }
  ops.push(...(patch.hooks?.start ?? []));
  // the monitor marks the command's exec: how start learns that the user's program runs (and,
  // with startContainer hooks, that they passed)
  const started = patch.hooks?.started;
  // the engine's stdio pipes, host root's: the process's user's, so that it may reopen them
  // (/dev/stderr), as runc gives them (native/src/ocimon.c stdio_owner)
  const owner = m?.kind === "maps" ? [hostIdOf(m.uid, patch.uid), hostIdOf(m.gid, patch.gid)]
    : [patch.uid < ids.count ? ids.hostBase + patch.uid : undefined, patch.gid < ids.count ? (ids.gidBase ?? ids.hostBase) + patch.gid : undefined];
  if (gate && owner[0] !== undefined && owner[1] !== undefined) ops.push(op("stdioOwner", [owner[0], owner[1]], "the container's stdio pipes: the process's user's"));
  if (gate) ops.push(op("startGate", started ? [gate, started] : [gate], "the command waits for `sysjail-oci start`"));
  return { ...plan, flags: plan.flags | PlanFlag.oci, ops };
}
