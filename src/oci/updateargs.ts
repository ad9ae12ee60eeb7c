// sysjail-oci update's input: runc's flags and the LinuxResources JSON of -r, checked value by
// value into one UpdateResources (units and -1 as runc takes them; 0 leaves a limit as it is).
import { readFileSync } from "node:fs";
import type { DeviceRule } from "../cgroup/devices.js";
import type { UpdateResources } from "../cgroup/update.js";
import { usageError } from "../errors.js";
import { checkJsonBound, ociError } from "./config.js";
import { deviceRules } from "./devices.js";

const quoted = (v: string) => JSON.stringify(v.slice(0, 40));
const UNITS = "kmgtp";

/** A byte count as runc takes it (docker's RAMInBytes): a number with an optional k, m, g, t or
 * p (powers of 1024) and an optional "b" or "ib", or -1 for no limit. */
export function sizeArg(name: string, v: string): number {
  const m = /^(-1|\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(v.trim());
  const n = m ? (m[1] === "-1" ? -1 : Math.floor(Number(m[1]) * 1024 ** (UNITS.indexOf(m[2]!.toLowerCase()) + 1))) : NaN;
  if (!m || !Number.isSafeInteger(n) || (m[2] === "" && m[1]!.includes("."))) {
    throw usageError(`--${name} ${quoted(v)}: a number of bytes (with k, m, g, t or p), or -1 for no limit`);
  }
  return n;
}

/** A whole number option: -1 (no limit) allowed when SIGNED, as runc's ParseInt and ParseUint. */
export function intArg(name: string, v: string, signed = true): number {
  const ok = signed ? /^(-1|\d+)$/ : /^\d+$/;
  if (!ok.test(v.trim()) || !Number.isSafeInteger(Number(v))) {
    throw usageError(`--${name} ${quoted(v)}: a whole number${signed ? ", or -1 for no limit" : " (0 or more)"}`);
  }
  return Number(v);
}

/** A list of CPUs or memory nodes as cpuset takes it: "0-3,5". */
export function cpuList(where: string, v: string, usage = false): string {
  if (v !== "" && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) {
    const msg = `${where} ${quoted(v)}: a list of numbers and ranges such as "0-3,5"`;
    throw usage ? usageError(msg) : ociError(msg);
  }
  return v;
}

/** runc update's flags (values as the command line gave them) -> the resources they set. */
export function flagResources(o: Record<string, unknown>, warn: (m: string) => void): UpdateResources {
  const s = (k: string) => (o[k] === undefined ? undefined : String(o[k]));
  const r: UpdateResources = {};
  const mem = (k: string, f: keyof NonNullable<UpdateResources["memory"]>) => {
    const v = s(k);
    if (v !== undefined) (r.memory ??= {})[f] = sizeArg(k, v);
  };
  mem("memory", "limit");
  mem("memory-reservation", "reservation");
  mem("memory-swap", "swap");
  mem("kernel-memory", "kernel");
  mem("kernel-memory-tcp", "kernelTCP");
  const cpu = (k: string, f: "shares" | "quota" | "period" | "realtimeRuntime" | "realtimePeriod", signed: boolean) => {
    const v = s(k);
    if (v !== undefined) (r.cpu ??= {})[f] = intArg(k, v, signed);
  };
  cpu("cpu-shares", "shares", false);
  if (s("cpu-share") !== undefined) (r.cpu ??= {}).shares = intArg("cpu-share", s("cpu-share")!, false);
  cpu("cpu-period", "period", false);
  cpu("cpu-quota", "quota", true);
  cpu("cpu-rt-period", "realtimePeriod", false);
  cpu("cpu-rt-runtime", "realtimeRuntime", true);
  if (s("cpuset-cpus") !== undefined) (r.cpu ??= {}).cpus = cpuList("--cpuset-cpus", s("cpuset-cpus")!, true);
  if (s("cpuset-mems") !== undefined) (r.cpu ??= {}).mems = cpuList("--cpuset-mems", s("cpuset-mems")!, true);
  if (s("pids-limit") !== undefined) r.pids = { limit: intArg("pids-limit", s("pids-limit")!, true) };
  if (s("blkio-weight") !== undefined) {
    const w = intArg("blkio-weight", s("blkio-weight")!, false);
    if (w !== 0 && (w < 10 || w > 1000)) throw usageError(`--blkio-weight ${quoted(s("blkio-weight")!)}: from 10 to 1000 (0 leaves it as it is)`);
    r.blockIO = { weight: w };
  }
  for (const k of ["l3-cache-schema", "mem-bw-schema"]) if (s(k) !== undefined) warn(`--${k}: accepted, not enforced (no resctrl support)`);
  return r;
}

type Obj = Record<string, unknown>;

/** The LinuxResources of update -r FILE ("-": standard input). runc decodes the JSON into typed
 * fields: a value of the wrong type or range is refused here in one line naming it. */
export function resourcesFile(file: string, warn: (m: string) => void): UpdateResources {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw ociError(`--resources ${quoted(file)}: ${(err as NodeJS.ErrnoException).code}`);
  }
  checkJsonBound(text, `--resources ${quoted(file)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw ociError(`--resources ${quoted(file)}: not valid JSON`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw ociError(`--resources ${quoted(file)}: must hold a JSON object`);
  return parseResources(raw as Obj, warn);
}

/** Checks a LinuxResources object (see resourcesFile). */
export function parseResources(raw: Obj, warn: (m: string) => void): UpdateResources {
  const bad = (where: string, v: unknown, what: string) => ociError(`resources.${where} ${JSON.stringify(v)?.slice(0, 40)}: ${what}`);
  const obj = (where: string, v: unknown): Obj | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) throw bad(where, v, "must be an object");
    return v as Obj;
  };
  const list = (where: string, v: unknown): Obj[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw bad(where, v, "must be a list");
    return v.map((x, i) => obj(`${where}[${i}]`, x) ?? {});
  };
  /** -1 or more (signed), 0 or more (unsigned); undefined when absent. */
  const int = (where: string, v: unknown, signed: boolean, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < (signed ? -1 : 0) || v > max) {
      throw bad(where, v, signed ? "a whole number, or -1 for no limit" : `a whole number from 0 to ${max}`);
    }
    return v;
  };
  const r: UpdateResources = {};
  const known = ["memory", "cpu", "pids", "blockIO", "devices", "hugepageLimits", "unified"];
  for (const k of Object.keys(raw)) if (!known.includes(k)) warn(`resources.${k.slice(0, 40)}: accepted, not enforced by update`);
  const m = obj("memory", raw.memory);
  if (m) {
    r.memory = {};
    for (const f of ["limit", "reservation", "swap", "kernel", "kernelTCP"] as const) {
      const v = int(`memory.${f}`, m[f], true);
      if (v !== undefined) r.memory[f] = v;
    }
    const sw = int("memory.swappiness", m.swappiness, false, 100);
    if (sw !== undefined) r.memory.swappiness = sw;
  }
  const c = obj("cpu", raw.cpu);
  if (c) {
    r.cpu = {};
    for (const [f, signed] of [["shares", false], ["quota", true], ["burst", false], ["period", false], ["realtimeRuntime", true], ["realtimePeriod", false], ["idle", true]] as const) {
      const v = int(`cpu.${f}`, c[f], signed);
      if (v !== undefined) r.cpu[f] = v;
    }
    for (const f of ["cpus", "mems"] as const) {
      if (c[f] === undefined || c[f] === null) continue;
      if (typeof c[f] !== "string") throw bad(`cpu.${f}`, c[f], "must be a string");
      r.cpu[f] = cpuList(`resources.cpu.${f}`, c[f] as string);
    }
  }
  const p = obj("pids", raw.pids);
  if (p) {
    const v = int("pids.limit", p.limit, true);
    if (v !== undefined) r.pids = { limit: v };
  }
  const b = obj("blockIO", raw.blockIO);
  if (b) {
    r.blockIO = {};
    const weight = (where: string, v: unknown) => {
      const w = int(where, v, false, 1000);
      if (w !== undefined && w !== 0 && w < 10) throw bad(where, v, "from 10 to 1000 (0 leaves it as it is)");
      return w;
    };
    const dev = (where: string, d: Obj) => ({ major: int(`${where}.major`, d.major, false, 0xfff) ?? -1, minor: int(`${where}.minor`, d.minor, false, 0xfffff) ?? -1 });
    const w = weight("blockIO.weight", b.weight), lw = weight("blockIO.leafWeight", b.leafWeight);
    if (w !== undefined) r.blockIO.weight = w;
    if (lw !== undefined) r.blockIO.leafWeight = lw;
    const wd = list("blockIO.weightDevice", b.weightDevice).map((d, i) => {
      const where = `blockIO.weightDevice[${i}]`;
      const { major, minor } = dev(where, d);
      if (major < 0 || minor < 0) throw bad(where, d, "needs a major and a minor number");
      return { major, minor, weight: weight(`${where}.weight`, d.weight), leafWeight: weight(`${where}.leafWeight`, d.leafWeight) };
    });
    if (wd.length) r.blockIO.weightDevice = wd;
    for (const k of ["throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"] as const) {
      const t = list(`blockIO.${k}`, b[k]).map((d, i) => {
        const where = `blockIO.${k}[${i}]`;
        const { major, minor } = dev(where, d);
        const rate = int(`${where}.rate`, d.rate, false);
        if (major < 0 || minor < 0 || rate === undefined) throw bad(where, d, "needs a major, a minor number and a rate");
        return { major, minor, rate };
      });
      if (t.length) r.blockIO[k] = t;
    }
  }
  if (raw.devices !== undefined && raw.devices !== null) {
    // the given list as it stands (no defaults added: an update may take /dev/null away too)
    let rules: DeviceRule[];
    try {
      rules = deviceRules({ linux: { resources: { devices: raw.devices } } } as never);
    } catch (err) {
      throw ociError((err as Error).message.replace(/^linux\.resources\./, "resources."));
    }
    r.devices = rules.slice(0, (raw.devices as unknown[]).length);
  }
  const h = list("hugepageLimits", raw.hugepageLimits);
  if (h.length) {
    r.hugepageLimits = h.map((x, i) => {
      const where = `hugepageLimits[${i}]`;
      if (typeof x.pageSize !== "string" || !/^\d+[KMG]B$/.test(x.pageSize)) throw bad(`${where}.pageSize`, x.pageSize, 'a page size such as "2MB" or "1GB"');
      const limit = int(`${where}.limit`, x.limit, false);
      if (limit === undefined) throw bad(`${where}.limit`, x.limit, "a number of bytes is needed");
      return { pageSize: x.pageSize, limit };
    });
  }
  const u = obj("unified", raw.unified);
  if (u) {
    r.unified = {};
    for (const [k, v] of Object.entries(u)) {
      // a controller's interface file: never cgroup.* (membership, the tree's shape) nor a path
      if (!/^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/.test(k) || k.startsWith("cgroup.")) throw bad(`unified key ${JSON.stringify(k.slice(0, 40))}`, v, "a controller's file name such as \"memory.high\" (no cgroup.* file, no path)");
      if (typeof v !== "string" || /[\0\n]/.test(v)) throw bad(`unified.${k}`, v, "must be a one-line string");
      r.unified[k] = v;
    }
  }
  return r;
}
