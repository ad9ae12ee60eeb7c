// update: new memory, pids and cpu limits written into a running container's cgroups.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PIDS_OVERHEAD } from "../cgroup/pids.js";
import { usageError } from "../errors.js";
import { sharesToWeight } from "./cgroups.js";
import { ociError } from "./config.js";
import { jailEntry, type Globals } from "./lifecycle.js";
import { readRecord, statusOf } from "./state.js";

/** The limits update sets; any left out stays as it is. IGNORED names what a resources document
 * asked for that update does not change (a warning). */
export interface UpdateArgs { memory?: number; memorySwap?: number; pids?: number; cpuQuota?: number; cpuPeriod?: number; cpuShares?: number; cpusetCpus?: string; cpusetMems?: string; ignored?: string[] }

/** A byte count as runc takes it: a number with an optional k, m, g (powers of 1024), or -1. */
export function sizeArg(name: string, v: string): number {
  const m = /^(-1|\d+)([kmg]?)b?$/i.exec(v.trim());
  if (!m) throw usageError(`--${name} ${JSON.stringify(v.slice(0, 40))}: a number of bytes (with k, m or g), or -1 for no limit`);
  if (m[1] === "-1") return -1;
  return Number(m[1]) * 1024 ** ("kmg".indexOf((m[2] || "_").toLowerCase()) + 1);
}

/** An integer option: -1 (no limit) or a positive number. */
export function intArg(name: string, v: string): number {
  if (!/^(-1|\d+)$/.test(v.trim())) throw usageError(`--${name} ${JSON.stringify(v.slice(0, 40))}: a whole number, or -1 for no limit`);
  return Number(v);
}

/** The limits of an OCI LinuxResources JSON document (update -r FILE, "-" for stdin). */
export function resourcesFile(file: string): UpdateArgs {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file === "-" ? 0 : file, "utf8"));
  } catch (err) {
    throw ociError(`--resources ${file}: ${err instanceof SyntaxError ? "not valid JSON" : (err as NodeJS.ErrnoException).code}`);
  }
  const r = raw as { memory?: { limit?: unknown; swap?: unknown }; pids?: { limit?: unknown }; cpu?: { quota?: unknown; period?: unknown; shares?: unknown; cpus?: unknown; mems?: unknown } };
  if (typeof r !== "object" || r === null) throw ociError(`--resources ${file}: must hold a JSON object`);
  const num = (v: unknown, what: string) => {
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || (v as number) < -1) throw ociError(`--resources ${file}: ${what} must be a whole number (-1 for no limit)`);
    return v as number;
  };
  const out: UpdateArgs = {};
  const set = (k: "memory" | "memorySwap" | "pids" | "cpuQuota" | "cpuPeriod", v: number | undefined) => { if (v !== undefined) out[k] = v; };
  set("memory", num(r.memory?.limit, "memory.limit"));
  set("memorySwap", num(r.memory?.swap, "memory.swap"));
  set("pids", num(r.pids?.limit, "pids.limit"));
  set("cpuQuota", num(r.cpu?.quota, "cpu.quota"));
  set("cpuPeriod", num(r.cpu?.period, "cpu.period"));
  // kubelet's UpdateContainerResources (through containerd) always carries the cpu shares
  const shares = num(r.cpu?.shares, "cpu.shares");
  if (shares !== undefined && shares > 0) out.cpuShares = shares;
  for (const [k, key] of [["cpus", "cpusetCpus"], ["mems", "cpusetMems"]] as const) {
    const v = r.cpu?.[k];
    if (v === undefined || v === "") continue;
    if (typeof v !== "string" || !/^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/.test(v)) throw ociError(`--resources ${file}: cpu.${k} must be a list like 0-3,5`);
    out[key] = v;
  }
  // anything else given (not empty) is named in a warning, never dropped silently
  const known: Record<string, string[]> = { memory: ["limit", "swap"], pids: ["limit"], cpu: ["quota", "period", "shares", "cpus", "mems"] };
  const given = (v: unknown) => v !== undefined && v !== null && !(Array.isArray(v) && !v.length) && !(typeof v === "object" && !Array.isArray(v) && !Object.keys(v as object).length);
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) {
    if (!given(v)) continue;
    if (!known[k] || typeof v !== "object" || Array.isArray(v)) { ignored.push(k); continue; }
    for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) if (given(v2) && !known[k]!.includes(k2)) ignored.push(`${k}.${k2}`);
  }
  if (ignored.length) out.ignored = ignored;
  return out;
}

/** Writes the limits of U into the container's cgroups (v2 files, or v1's where the controller is
 * on a v1 hierarchy). A controller the jail has no cgroup of is an error naming it, checked before
 * anything is written. */
export function update(g: Globals, id: string, u: UpdateArgs): void {
  const rec = readRecord(g.root, id);
  if (statusOf(g.root, rec) === "stopped") throw ociError(`container ${id} is stopped`);
  const cg = jailEntry(rec).cgroups ?? {};
  const dirOf = (ctl: string, what: string) => {
    const d = cg[ctl];
    if (typeof d !== "string" || !existsSync(d)) throw ociError(`container ${id}: it has no ${ctl} cgroup, so ${what} cannot change (give the container that limit at create)`);
    return { dir: d, v2: existsSync(join(d, "cgroup.controllers")) };
  };
  const max = (n: number, v2: boolean) => (n < 0 ? (v2 ? "max" : "-1") : String(n));
  const writes: [string, string][] = [];
  if (u.memory !== undefined || u.memorySwap !== undefined) {
    const { dir, v2 } = dirOf("memory", "--memory");
    if (v2) {
      if (u.memory !== undefined) writes.push([join(dir, "memory.max"), max(u.memory, true)]);
      // OCI's swap is memory plus swap; cgroup v2's memory.swap.max is swap alone
      if (u.memorySwap !== undefined) writes.push([join(dir, "memory.swap.max"), u.memorySwap < 0 ? "max" : String(Math.max(0, u.memorySwap - (u.memory ?? 0)))]);
    } else {
      // v1 keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every write: a memsw
      // limit that grows goes first (kubelet raising both through the CRI), one that shrinks last
      const mem: [string, string] | undefined = u.memory !== undefined ? [join(dir, "memory.limit_in_bytes"), max(u.memory, false)] : undefined;
      const memsw: [string, string] | undefined = u.memorySwap !== undefined ? [join(dir, "memory.memsw.limit_in_bytes"), max(u.memorySwap, false)] : undefined;
      const grows = () => {
        if (u.memorySwap! < 0) return true;
        try { return u.memorySwap! > Number(readFileSync(memsw![0], "utf8").trim()); } catch { return false; }
      };
      const order = memsw && grows() ? [memsw, mem] : [mem, memsw];
      for (const w of order) if (w) writes.push(w);
    }
  }
  if (u.pids !== undefined) writes.push([join(dirOf("pids", "--pids-limit").dir, "pids.max"), u.pids < 0 ? "max" : String(u.pids + (rec.cgroupsPath ? 0 : PIDS_OVERHEAD))]);
  if (u.cpuShares !== undefined) {
    const { dir, v2 } = dirOf("cpu", "cpu.shares");
    writes.push(v2 ? [join(dir, "cpu.weight"), String(sharesToWeight(u.cpuShares))] : [join(dir, "cpu.shares"), String(u.cpuShares)]);
  }
  for (const [f, v] of [["cpuset.cpus", u.cpusetCpus], ["cpuset.mems", u.cpusetMems]] as const) if (v !== undefined) writes.push([join(dirOf("cpuset", f).dir, f), v]);
  if (u.cpuQuota !== undefined || u.cpuPeriod !== undefined) {
    const { dir, v2 } = dirOf("cpu", "--cpu-quota");
    if (v2) {
      const [q0, p0] = readFileSync(join(dir, "cpu.max"), "utf8").trim().split(/\s+/);
      writes.push([join(dir, "cpu.max"), `${u.cpuQuota === undefined ? q0 : max(u.cpuQuota, true)} ${u.cpuPeriod ?? p0}`]);
    } else {
      // the period first: a quota is checked against the period in force
      if (u.cpuPeriod !== undefined) writes.push([join(dir, "cpu.cfs_period_us"), String(u.cpuPeriod)]);
      if (u.cpuQuota !== undefined) writes.push([join(dir, "cpu.cfs_quota_us"), max(u.cpuQuota, false)]);
    }
  }
  if (u.ignored?.length) g.warn(`update: ${u.ignored.join(", ")} cannot be changed by sysjail-oci: not applied`);
  if (!writes.length && u.ignored?.length) return;
  if (!writes.length) throw usageError("update: nothing to change (--memory, --memory-swap, --pids-limit, --cpu-quota, --cpu-period or --resources)");
  for (const [file, v] of writes) {
    try {
      writeFileSync(file, v);
    } catch (err) {
      throw ociError(`container ${id}: ${file.split("/").pop()} = ${v}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
}
