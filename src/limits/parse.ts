// The limit-string parser (--limit, jail.conf) and the typed-object normaliser (library).
import { usageError } from "../errors.js";
import type { Limits } from "../spec/types.js";
import {
  isUnlimitedWord,
  parseCount,
  parseDecimal,
  parseDuration,
  parseSize,
} from "./units.js";

/** How a limit value is written. */
type ValueKind = "size" | "duration" | "count" | "cores" | "shares" | "weight" | "percent";

interface KeyDef {
  field: keyof Limits;
  kind: ValueKind;
}

const def = (field: keyof Limits, kind: ValueKind): KeyDef => ({ field, kind });

/** --limit keys (lower case), with their aliases. */
const CLI_KEYS: Record<string, KeyDef> = {
  memory: def("memory", "size"),
  swap: def("swap", "size"),
  pids: def("pids", "count"),
  cpu: def("cpu", "duration"),
  wall: def("wall", "duration"),
  cpushares: def("cpuShares", "shares"),
  "cpu.shares": def("cpuShares", "shares"),
  "cpu.weight": def("cpuShares", "weight"),
  cores: def("cores", "cores"),
  nofile: def("openFiles", "count"),
  openfiles: def("openFiles", "count"),
  fsize: def("fileSize", "size"),
  filesize: def("fileSize", "size"),
  tmp: def("tmpSize", "size"),
  shm: def("shmSize", "size"),
};

/** FreeBSD rctl(8) resources sysjail maps onto its own limits (see docs/LIMITS.md). */
const RCTL_RESOURCES: Record<string, KeyDef> = {
  memoryuse: def("memory", "size"),
  vmemoryuse: def("memory", "size"),
  swapuse: def("swap", "size"),
  maxproc: def("pids", "count"),
  nthr: def("pids", "count"),
  cputime: def("cpu", "duration"),
  wallclock: def("wall", "duration"),
  pcpu: def("cores", "percent"),
  openfiles: def("openFiles", "count"),
};

/** rctl actions that sysjail enforces (all as a hard limit). */
const RCTL_ACTIONS = ["deny", "sigkill"];

/** The field names of Limits, accepted by normalizeLimits next to the --limit keys. */
const FIELD_KINDS: Record<keyof Limits, ValueKind> = {
  memory: "size",
  swap: "size",
  pids: "count",
  cpu: "duration",
  wall: "duration",
  cpuShares: "shares",
  cores: "cores",
  openFiles: "count",
  fileSize: "size",
  tmpSize: "size",
  shmSize: "size",
};

/** The --limit keys, for messages and docs. */
export const LIMIT_KEYS: readonly string[] = Object.keys(CLI_KEYS);

/** The rctl resources understood in `resource:deny=amount` form. */
export const RCTL_KEYS: readonly string[] = Object.keys(RCTL_RESOURCES);

const WHAT: Record<ValueKind, string> = {
  size: "a size in bytes with an optional K, M, G or T suffix (e.g. 256M)",
  duration: "a duration in seconds, or with an ms, s, m or h suffix (e.g. 2s, 500ms)",
  count: "a whole number above 0 (e.g. 64)",
  cores: "a number of CPUs from 0.01 up (e.g. 1.5 or 150%)",
  shares: "a whole number from 2 to 262144 (1024 is the default share)",
  weight: "a whole number from 1 to 10000 (100 is the default weight)",
  percent: "a percentage of one CPU from 1 up (e.g. 50)",
};

const MAX_CORES = 4096;

/** Parses one value string of a kind into Limits units; undefined when malformed. */
function parseValue(kind: ValueKind, v: string): number | undefined {
  switch (kind) {
    case "size":
      return parseSize(v);
    case "duration":
      return parseDuration(v, "s");
    case "count":
      return parseCount(v);
    case "cores": {
      const n = parseDecimal(v, true);
      return n !== undefined && n >= 0.01 && n <= MAX_CORES ? n : undefined;
    }
    case "percent": {
      const n = parseDecimal(v.replace(/%$/, ""));
      return n !== undefined && n >= 1 && n <= MAX_CORES * 100 ? n / 100 : undefined;
    }
    case "shares": {
      const n = parseCount(v);
      return n !== undefined && n >= 2 && n <= 262144 ? n : undefined;
    }
    case "weight": {
      const n = parseCount(v);
      return n !== undefined && n <= 10000 ? weightToShares(n) : undefined;
    }
  }
}

/** Checks a number given in Limits units (bytes, ms, count, CPUs, shares); undefined when out of range. */
function checkNumber(kind: ValueKind, n: number): number | undefined {
  if (!Number.isFinite(n) || n <= 0) return undefined;
  switch (kind) {
    case "size":
    case "count":
      return Number.isSafeInteger(n) ? n : undefined;
    case "duration":
      return n >= 1 && n <= Number.MAX_SAFE_INTEGER ? Math.round(n) : undefined;
    case "cores":
      return n >= 0.01 && n <= MAX_CORES ? n : undefined;
    case "percent":
      return n >= 1 && n <= MAX_CORES * 100 ? n / 100 : undefined;
    case "shares":
      return Number.isInteger(n) && n >= 2 && n <= 262144 ? n : undefined;
    case "weight":
      return Number.isInteger(n) && n <= 10000 ? weightToShares(n) : undefined;
  }
}

/** cgroup v2 cpu.weight (1..10000, default 100) to v1 cpu.shares (2..262144, default 1024), proportionally. */
export function weightToShares(weight: number): number {
  return Math.min(262144, Math.max(2, Math.round((weight * 1024) / 100)));
}

/** cgroup v1 cpu.shares to v2 cpu.weight, proportionally (1024 -> 100). */
export function sharesToWeight(shares: number): number {
  return Math.min(10000, Math.max(1, Math.round((shares * 100) / 1024)));
}

/** Resolves an rctl rule key `[jail:NAME:]resource:action` to its definition, or throws. */
function rctlDef(item: string, key: string): KeyDef {
  let parts = key.split(":");
  if (parts.length === 4 && parts[0] === "jail") parts = parts.slice(2);
  if (parts.length !== 2) {
    throw usageError(`bad limit "${item}": an rctl rule is resource:action=amount (e.g. memoryuse:deny=256m)`);
  }
  const [resource = "", action = ""] = parts;
  const d = RCTL_RESOURCES[resource];
  if (!d) {
    throw usageError(`bad limit "${item}": rctl resource "${resource}" is not supported (supported: ${RCTL_KEYS.join(", ")})`);
  }
  if (!RCTL_ACTIONS.includes(action)) {
    throw usageError(`bad limit "${item}": rctl action "${action}" is not supported (use ${RCTL_ACTIONS.join(" or ")})`);
  }
  return d;
}

/** Stores a parsed value (or removes the field for "unlimited"). */
function store(into: Limits, field: keyof Limits, value: number | undefined): void {
  if (value === undefined) delete into[field];
  else into[field] = value;
}

/** Parses `--limit memory=256M,pids=64,cpu=2s,...` (also rctl `memoryuse:deny=256m`) into Limits; later items win. */
export function parseLimits(text: string, into: Limits = {}): Limits {
  if (text.trim() === "") throw usageError(`bad limit "": expected key=value (keys: ${LIMIT_KEYS.join(", ")})`);
  for (const raw of text.split(",")) {
    const item = raw.trim();
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw usageError(`bad limit "${item}": expected key=value (keys: ${LIMIT_KEYS.join(", ")}, or an rctl rule such as memoryuse:deny=256m)`);
    }
    const key = item.slice(0, eq).trim().toLowerCase();
    let value = item.slice(eq + 1).trim();
    let d: KeyDef | undefined;
    if (key.includes(":")) {
      d = rctlDef(item, key);
      const slash = value.indexOf("/");
      if (slash >= 0) {
        const per = value.slice(slash + 1);
        if (per !== "jail") throw usageError(`bad limit "${item}": only per-jail rctl rules (/jail) are supported, not /${per}`);
        value = value.slice(0, slash);
      }
    } else {
      d = CLI_KEYS[key];
      if (!d) {
        throw usageError(`bad limit "${item}": unknown limit "${key}" (allowed: ${LIMIT_KEYS.join(", ")}, or an rctl rule such as memoryuse:deny=256m)`);
      }
    }
    if (isUnlimitedWord(value)) {
      store(into, d.field, undefined);
      continue;
    }
    const n = parseValue(d.kind, value);
    if (n === undefined) throw usageError(`bad limit "${item}": "${value}" is not ${WHAT[d.kind]}, or "unlimited"`);
    store(into, d.field, n);
  }
  return into;
}

/** The definition of a library limit key: a Limits field name or a --limit key. */
function objectKeyDef(key: string): KeyDef | undefined {
  if (Object.prototype.hasOwnProperty.call(FIELD_KINDS, key)) {
    const field = key as keyof Limits;
    return { field, kind: FIELD_KINDS[field] };
  }
  return CLI_KEYS[key];
}

/** Normalises the library's limits object ({ memory: "256M" | bytes, cpu: "2s" | ms, ... }) to Limits, rejecting unknown keys. */
export function normalizeLimits(obj: unknown): Limits {
  if (obj === undefined || obj === null) return {};
  if (typeof obj !== "object" || Array.isArray(obj)) {
    throw usageError(`limits must be an object such as { memory: "256M", pids: 64 }, not ${Array.isArray(obj) ? "an array" : typeof obj}`);
  }
  const out: Limits = {};
  const allowed = [...Object.keys(FIELD_KINDS), ...LIMIT_KEYS.filter((k) => !(k in FIELD_KINDS))];
  for (const [key, v] of Object.entries(obj as Record<string, unknown>)) {
    const d = objectKeyDef(key);
    if (!d) throw usageError(`unknown limit "${key}" (allowed: ${allowed.join(", ")})`);
    if (v === undefined || v === null) continue;
    let n: number | undefined;
    if (typeof v === "number") {
      n = checkNumber(d.kind, v);
      if (n === undefined) throw usageError(`bad limit ${key}: ${v} is out of range (${numberWhat(d.kind)})`);
    } else if (typeof v === "string") {
      if (isUnlimitedWord(v)) {
        delete out[d.field];
        continue;
      }
      n = parseValue(d.kind, v);
      if (n === undefined) throw usageError(`bad limit ${key}: "${v}" is not ${WHAT[d.kind]}, or "unlimited"`);
    } else {
      throw usageError(`bad limit ${key}: expected a number or a string, not ${typeof v}`);
    }
    out[d.field] = n;
  }
  return out;
}

/** What a plain number means for a kind in the library object. */
function numberWhat(kind: ValueKind): string {
  switch (kind) {
    case "size":
      return "a whole number of bytes above 0";
    case "duration":
      return "milliseconds, at least 1";
    case "count":
      return "a whole number above 0";
    default:
      return WHAT[kind];
  }
}

/** Limits back in --limit syntax (for jls -s, dry runs and messages). */
export function formatLimits(l: Limits): string {
  const out: string[] = [];
  const size = (n: number) => {
    for (const [suffix, m] of [["T", 2 ** 40], ["G", 2 ** 30], ["M", 2 ** 20], ["K", 2 ** 10]] as const) {
      if (n % m === 0) return `${n / m}${suffix}`;
    }
    return String(n);
  };
  const time = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  if (l.memory !== undefined) out.push(`memory=${size(l.memory)}`);
  if (l.swap !== undefined) out.push(`swap=${size(l.swap)}`);
  if (l.pids !== undefined) out.push(`pids=${l.pids}`);
  if (l.cpu !== undefined) out.push(`cpu=${time(l.cpu)}`);
  if (l.wall !== undefined) out.push(`wall=${time(l.wall)}`);
  if (l.cpuShares !== undefined) out.push(`cpushares=${l.cpuShares}`);
  if (l.cores !== undefined) out.push(`cores=${l.cores}`);
  if (l.openFiles !== undefined) out.push(`nofile=${l.openFiles}`);
  if (l.fileSize !== undefined) out.push(`fsize=${size(l.fileSize)}`);
  if (l.tmpSize !== undefined) out.push(`tmp=${size(l.tmpSize)}`);
  if (l.shmSize !== undefined) out.push(`shm=${size(l.shmSize)}`);
  return out.join(",");
}

