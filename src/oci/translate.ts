// config.json to a jail: the JailSpec sysjail plans from, and what the plan then gets on top
// (the OCI process's own capabilities, ids, limits and mounts, pid 1 and the start gate).
import { statSync } from "node:fs";
import { Cap, capMask, FORBIDDEN_CAPS, OCI_GRANTABLE_CAPS, ociForbiddenMask, type CapName } from "../plan/caps.js";
import { MountFlag as F, op, PlanFlag, type Plan, type PlanOp } from "../plan/types.js";
import type { IdMapping } from "../plan/ids.js";
import { baseSpec, checkHostname, checkName } from "../spec/validate.js";
import type { JailSpec, Limits } from "../spec/types.js";
import { ociError, type OciConfig, type OciMount, type OciProcess } from "./config.js";
import { fsSources, nameSources } from "./sources.js";
import { inheritAmbient } from "./capsets.js";

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
  /** Mount ops placed before pivot_root. */
  mounts: PlanOp[];
  domainname?: string | undefined;
  /** config.json's source names of the jail's own kernel filesystems, by destination. */
  sources?: Map<string, string>;
}

/** The capabilities the process keeps: its bounding set without what a jail may never hold. */
export function processCaps(p: OciProcess, warn: (m: string) => void): bigint {
  const keep: CapName[] = [];
  for (const c of p.capabilities?.bounding ?? []) {
    const name = c.replace(/^CAP_/, "") as CapName;
    if (!(name in Cap)) { warn(`capability ${c} is unknown here: left out`); continue; }
    if (FORBIDDEN_CAPS.includes(name) && !OCI_GRANTABLE_CAPS.includes(name)) { warn(`capability ${c} is never given to a jail: left out`); continue; }
    keep.push(name);
  }
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
  if (p.oomScoreAdj !== undefined && !(Number.isInteger(p.oomScoreAdj) && p.oomScoreAdj >= -1000 && p.oomScoreAdj <= 1000)) {
    throw ociError(`process.oomScoreAdj: ${JSON.stringify(p.oomScoreAdj)}: an integer -1000..1000 is allowed`);
  }
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

const underKernelFs = (d: string) => /^\/(proc|dev|sys)(\/|$)/.test(d);
const ATTR: Record<string, string> = { ro: F.ro, noexec: F.noexec };
const SKIP_OPT = new Set(["rw", "ro", "bind", "rbind", "nosuid", "nodev", "noexec", "exec", "suid", "dev", "private", "rprivate", "shared", "rshared", "slave", "rslave", "relatime", "norelatime", "noatime", "strictatime", "nodiratime", "sync", "async", "tmpcopyup", "notmpcopyup", "z", "Z", "U", "copy", "nocopy", "idmap"]);

/** config.json mounts the jail does not make itself: binds and tmpfs. /proc, /dev and /sys are
 * the jail's own (its procfs with masked entries, its minimal devfs, a read-only sysfs). Every
 * one is nosuid and nodev, like every extra mount of a jail; missing targets are created, and a
 * mount whose target cannot be made (a read-only root) is skipped with a warning. */
export function mountOps(mounts: OciMount[], warn: (m: string) => void): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const m of mounts) {
    const d = m.destination;
    if (!d.startsWith("/") || d.split("/").includes("..")) throw ociError(`mount ${JSON.stringify(d)}: an absolute destination without '..' is needed`);
    if (underKernelFs(d)) continue;
    const opts = m.options ?? [];
    const attrs = new Set<string>([F.create, F.nosuid, F.nodev, F.optional]);
    for (const o of opts) if (ATTR[o]) attrs.add(ATTR[o]!);
    const isBind = m.type === "bind" || opts.includes("bind") || opts.includes("rbind");
    if (isBind) {
      if (!m.source) throw ociError(`mount ${d}: a bind mount needs a source`);
      let st;
      try { st = statSync(m.source); } catch { warn(`mount ${d}: source ${m.source} does not exist: skipped`); continue; }
      if (!st.isDirectory()) attrs.add(F.file);
      else attrs.add(F.recursive);
      ops.push(op("bind", [m.source, d, [...attrs].join("")], "OCI bind mount"));
    } else if (m.type === "tmpfs") {
      const fsOpts = opts.filter((o) => !SKIP_OPT.has(o) && /^[a-z_]+(=[A-Za-z0-9.%:_-]+)?$/.test(o));
      ops.push(op("mountFs", ["tmpfs", d, [...attrs].join(""), fsOpts.join(",")], "OCI tmpfs"));
    } else {
      warn(`mount ${d} of type ${m.type ?? "?"}: not supported outside /proc, /dev and /sys: skipped`);
    }
  }
  return ops;
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

/** The jail a container is: its spec and the plan patch. */
export function ociJail(id: string, config: OciConfig, rootPath: string, warn: (m: string) => void): { spec: JailSpec; patch: OciPatch } {
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
  spec.cwd = p.cwd ?? "/";
  spec.limits = limitsOf(config, warn);
  // the container has its own IPC namespace: System V IPC stays inside it
  spec.policy.allowIpc = true;
  for (const ns of config.linux?.namespaces ?? []) {
    if (ns.path) warn(`namespace ${ns.type} with path ${ns.path}: joining is not supported; the container gets its own`);
  }
  if (config.linux?.sysctl && Object.keys(config.linux.sysctl).length) warn("linux.sysctl: not applied");
  if (config.linux?.mountLabel) warn("linux.mountLabel cannot be applied by sysjail: ignored");
  const patch: OciPatch = {
    ...processPatch(p, warn),
    readonlyRoot: config.root?.readonly === true,
    mounts: mountOps(config.mounts ?? [], warn),
    domainname: config.domainname,
    sources: fsSources(config.mounts ?? []),
  };
  return { spec, patch };
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
        // inheritable and ambient for the container's root only: a process of another uid keeps
        // no capability past execve (docs/JAILS.md), ambient ones included
        // the forbidden mask: the plan's, less CAP_MKNOD when config.json keeps it (caps.ts)
        const forbidden = BigInt(o.args[1] as string) & ociForbiddenMask(pp.keepCaps);
        out.push(op("caps", pp.uid === 0 && (pp.inheritCaps || pp.ambientCaps) ? [pp.keepCaps, forbidden, pp.inheritCaps ?? 0n, pp.ambientCaps ?? 0n] : [pp.keepCaps, forbidden]));
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
export function patchPlan(plan: Plan, patch: OciPatch, ids: IdMapping, gate: string | undefined, filter?: { program: Uint8Array; flags: number }): Plan {
  let ops = nameSources(patchProcess(plan.ops, patch, ids), patch.sources ?? new Map());
  ops = ops.flatMap((o) => {
    if (o.op === "root" && patch.readonlyRoot) return [op("root", [o.args[0]!, F.ro], "OCI root.readonly")];
    if (o.op === "pivot") return [...patch.mounts, o];
    if (o.op === "hostname" && patch.domainname) return [o, op("domainname", [patch.domainname])];
    if (o.op === "seccomp" && filter) return [o, op("seccomp", [filter.flags, filter.program], "the container's own seccomp profile, stacked")];
    return [o];
  });
  if (gate) ops.push(op("startGate", [gate], "the command waits for `sysjail-oci start`"));
  return { ...plan, flags: plan.flags | PlanFlag.oci, ops };
}
