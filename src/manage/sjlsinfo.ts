// What sjls reports per jail: the registry entry joined with live kernel data (processes, usage).
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { userName } from "../host/users.js";
import { denialsFile } from "../registry/paths.js";
import { jailCaps } from "../plan/caps.js";
import { ownNetns } from "../plan/planner.js";
import type { PolicyOptions, Limits } from "../spec/types.js";
import { cgroupUsage, trustedCgroups } from "./cgroups.js";
import type { JailRef } from "./locate.js";
import { namespaceProcesses, type ProcInfo } from "./proc.js";

/** The policy of a jail as sjls shows it. */
export interface PolicyInfo extends PolicyOptions {
  noNewPrivs: boolean;
  /** Capabilities jail root keeps (all of them confined to the jail's user namespace). */
  capabilities: string[];
  /** Its own network namespace (no addresses, or vnet). */
  ownNetwork: boolean;
}

/** One jail as sjls --json prints it. */
export interface JailInfo {
  jid: number;
  name: string;
  hostname: string;
  path: string;
  ip4: string[];
  ip6: string[];
  /** Host pid of the jail's init, and of its monitor. */
  initPid: number;
  monitorPid: number;
  owner: number;
  ownerName: string;
  startedAt: string;
  uptimeSeconds: number;
  command: string[];
  persist: boolean;
  /** Live processes in the jail's pid namespace (its init included). */
  processes: number;
  memoryBytes: number;
  cpuSeconds: number;
  /** Where memory and cpu come from: the jail's cgroup, or the sum over its processes. */
  usageSource: "cgroup" | "processes";
  idmap: { uidMap: string; gidMap: string; rootless: boolean };
  /** Root's jails: the host id range and why the jail has it (docs/JAILS.md, Host ids). */
  ids?: { uid: number; gid: number; count: number; lease: string } | undefined;
  policy: PolicyInfo;
  limits: Limits;
  cgroups: Record<string, string>;
  meta: Record<string, string>;
  stateDir: string;
  /** Present for a live jail whose registry entry is corrupt: the fields that failed. */
  corrupt?: string[];
  /** Calls refused so far, for a jail whose monitor listens (docs/PLEDGE.md); else absent. */
  denials?: number;
}

/** The monitor's live count of refused calls: a file of the jail's state directory, which may
 * be another user's, so read like hostile input: no symlink, regular, non-blocking, 32 bytes,
 * digits only. */
function denialCount(dir: string, jid: number): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(denialsFile(dir, jid), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
    if (!fstatSync(fd).isFile()) return undefined;
    const b = Buffer.alloc(32);
    const n = readSync(fd, b, 0, 32, 0);
    const t = b.subarray(0, n).toString("latin1").trim();
    return /^\d{1,15}$/.test(t) ? Number(t) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A process of a jail with its uid as the jail sees it. */
export interface JailProc extends ProcInfo {
  /** Uid inside the jail (65534, the overflow id, when the host uid is not mapped). */
  jailUid: number;
}

/** Maps a host uid into the jail through its uid_map text ("inside outside count" lines). */
export function jailUid(uidMap: string, hostUid: number): number {
  for (const line of uidMap.trim().split("\n")) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number);
    if (inside === undefined || outside === undefined || count === undefined) continue;
    if (hostUid >= outside && hostUid < outside + count) return inside + (hostUid - outside);
  }
  return 65534;
}

/** The jail's processes, host pid and jail pid side by side. */
export function jailProcesses(ref: JailRef): JailProc[] {
  return namespaceProcesses(ref.entry.initPid).map((p) => ({ ...p, jailUid: jailUid(ref.entry.idmap.uidMap, p.hostUid) }));
}

/** Everything sjls knows about one jail, now. */
export function jailInfo(ref: JailRef, now = Date.now()): JailInfo {
  const e = ref.entry;
  const procs = namespaceProcesses(e.initPid);
  const usage = cgroupUsage(trustedCgroups(e, ref.dirOwner));
  const fromCgroup = usage.memoryBytes !== null && usage.cpuSeconds !== null;
  const started = Date.parse(e.startedAt);
  return {
    jid: e.jid,
    name: e.name,
    hostname: e.hostname,
    path: e.path,
    ip4: e.ip4,
    ip6: e.ip6,
    initPid: e.initPid,
    monitorPid: e.monitorPid,
    owner: e.owner,
    ownerName: userName(e.owner),
    startedAt: e.startedAt,
    uptimeSeconds: Number.isFinite(started) ? Math.max(0, Math.round((now - started) / 1000)) : 0,
    command: e.command,
    persist: e.persist,
    processes: procs.length,
    memoryBytes: fromCgroup ? usage.memoryBytes! : procs.reduce((s, p) => s + p.rssBytes, 0),
    cpuSeconds: fromCgroup ? usage.cpuSeconds! : procs.reduce((s, p) => s + p.cpuSeconds, 0),
    usageSource: fromCgroup ? "cgroup" : "processes",
    idmap: e.idmap,
    ...(e.ids && [e.ids.uid, e.ids.gid, e.ids.count].every(Number.isSafeInteger) && /^[a-z]{1,16}$/.test(String(e.ids.lease))
      ? { ids: { uid: e.ids.uid, gid: e.ids.gid, count: e.ids.count, lease: e.ids.lease } } : {}),
    policy: {
      ...e.spec.policy,
      noNewPrivs: !e.spec.policy.allowSetuid,
      capabilities: jailCaps({ allowSetHostname: e.spec.policy.allowSetHostname, vnet: e.spec.vnet }).map((c) => c.toLowerCase()),
      ownNetwork: ownNetns(e.spec),
    },
    limits: e.spec.limits,
    cgroups: e.cgroups,
    meta: e.spec.meta ?? {},
    stateDir: ref.dir,
    ...(ref.corrupt ? { corrupt: ref.corrupt } : {}),
    ...(() => { const d = ref.corrupt ? undefined : denialCount(ref.dir, e.jid); return d === undefined ? {} : { denials: d }; })(),
  };
}

/** The policy switches that differ from sysjail's defaults, as short words ("-" for none). */
export function policyWords(p: PolicyOptions): string {
  const w: string[] = [];
  if (p.allowRawSockets) w.push("raw-sockets");
  if (p.allowAllDomains) w.push("all-domains");
  if (p.allowIpc) w.push("ipc");
  if (p.allowChflags) w.push("chflags");
  if (p.allowRlimit) w.push("rlimit");
  if (p.allowSetHostname) w.push("set-hostname");
  if (p.allowSetuid) w.push("setuid");
  if (p.files.length) w.push(`${p.replaceDefault ? "policy" : "+policy"}:${p.files.join(",")}`);
  return w.length ? w.join(",") : "-";
}
