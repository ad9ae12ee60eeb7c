// New limits for a running jail's cgroups (sysjail-oci update): which file of which directory
// gets which value, on v1 hierarchies or the v2 tree, in the order the kernel accepts them.
// Pure but for reading the current values: every refusal comes before the caller writes anything.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DeviceRule } from "./devices.js";
import { devicesV1 } from "./devices.js";
import { readText } from "./fsutil.js";

/** Block I/O throttle of one device: bytes or operations per second (0: no limit). */
export interface Throttle { major: number; minor: number; rate: number }

/** The resources update may change (OCI LinuxResources' names); 0 leaves a limit as it is, -1 lifts it. */
export interface UpdateResources {
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; kernelTCP?: number; swappiness?: number };
  cpu?: { shares?: number; quota?: number; burst?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; idle?: number; cpus?: string; mems?: string };
  pids?: { limit?: number };
  blockIO?: {
    weight?: number; leafWeight?: number;
    weightDevice?: { major: number; minor: number; weight?: number | undefined; leafWeight?: number | undefined }[];
    throttleReadBpsDevice?: Throttle[]; throttleWriteBpsDevice?: Throttle[]; throttleReadIOPSDevice?: Throttle[]; throttleWriteIOPSDevice?: Throttle[];
  };
  /** The device rules in force afterwards, as they stand (replacing the old ones). */
  devices?: DeviceRule[];
  hugepageLimits?: { pageSize: string; limit: number }[];
  /** cgroup v2 files by name, written as given. */
  unified?: Record<string, string>;
}

/** A jail's cgroups: its directory per registry key (memory, pids, cpu, cpuset, blkio, hugetlb,
 * devices...; one directory for all on v2). */
export interface UpdateTarget {
  dirs: Record<string, string | undefined>;
  /** Added to pids.max: tasks of the jail that are not the user's (sysjail's own cgroups: its init). */
  pidsOverhead: number;
}

/** What update does: the writes in order, what it cannot enforce, and a v2 device program. */
export interface UpdatePlan {
  writes: [file: string, value: string][];
  warnings: string[];
  /** cgroup v2: the new device program for this directory (attached in place of the old one). */
  deviceProgram?: { dir: string; rules: DeviceRule[] };
}

const UNLIMITED_V1 = 2 ** 62; // v1 reads "no limit" as 9223372036854771712

/** A v1 byte count file's value (no limit: a huge number); undefined when unreadable. */
function bytes(file: string): number | undefined {
  const t = readText(file)?.trim();
  if (t === undefined || !/^-?\d+$/.test(t)) return undefined;
  return Number(t) >= UNLIMITED_V1 || t === "-1" ? Infinity : Number(t);
}

/** runc's conversion of cpu shares (2-262144) to a v2 cpu.weight (1-10000). */
export function sharesToWeightV2(shares: number): number {
  return Math.min(10000, Math.max(1, 1 + Math.floor(((shares - 2) * 9999) / 262142)));
}

/** runc's conversion of a blkio weight (10-1000) to a v2 io.weight (1-10000). */
export function blkioToIoWeight(w: number): number {
  return Math.min(10000, Math.max(1, 1 + Math.floor(((w - 10) * 9999) / 990)));
}

/** Plans the update of T's cgroups to R. FAIL makes the error of a refusal (one line naming the
 * value and what is allowed), thrown before anything is written. */
export function planUpdate(t: UpdateTarget, r: UpdateResources, fail: (msg: string) => Error): UpdatePlan {
  const writes: [string, string][] = [];
  const warnings: string[] = [];
  const isV2 = (d: string) => existsSync(join(d, "cgroup.controllers"));
  // the v2 directory: one of the controllers' (never another key's, such as a shared-stack jail's "net")
  const v2dir = ["memory", "pids", "cpu", "cpuacct", "devices"].map((k) => t.dirs[k]).find((d): d is string => typeof d === "string" && isV2(d));
  /** The directory of controller CTL (v1: its hierarchy's; v2: the one directory, when CTL is on there). */
  const dirOf = (ctl: string, v2ctl: string, what: string): { dir: string; v2: boolean } => {
    const d = t.dirs[ctl];
    if (typeof d === "string" && existsSync(d) && !isV2(d)) return { dir: d, v2: false };
    if (v2dir && (readText(join(v2dir, "cgroup.controllers")) ?? "").split(/\s+/).includes(v2ctl)) return { dir: v2dir, v2: true };
    throw fail(`${what}: the container has no ${ctl} cgroup, so it cannot change (give the container a linux.cgroupsPath, or that limit at create)`);
  };
  const max = (n: number, v2: boolean) => (n < 0 ? (v2 ? "max" : "-1") : String(n));
  const w = (dir: string, file: string, value: string | number) => writes.push([join(dir, file), String(value)]);
  const m = r.memory;
  if (m && (m.kernel || m.kernelTCP)) warnings.push("kernel memory limits (--kernel-memory, --kernel-memory-tcp): accepted, not enforced (Linux 6.x has no kmem limit; kernel memory counts in the memory limit)");
  if (m && (m.limit || m.swap || m.reservation || m.swappiness !== undefined)) {
    const { dir, v2 } = dirOf("memory", "memory", "memory");
    if (v2) memoryV2(dir, m, w, warnings, fail);
    else memoryV1(dir, m, w, warnings, fail);
  }
  if (r.pids?.limit) {
    const { dir } = dirOf("pids", "pids", "pids.limit");
    w(dir, "pids.max", r.pids.limit < 0 ? "max" : r.pids.limit + t.pidsOverhead);
  }
  const c = r.cpu;
  if (c && (c.shares || c.quota || c.period || c.burst !== undefined || c.idle !== undefined || c.realtimePeriod || c.realtimeRuntime)) {
    const { dir, v2 } = dirOf("cpu", "cpu", "cpu");
    const opt = (file: string, value: number, what: string) => {
      if (existsSync(join(dir, file))) w(dir, file, value);
      else warnings.push(`${what}: accepted, not enforced (this kernel has no ${file})`);
    };
    if (v2) {
      if (c.shares) w(dir, "cpu.weight", sharesToWeightV2(c.shares));
      if (c.quota || c.period) {
        const [q0 = "max", p0 = "100000"] = (readText(join(dir, "cpu.max")) ?? "").trim().split(/\s+/);
        w(dir, "cpu.max", `${c.quota ? max(c.quota, true) : q0} ${c.period || p0}`);
      }
      if (c.burst !== undefined) opt("cpu.max.burst", c.burst, "cpu.burst");
      if (c.realtimePeriod || c.realtimeRuntime) warnings.push("cpu.realtimePeriod, cpu.realtimeRuntime: accepted, not enforced (cgroup v2 has no real-time bandwidth)");
    } else {
      if (c.shares) w(dir, "cpu.shares", c.shares);
      // the period first: a quota is checked against the period in force
      if (c.period) w(dir, "cpu.cfs_period_us", c.period);
      if (c.quota) w(dir, "cpu.cfs_quota_us", max(c.quota, false));
      if (c.burst !== undefined) opt("cpu.cfs_burst_us", c.burst, "cpu.burst");
      const rt: [string, number, string][] = [];
      if (c.realtimePeriod) rt.push(["cpu.rt_period_us", c.realtimePeriod, "cpu.realtimePeriod"]);
      if (c.realtimeRuntime) rt.push(["cpu.rt_runtime_us", c.realtimeRuntime, "cpu.realtimeRuntime"]);
      // a shorter period than the runtime in force is refused: then the runtime first
      const rt0 = bytes(join(dir, "cpu.rt_runtime_us")) ?? 0;
      if (c.realtimePeriod && c.realtimeRuntime && c.realtimePeriod < rt0) rt.reverse();
      for (const [f, v, what] of rt) opt(f, v, what);
    }
    if (c.idle !== undefined) opt("cpu.idle", c.idle, "cpu.idle");
  }
  if (c && (c.cpus || c.mems)) {
    const { dir, v2 } = dirOf("cpuset", "cpuset", "cpuset");
    for (const [f, what, v] of [["cpus", "CPUs", c.cpus], ["mems", "memory nodes", c.mems]] as const) {
      if (!v) continue;
      // only what the parent has: the kernel refuses more on v1; v2 would silently give less
      const parent = (readText(join(dirname(dir), v2 ? `cpuset.${f}.effective` : `cpuset.${f}`)) ?? "").trim();
      const have = numbers(parent);
      const outside = [...numbers(v)].filter((n) => !have.has(n));
      if (outside.length) throw fail(`cpu.${f} ${JSON.stringify(v)}: ${what} ${outside.slice(0, 8).join(",")}${outside.length > 8 ? "..." : ""} are not in the parent cgroup's (${parent || "none"})`);
      w(dir, `cpuset.${f}`, v);
    }
  }
  const b = r.blockIO;
  if (b && (b.weight || b.leafWeight || b.weightDevice?.length || b.throttleReadBpsDevice || b.throttleWriteBpsDevice || b.throttleReadIOPSDevice || b.throttleWriteIOPSDevice)) {
    const { dir, v2 } = dirOf("blkio", "io", "blockIO");
    blockIO(dir, v2, b, w, warnings);
  }
  // as at create (resources.hugepageLimits: accepted, not enforced) when the container has no
  // hugetlb cgroup: kubelet sends a limit for every page size the node has, whether or not the
  // hugetlb controller is mounted (runc skips a controller that is not there)
  let huge: { dir: string; v2: boolean } | undefined;
  if (r.hugepageLimits?.length) {
    try { huge = dirOf("hugetlb", "hugetlb", "hugepageLimits"); } catch { warnings.push("hugepageLimits: accepted, not enforced (the container has no hugetlb cgroup)"); }
  }
  for (const h of huge ? r.hugepageLimits ?? [] : []) {
    const { dir, v2 } = huge!;
    const file = `hugetlb.${h.pageSize}.${v2 ? "max" : "limit_in_bytes"}`;
    if (!existsSync(join(dir, file))) throw fail(`hugepageLimits pageSize ${JSON.stringify(h.pageSize)}: this host has no huge pages of that size (no ${file})`);
    w(dir, file, h.limit);
  }
  if (r.unified && Object.keys(r.unified).length) {
    if (!v2dir) throw fail("unified: only on cgroup v2, and this container's cgroups are v1 ones");
    for (const [k, v] of Object.entries(r.unified)) {
      if (!existsSync(join(v2dir, k))) throw fail(`unified.${k}: the container's cgroup has no such file (is its controller on?)`);
      w(v2dir, k, v);
    }
  }
  let deviceProgram: UpdatePlan["deviceProgram"];
  if (r.devices) {
    const d = t.dirs.devices;
    // v1: no device first, then the new rules in order: at no moment more than either list allows
    if (typeof d === "string" && existsSync(d) && !isV2(d)) for (const o of devicesV1(d, r.devices).ops) writes.push([String(o.args[0]), String(o.args[1])]);
    // v2: the new program replaces the old one in one step (src/oci/update.ts)
    else if (v2dir) deviceProgram = { dir: v2dir, rules: r.devices };
    else throw fail("devices: the container has no device cgroup, so its rules cannot change");
  }
  return { writes, warnings, ...(deviceProgram ? { deviceProgram } : {}) };
}

/** The numbers of a cpuset list ("0-2,5" -> 0, 1, 2, 5). */
function numbers(v: string): Set<number> {
  const out = new Set<number>();
  for (const part of v.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [a, b = a] = part.split("-").map(Number);
    for (let i = a!; i <= Math.min(b!, a! + 4096); i++) out.add(i);
  }
  return out;
}

type Write = (dir: string, file: string, value: string | number) => void;

/** v1 memory: limit, memory+swap (kept equal to the limit when it was: a container without swap
 * keeps none), soft limit, swappiness; ordered so that memory never exceeds memory+swap. */
function memoryV1(dir: string, m: NonNullable<UpdateResources["memory"]>, w: Write, warnings: string[], fail: (msg: string) => Error): void {
  const hasMemsw = existsSync(join(dir, "memory.memsw.limit_in_bytes"));
  const curMem = bytes(join(dir, "memory.limit_in_bytes")) ?? Infinity;
  const curSw = hasMemsw ? (bytes(join(dir, "memory.memsw.limit_in_bytes")) ?? Infinity) : Infinity;
  const L = m.limit ? (m.limit < 0 ? Infinity : m.limit) : undefined;
  let S = m.swap ? (m.swap < 0 ? Infinity : m.swap) : undefined;
  if (S !== undefined && !hasMemsw) {
    warnings.push("memory.swap: accepted, not enforced (the kernel has no swap accounting: memory.memsw.* is missing)");
    S = undefined;
  }
  if (L !== undefined && S !== undefined && S < L) throw fail(`memory.swap ${m.swap}: memory plus swap cannot be below the memory limit (${m.limit})`);
  if (L !== undefined && S === undefined && hasMemsw && curSw === curMem) S = L; // no swap before: none after
  const v = (n: number) => (n === Infinity ? "-1" : String(n));
  // memory never above memory+swap: the limit first unless it would pass the memory+swap in force
  const memFirst = L === undefined || L <= curSw;
  const pair: [string, number | undefined][] = [["memory.limit_in_bytes", L], ["memory.memsw.limit_in_bytes", S]];
  for (const [f, n] of memFirst ? pair : pair.reverse()) if (n !== undefined) w(dir, f, v(n));
  if (m.reservation) w(dir, "memory.soft_limit_in_bytes", v(m.reservation < 0 ? Infinity : m.reservation));
  if (m.swappiness !== undefined) w(dir, "memory.swappiness", m.swappiness);
}

/** v2 memory: memory.max, memory.swap.max (OCI's swap is memory plus swap; v2's is swap alone), memory.low. */
function memoryV2(dir: string, m: NonNullable<UpdateResources["memory"]>, w: Write, warnings: string[], fail: (msg: string) => Error): void {
  if (m.limit) w(dir, "memory.max", m.limit < 0 ? "max" : m.limit);
  if (m.swap) {
    const cur = (readText(join(dir, "memory.max")) ?? "max").trim();
    const lim = m.limit ? m.limit : cur === "max" ? -1 : Number(cur);
    if (!existsSync(join(dir, "memory.swap.max"))) warnings.push("memory.swap: accepted, not enforced (memory.swap.max is missing: no swap accounting)");
    else if (m.swap < 0) w(dir, "memory.swap.max", "max");
    else if (lim < 0) throw fail(`memory.swap ${m.swap}: on cgroup v2 a memory plus swap limit needs a memory limit`);
    else if (m.swap < lim) throw fail(`memory.swap ${m.swap}: memory plus swap cannot be below the memory limit (${lim})`);
    else w(dir, "memory.swap.max", m.swap - lim);
  }
  if (m.reservation) w(dir, "memory.low", m.reservation < 0 ? "max" : m.reservation);
  if (m.swappiness !== undefined) warnings.push("memory.swappiness: accepted, not enforced (cgroup v2 has no swappiness)");
}

/** Block I/O: weights where the I/O scheduler has them (BFQ; CFQ before 5.0), else one warning
 * naming the weight as unenforced; throttles where the files are. */
function blockIO(dir: string, v2: boolean, b: NonNullable<UpdateResources["blockIO"]>, w: Write, warnings: string[]): void {
  const first = (what: string, files: [string, string | number][]) => {
    const hit = files.find(([f]) => existsSync(join(dir, f)));
    if (hit) w(dir, hit[0], hit[1]);
    else warnings.push(`${what}: accepted, not enforced (no ${files.map(([f]) => f).join(" or ")} here: the disks' I/O scheduler has no weights)`);
  };
  if (b.weight) first("blockIO.weight", v2 ? [["io.bfq.weight", b.weight], ["io.weight", `default ${blkioToIoWeight(b.weight)}`]] : [["blkio.weight", b.weight], ["blkio.bfq.weight", b.weight]]);
  if (b.leafWeight) {
    if (v2) warnings.push("blockIO.leafWeight: accepted, not enforced (cgroup v2 has no leaf weight)");
    else first("blockIO.leafWeight", [["blkio.leaf_weight", b.leafWeight]]);
  }
  for (const d of b.weightDevice ?? []) {
    const dev = `${d.major}:${d.minor}`;
    if (d.weight) first(`blockIO.weightDevice ${dev}`, v2 ? [["io.bfq.weight", `${dev} ${d.weight}`], ["io.weight", `${dev} ${blkioToIoWeight(d.weight)}`]] : [["blkio.weight_device", `${dev} ${d.weight}`], ["blkio.bfq.weight_device", `${dev} ${d.weight}`]]);
    if (d.leafWeight && !v2) first(`blockIO.weightDevice ${dev} leafWeight`, [["blkio.leaf_weight_device", `${dev} ${d.leafWeight}`]]);
  }
  const kinds = [["throttleReadBpsDevice", "read_bps_device", "rbps"], ["throttleWriteBpsDevice", "write_bps_device", "wbps"], ["throttleReadIOPSDevice", "read_iops_device", "riops"], ["throttleWriteIOPSDevice", "write_iops_device", "wiops"]] as const;
  for (const [k, v1file, key] of kinds) {
    for (const t of b[k] ?? []) {
      // a rate of 0 lifts the device's limit (v1 reads 0 as none; v2 writes "max")
      if (v2) first(`blockIO.${k}`, [["io.max", `${t.major}:${t.minor} ${key}=${t.rate || "max"}`]]);
      else first(`blockIO.${k}`, [[`blkio.throttle.${v1file}`, `${t.major}:${t.minor} ${t.rate}`]]);
    }
  }
}
