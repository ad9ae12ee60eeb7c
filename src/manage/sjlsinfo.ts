// What sjls reports per jail: the registry entry joined with live kernel data (processes, usage).
import { userName } from "../host/users.js";
import { jailCaps } from "../plan/caps.js";
import { ownNetns } from "../plan/planner.js";
import type { PolicyOptions, Limits } from "../spec/types.js";
import { cgroupUsage, trustedCgroups } from "./cgroups.js";
import type { JailRef } from "./locate.js";
import { namespaceProcesses, type ProcInfo } from "./proc.js";

/** The policy of a jail as sjls shows it. */
export interface PolicyInfo extends PolicyOptions {
  noNewPrivs: true;
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
  policy: PolicyInfo;
  limits: Limits;
  cgroups: Record<string, string>;
  meta: Record<string, string>;
  stateDir: string;
  /** Present for a live jail whose registry entry is corrupt: the fields that failed. */
  corrupt?: string[];
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
    policy: {
      ...e.spec.policy,
      noNewPrivs: true,
      capabilities: jailCaps({ allowSetHostname: e.spec.policy.allowSetHostname, vnet: e.spec.vnet }).map((c) => c.toLowerCase()),
      ownNetwork: ownNetns(e.spec),
    },
    limits: e.spec.limits,
    cgroups: e.cgroups,
    meta: e.spec.meta ?? {},
    stateDir: ref.dir,
    ...(ref.corrupt ? { corrupt: ref.corrupt } : {}),
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
  if (p.files.length) w.push(`${p.replaceDefault ? "policy" : "+policy"}:${p.files.join(",")}`);
  return w.length ? w.join(",") : "-";
}
