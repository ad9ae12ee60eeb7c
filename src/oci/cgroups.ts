// The cgroups of a container with linux.cgroupsPath: its directory in each v1 hierarchy (or the
// v2 one) at that path, config.json's resources written there as given, the init joining them.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detectCgroups, type CgroupLayout } from "../cgroup/detect.js";
import { joinedKeys } from "../cgroup/joined.js";
import { unifiedInto } from "../cgroup/unified.js";
import { DEVICE_ATTACH_TYPE, DEVICE_PROG_TYPE, deviceProgram, devicesV1, type DeviceRule } from "../cgroup/devices.js";
import { procsOf, readText } from "../cgroup/fsutil.js";
import { DEFAULT_BASE, type CgroupPaths } from "../cgroup/types.js";
import type { CgroupContext } from "../limits/plan.js";
import { sharesToWeightV2 } from "../cgroup/update.js";
import { op, type PlanOp } from "../plan/types.js";
import type { CgroupsPath } from "./cgpath.js";
import { ociError, type OciConfig } from "./config.js";

/** config.json's linux.resources. */
export type OciResources = NonNullable<NonNullable<OciConfig["linux"]>["resources"]>;

/** A container's cgroups: the jail's cgroup context (ops, the registry's paths) and its freezer. */
export interface OciCgroups {
  ctx: CgroupContext;
  /** v1: the freezer hierarchy's directory (freezer.state); v2: the directory (cgroup.freeze). */
  freezer?: string | undefined;
  /** The directories the monitor makes (and removes when the container ends). */
  made: string[];
}

/** One hierarchy: its mount, its controllers, and the runtime's own cgroup in it. BARE: a hybrid
 * host's unified hierarchy beside the v1 ones, joined for the cgroup namespace alone (no limit,
 * no record, no device program there). */
interface Hierarchy { mount: string; controllers: string[]; own: string; v2: boolean; bare?: boolean }

/** The hierarchies a container joins: every v1 one (as runc), or the unified one of a v2 host. */
export function hierarchies(layout: CgroupLayout): Hierarchy[] {
  const strip = (own: string, mountRoot: string) => (mountRoot !== "/" && own.startsWith(mountRoot) ? own.slice(mountRoot.length) || "/" : own);
  const v1 = layout.mounts.filter((m) => m.version === 1);
  const u = layout.mounts.find((m) => m.version === 2 && m.path === layout.v2?.path);
  if (v1.some((m) => m.controllers.includes("memory") || m.controllers.includes("pids"))) {
    const seen = new Set<string>();
    const hs: Hierarchy[] = v1.filter((m) => !seen.has(m.path) && seen.add(m.path)).map((m) => ({
      mount: m.path, controllers: m.controllers, own: strip(layout.self[m.controllers[0] ?? ""] ?? "/", m.mountRoot), v2: false,
    }));
    // Security: a hybrid host's unified hierarchy too, an empty leaf of the container's own. The
    // container's cgroup namespace is rooted at its cgroup in every hierarchy, the unified one
    // included: without this it stayed the runtime's (often the root), and the container's
    // cgroup2 mount showed the host's whole unified tree (other containers' cgroups, a line per
    // host process in cgroup.procs). docs/JAILS.md, Security, "OCI runtime audit (2026-12-07)".
    if (u) hs.push({ mount: u.path, controllers: [], own: strip(layout.self[""] ?? "/", u.mountRoot), v2: true, bare: true });
    return hs;
  }
  return u ? [{ mount: u.path, controllers: u.controllers, own: strip(layout.self[""] ?? "/", u.mountRoot), v2: true }] : [];
}

const num = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

/** v1 writes of the resources for the controllers of one hierarchy, in the order the kernel
 * needs (a limit before memory+swap, a period before its quota). */
function v1Writes(h: Hierarchy, r: OciResources, warn: (m: string) => void): [string, string][] {
  const w: [string, string][] = [];
  const has = (c: string) => h.controllers.includes(c);
  const m = r.memory as Record<string, unknown> | undefined;
  if (has("memory") && m) {
    if (num(m.limit)) w.push(["memory.limit_in_bytes", String(m.limit)]);
    if (num(m.swap)) {
      if (existsSync(join(h.mount, "memory.memsw.limit_in_bytes"))) w.push(["memory.memsw.limit_in_bytes", String(m.swap)]);
      else warn("resources.memory.swap: the kernel has no swap accounting (memory.memsw.*): not enforced");
    }
    if (num(m.reservation)) w.push(["memory.soft_limit_in_bytes", String(m.reservation)]);
    if (num(m.swappiness) && m.swappiness >= 0 && m.swappiness <= 100) w.push(["memory.swappiness", String(m.swappiness)]);
    if (m.disableOOMKiller === true) w.push(["memory.oom_control", "1"]);
  }
  const p = r.pids as Record<string, unknown> | undefined;
  if (has("pids") && p && num(p.limit) && p.limit !== 0) w.push(["pids.max", p.limit > 0 ? String(p.limit) : "max"]);
  const c = r.cpu as Record<string, unknown> | undefined;
  if (has("cpu") && c) {
    if (num(c.shares) && c.shares > 0) w.push(["cpu.shares", String(c.shares)]);
    if (num(c.period) && c.period > 0) w.push(["cpu.cfs_period_us", String(c.period)]);
    if (num(c.quota) && c.quota !== 0) w.push(["cpu.cfs_quota_us", String(c.quota > 0 ? c.quota : -1)]);
    for (const [k, f] of [["realtimePeriod", "cpu.rt_period_us"], ["realtimeRuntime", "cpu.rt_runtime_us"]] as const) {
      if (!num(c[k])) continue;
      if (existsSync(join(h.mount, f))) w.push([f, String(c[k])]);
      else warn(`resources.cpu.${k}: the kernel has no ${f} (CONFIG_RT_GROUP_SCHED): not enforced`);
    }
  }
  if (has("cpuset") && c) w.push(...cpusetWrites(c));
  return w;
}

/** cpuset.cpus and cpuset.mems from resources.cpu (the same files on v1 and v2). */
function cpusetWrites(c: Record<string, unknown>): [string, string][] {
  const w: [string, string][] = [];
  if (typeof c.cpus === "string" && c.cpus) w.push(["cpuset.cpus", c.cpus]);
  if (typeof c.mems === "string" && c.mems) w.push(["cpuset.mems", c.mems]);
  return w;
}

/** v2 writes: memory.max, memory.swap.max (OCI's swap is memory plus swap), memory.low,
 * pids.max, cpu.weight (from shares, as runc converts), cpu.max, cpuset.*. */
function v2Writes(h: Hierarchy, r: OciResources): [string, string][] {
  const w: [string, string][] = [];
  const has = (ctl: string) => h.controllers.includes(ctl);
  const max = (n: number) => (n < 0 ? "max" : String(n));
  const m = r.memory as Record<string, unknown> | undefined;
  if (has("memory") && m) {
    if (num(m.limit)) w.push(["memory.max", max(m.limit)]);
    if (num(m.swap)) w.push(["memory.swap.max", m.swap < 0 ? "max" : String(Math.max(0, m.swap - (num(m.limit) && m.limit > 0 ? m.limit : 0)))]);
    if (num(m.reservation)) w.push(["memory.low", max(m.reservation)]);
  }
  const p = r.pids as Record<string, unknown> | undefined;
  if (has("pids") && p && num(p.limit) && p.limit !== 0) w.push(["pids.max", max(p.limit)]);
  const c = r.cpu as Record<string, unknown> | undefined;
  if (has("cpu") && c) {
    if (num(c.shares) && c.shares > 0) w.push(["cpu.weight", String(sharesToWeightV2(c.shares))]);
    if ((num(c.quota) && c.quota !== 0) || (num(c.period) && c.period > 0)) {
      w.push(["cpu.max", `${num(c.quota) && c.quota > 0 ? c.quota : "max"} ${num(c.period) && c.period > 0 ? c.period : 100000}`]);
    }
  }
  if (has("cpuset") && c) w.push(...cpusetWrites(c));
  return w;
}

/** Whether DIR is an existing directory (a file of the same name is refused). */
function isDir(v: string, dir: string): boolean {
  try {
    // a missing one (every new container's own) answers undefined: an exception, made and
    // thrown for each of the nine hierarchies of a hybrid host, cost create about 0.15 ms
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st === undefined) return false;
    if (st.isDirectory()) return true;
  } catch {
    return false;
  }
  throw ociError(`linux.cgroupsPath ${JSON.stringify(v).slice(0, 100)}: ${dir} is a file, not a cgroup`);
}

/** The processes in DIR, a directory above the container's own, or undefined when DIR is
 * missing. Its cgroup.procs is read at once (every cgroup has one): DIR's stat only when that
 * fails (missing, a file, or unreadable), as isDir and procsOf would answer. */
function procsAbove(v: string, dir: string): number[] | undefined {
  let text: string;
  try {
    text = readFileSync(`${dir}/cgroup.procs`, "utf8");
  } catch {
    return isDir(v, dir) ? procsOf(dir) : undefined;
  }
  return text ? procsOf(dir, text) : [];
}

/** Writes "+c" into DIR's cgroup.subtree_control for each controller not yet on there. */
function enableV2(dir: string, want: string[]): void {
  if (!want.length) return; // a hybrid host's bare unified hierarchy: nothing to read
  const on = (readText(join(dir, "cgroup.subtree_control")) ?? "").split(/\s+/);
  const add = want.filter((c) => !on.includes(c));
  if (!add.length) return;
  try {
    writeFileSync(join(dir, "cgroup.subtree_control"), add.map((c) => `+${c}`).join(" "));
  } catch (err) {
    throw ociError(`cannot enable the ${add.join(", ")} cgroup controllers in ${dir}: ${(err as NodeJS.ErrnoException).code}`);
  }
}

/** Plans (and prepares) the cgroups of a container at PATH. Security (docs/OCI.md, "cgroupsPath"):
 * the path is root's config, but it must not turn the container's limits, its membership or its
 * removal onto processes that are not its own. So its directory is refused when it holds any
 * process already (limits written there would bind them, `delete` would kill them), when a
 * directory above it between the hierarchy's root (or, for a relative path, the runtime's own
 * cgroup) and it holds processes (the container would sit inside another container's or a
 * service's cgroup), and below sysjail's own jails' tree. Every check is made before anything
 * is created. Missing parents are made here and left, as runc leaves them (another container may
 * share them); the leaf is made by the monitor, which removes it when the container ends; an
 * existing empty leaf (an engine's, made beforehand) is joined and never removed. */
export function ociCgroups(v: string, path: CgroupsPath, r: OciResources | undefined, warn: (m: string) => void, layout: CgroupLayout = detectCgroups(), devices?: readonly DeviceRule[]): OciCgroups {
  const hs = hierarchies(layout);
  if (!hs.length) throw ociError(`linux.cgroupsPath ${JSON.stringify(v).slice(0, 100)}: this host has no writable cgroup hierarchy`);
  const res = r ?? {};
  const plans = hs.map((h) => {
    const base = path.absolute ? h.mount : join(h.mount, h.own);
    const chain: string[] = [];
    // segments are checked names (src/oci/cgpath.ts: no "", "." or ".."): appended, not joined
    for (let d = base, i = 0; i < path.segments.length; i++) chain.push((d = `${d.endsWith("/") ? d.slice(0, -1) : d}/${path.segments[i]!}`));
    const leaf = chain[chain.length - 1]!;
    if (leaf.slice(h.mount.length + 1).split("/")[0] === DEFAULT_BASE) throw ociError(`linux.cgroupsPath ${JSON.stringify(v).slice(0, 100)}: ${leaf} is inside the cgroups of sysjail's jails`);
    // which of them exist, found once: the parents missing now are made below, the leaf by the
    // monitor (asking again there cost two syscalls and cold code per hierarchy, nine on a hybrid host)
    const exists = chain.map((d) => {
      // the leaf is usually missing (a stat, no exception); the directories above usually exist
      const procs = d === leaf ? (isDir(v, d) ? procsOf(d) : undefined) : procsAbove(v, d);
      if (procs === undefined) return false;
      if (procs.length) {
        throw ociError(`linux.cgroupsPath ${JSON.stringify(v).slice(0, 100)}: ${d} holds processes ${d === leaf ? "already (a container gets an empty cgroup of its own)" : "(a container's cgroup is not placed inside another's)"}`);
      }
      return true;
    });
    return { h, chain, leaf, exists };
  });
  const ops: PlanOp[] = [], joins: PlanOp[] = [], writes: PlanOp[] = [], made: string[] = [];
  const paths: CgroupPaths = {};
  const joined: Record<string, string> = {};
  let freezer: string | undefined;
  let devicesDone = false;
  for (const { h, chain, leaf, exists } of plans) {
    // the parents, made now: v1 cpuset ones take their parent's cpus and mems (else no task may join)
    for (const [i, d] of chain.slice(0, -1).entries()) {
      if (exists[i]) continue;
      try {
        mkdirSync(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw ociError(`linux.cgroupsPath: cannot make ${d}: ${(err as NodeJS.ErrnoException).code}`);
      }
      if (!h.v2 && h.controllers.includes("cpuset")) for (const f of ["cpuset.cpus", "cpuset.mems"]) inherit(join(d, f));
    }
    if (h.v2) {
      const want = ["memory", "pids", "cpu", "cpuset"].filter((c) => h.controllers.includes(c));
      for (const d of [h.mount, ...chain.slice(0, -1)].filter((d, i) => i === 0 || d.startsWith(`${h.mount}/`))) enableV2(d, want);
    }
    // a leaf made meanwhile by someone else is not joined unchecked: the monitor's mkdir fails
    const fresh = !exists[exists.length - 1];
    if (fresh) {
      ops.push(op("cgroupMkdir", [leaf], "linux.cgroupsPath"));
      made.push(leaf);
    }
    const w = h.v2 ? v2Writes(h, res) : v1Writes(h, res, warn);
    if (!h.v2 && h.controllers.includes("cpuset") && fresh) {
      // a new v1 cpuset is empty: it takes its parent's unless config.json names its own
      for (const f of ["cpuset.cpus", "cpuset.mems"]) {
        if (!w.some(([k]) => k === f)) w.unshift([f, (readText(join(chain.length > 1 ? chain[chain.length - 2]! : path.absolute ? h.mount : join(h.mount, h.own), f)) ?? "").trim()]);
      }
    }
    // the device rules (src/cgroup/devices.ts) before the init joins: v1's devices hierarchy, v2's program
    if (h.bare) {
      // born there (clone3 CLONE_INTO_CGROUP): a cgroup.procs write would wait for an RCU grace period
      joins.push(unifiedInto(leaf));
      continue;
    }
    if (devices && h.v2) writes.push(op("bpfProg", ["sj_devices", DEVICE_PROG_TYPE, DEVICE_ATTACH_TYPE, leaf, 0, deviceProgram(devices)], "the jail's device rules"));
    else if (devices && h.controllers.includes("devices")) writes.push(...devicesV1(leaf, devices).ops);
    if (devices && (h.v2 || h.controllers.includes("devices"))) devicesDone = true;
    // v1's devices hierarchy is recorded with rules or without (the init is in it either way)
    if ((devices && h.v2) || (!h.v2 && h.controllers.includes("devices"))) record(paths, "devices", leaf, h.mount);
    for (const [f, val] of w) if (val !== "") writes.push(op("cgroupWrite", [`${leaf}/${f}`, val], "linux.resources"));
    joins.push(h.v2 ? op("cgroupAttach", [`${leaf}/cgroup.procs`]) : op("cgroupJoin", [`${leaf}/tasks`], "the container's init moves itself here before it runs"));
    for (const c of ["memory", "pids", "cpu", "cpuacct"] as const) if (h.v2 || h.controllers.includes(c)) record(paths, c, leaf, h.mount);
    // the other v1 hierarchies (cpuset, freezer...): recorded so that exec and jexec join them too
    if (!h.v2) for (const k of joinedKeys(h.controllers)) if (recordable(leaf, h.mount)) joined[k] = leaf;
    if (h.v2 || h.controllers.includes("freezer")) freezer = leaf;
  }
  if (devices && !devicesDone) warn("linux.resources.devices: this host has no devices cgroup hierarchy: device rules not enforced");
  const all = [...ops, ...writes, ...joins];
  const ctx: CgroupContext = {
    ops: all, paths, joined, rlimits: [], stats: {}, unenforced: [], rlimited: [], notes: [],
    cgroup: { backend: plans[0]!.h.v2 ? "v2" : "v1", ops: all, paths, stats: {}, unenforced: [], parents: [], notes: [] },
  };
  return { ctx, freezer, made };
}

/** Whether the registry takes DIR, a cgroup in the hierarchy mounted at MOUNT: below
 * /sys/fs/cgroup/ and strictly below its hierarchy's root (a v2 host's /sys/fs/cgroup/x is, as
 * is a v1 host's /sys/fs/cgroup/pids/x; /sys/fs/cgroup/pids never). */
export function recordable(dir: string, mount: string): boolean {
  if (mount !== "/sys/fs/cgroup" && !mount.startsWith("/sys/fs/cgroup/")) return false;
  return dir.startsWith(`${mount}/`) && dir.slice(mount.length + 1).split("/").filter(Boolean).length >= 1;
}

/** Records a controller's directory for the registry (jls, update, exec) when it is one the
 * registry takes (recordable). */
function record(paths: CgroupPaths, c: keyof CgroupPaths, dir: string, mount: string): void {
  if (recordable(dir, mount)) paths[c] = dir;
}

/** Copies a new v1 cpuset directory's cpus or mems from its parent's. */
function inherit(file: string): void {
  const own = (readText(file) ?? "").trim();
  if (own) return;
  const parent = (readText(join(file, "..", "..", file.slice(file.lastIndexOf("/") + 1))) ?? "").trim();
  if (parent) writeFileSync(file, parent);
}
