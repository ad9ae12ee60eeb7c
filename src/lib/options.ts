// The library's strict options: the same JailSpec as the CLI and jail.conf, built by one validation.
import { parsePromises } from "../seccomp/promises.js";
import { checkUnveil } from "../spec/unveil.js";
import { usageError, SysjailError } from "../errors.js";
import { normalizeLimits } from "../limits/parse.js";
import { baseSpec, validateSpec } from "../spec/validate.js";
import type { RunReport } from "../limits/report.js";
import type { JailSpec, MountSpec, PolicyOptions } from "../spec/types.js";

/** Events of a run() jail, the "custom listeners" of sysjail(3); each gets the run report. */
export interface JailListeners {
  /** Always, last, when the jail has ended. */
  exit?: (report: RunReport) => void;
  /** The jail's command was OOM-killed (status "oom"). */
  oom?: (report: RunReport) => void;
  /** A limit was reached: a timeout, an OOM kill, or anything in report.limitsHit. */
  limit?: (report: RunReport) => void;
  /** The jail called reboot(2) (status "halted"). */
  halt?: (report: RunReport) => void;
}

// AbortSignal comes from the DOM library or @types/node; declared (empty) here too so that the
// package's types compile in a project with neither (the declarations merge, adding nothing).
declare global {
  interface AbortSignal {}
}

/** A limit's value: a number in the limit's unit (bytes, milliseconds, a count, CPUs), a string
 * with a unit ("256M", "2s", "150%"), "unlimited", or null: no limit (docs/LIBRARY.md). */
export type LimitValue = string | number | null;

/** The limits of run(), Jail.create() and jail.update(): the Limits field names, or their
 * `--limit` names; a key not listed here is refused (SysjailError EUSAGE, and a type error). */
export interface LimitsInput {
  memory?: LimitValue | undefined;
  swap?: LimitValue | undefined;
  pids?: LimitValue | undefined;
  cpu?: LimitValue | undefined;
  wall?: LimitValue | undefined;
  cpuShares?: LimitValue | undefined;
  cores?: LimitValue | undefined;
  openFiles?: LimitValue | undefined;
  fileSize?: LimitValue | undefined;
  tmpSize?: LimitValue | undefined;
  shmSize?: LimitValue | undefined;
  /** `--limit` spellings of the same limits. */
  cpushares?: LimitValue | undefined;
  "cpu.shares"?: LimitValue | undefined;
  "cpu.weight"?: LimitValue | undefined;
  nofile?: LimitValue | undefined;
  openfiles?: LimitValue | undefined;
  fsize?: LimitValue | undefined;
  filesize?: LimitValue | undefined;
  tmp?: LimitValue | undefined;
  shm?: LimitValue | undefined;
}

/** An extra mount as a Node program gives it: a bind of a host directory unless `type` says
 * otherwise, writable unless `readonly`, with no filesystem options unless `options`. */
export interface MountInput {
  /** Host path for a bind (absolute), or the filesystem source ("tmpfs", "proc"). */
  source: string;
  /** Absolute path inside the jail. */
  target: string;
  /** Default "bind". */
  type?: "bind" | "tmpfs" | "proc" | undefined;
  /** Default false. */
  readonly?: boolean | undefined;
  /** Filesystem options (tmpfs size=..., mode=...); default none. */
  options?: string[] | undefined;
}

/** The user the command runs as: a name of the jail's passwd, or { name, from: "host" | "jail" }. */
export type UserInput = string | { name: string; from: "host" | "jail" };

/** What a Node program passes to run() and Jail.create(). Unknown keys are rejected. */
export interface JailOptions {
  /** The jail's root directory: an absolute path (a relative one is refused). */
  path: string;
  hostname: string;
  name?: string | undefined;
  /** Root's jails: share this jail's (name or jid) host id range, or a range base of the pool. */
  idrange?: string | undefined;
  /** argv of the command (run(): required). */
  command?: string[] | undefined;
  /** Exactly the command's environment (default: PATH only). */
  env?: Record<string, string> | undefined;
  /** Absolute working directory inside the jail. */
  cwd?: string | undefined;
  /** Run as this user of the jail's passwd (or { name, from: "host" }). */
  user?: UserInput | undefined;
  limits?: LimitsInput | null | undefined;
  allowRawSockets?: boolean | undefined;
  allowAllDomains?: boolean | undefined;
  allowIpc?: boolean | undefined;
  allowChflags?: boolean | undefined;
  allowRlimit?: boolean | undefined;
  allowSetHostname?: boolean | undefined;
  /** No no_new_privs: setuid programs of the jail's own ids work inside (docs/JAILS.md). */
  allowSetuid?: boolean | undefined;
  /** Policy files added to the default policy. */
  policyFiles?: string[] | undefined;
  /** OpenBSD promises, e.g. "stdio rpath inet": calls outside them are refused (docs/PLEDGE.md). */
  pledge?: string | undefined;
  /** Paths inside the jail and OpenBSD permissions ("r", "w", "x", "c"): the command reaches only
   * these (Landlock; docs/PLEDGE.md). */
  unveil?: Record<string, string> | undefined;
  /** Run anyway (with a warning) where the kernel has no Landlock for `unveil`. */
  unveilBestEffort?: boolean | undefined;
  ip4?: string[] | undefined;
  ip6?: string[] | undefined;
  vnet?: boolean | undefined;
  mounts?: MountInput[] | undefined;
  meta?: Record<string, string> | undefined;
  /** End the jail when its command ends (run() default: true). */
  killOnExit?: boolean | undefined;
  /** The registry directory, absolute (default: /run/sysjail for root, else $XDG_RUNTIME_DIR/sysjail). */
  stateDir?: string | undefined;
}

/** run()'s extra options. */
export interface RunOptions extends JailOptions {
  command: string[];
  /** Run through a launcher started before restrict() (startLauncher); the jail is its template. */
  via?: import("./launcher.js").Launcher | undefined;
  /** Data for the command's standard input (default: none, /dev/null-like EOF). */
  stdin?: string | Uint8Array | undefined;
  /** Most bytes kept of stdout and of stderr each (default 1 MiB); the rest is dropped. */
  maxOutputBytes?: number | undefined;
  signal?: AbortSignal | undefined;
  on?: JailListeners | undefined;
  /** Only with via and a launcher's `work`: files written into the run's fresh work directory
   * before the jail starts (name: data, or { data, mode }). */
  files?: Record<string, string | Uint8Array | { data: string | Uint8Array; mode?: number }> | undefined;
  /** Only with via and a launcher's `work`: names of files read back from the work directory
   * after the run (regular files only, never through a symlink), in RunResult.files. */
  collect?: string[] | undefined;
}

const SPEC_KEYS = new Set([
  "path", "hostname", "name", "idrange", "command", "env", "cwd", "user", "limits", "allowRawSockets", "allowAllDomains",
  "allowIpc", "allowChflags", "allowRlimit", "allowSetHostname", "allowSetuid", "policyFiles", "pledge", "unveil", "unveilBestEffort", "ip4", "ip6", "vnet", "mounts",
  "meta", "killOnExit", "stateDir",
]);
const RUN_KEYS = new Set([...SPEC_KEYS, "stdin", "maxOutputBytes", "signal", "on", "via"]);

function bool(v: unknown, key: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw usageError(`option ${key} must be true or false, not ${describe(v)}`);
  return v;
}

function strings(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw usageError(`option ${key} must be an array of strings, not ${describe(v)}`);
  return v as string[];
}

function str(v: unknown, key: string, what = "a string"): string {
  if (typeof v !== "string") throw usageError(`option ${key} must be ${what}, not ${describe(v)}`);
  return v;
}

/** An absolute path; a relative one would silently depend on the caller's working directory. */
function absolute(v: unknown, key: string, what: string): string {
  const p = str(v, key, `${what} (an absolute path)`);
  if (!p.startsWith("/")) throw usageError(`option ${key} must be an absolute path, not ${JSON.stringify(p.slice(0, 60))}`);
  if (p.includes("\0")) throw usageError(`option ${key} must not contain NUL bytes`);
  return p;
}

function stringMap(v: unknown, key: string): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw usageError(`option ${key} must be an object of strings, not ${describe(v)}`);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string") throw usageError(`option ${key}.${k} must be a string, not ${describe(x)}`);
  }
  return { ...(v as Record<string, string>) };
}

/** A short, printable description of a bad value for a message. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

const MOUNT_KEYS = new Set(["source", "target", "type", "readonly", "options"]);
const MOUNT_TYPES = new Set(["bind", "tmpfs", "proc"]);

/** The mounts option: each entry checked, its defaults filled in (bind, writable, no options). */
function mountsOf(v: unknown): MountSpec[] {
  if (!Array.isArray(v)) throw usageError(`option mounts must be an array of { source, target, type?, readonly?, options? }, not ${describe(v)}`);
  return v.map((m: unknown, i) => {
    const at = `mounts[${i}]`;
    if (typeof m !== "object" || m === null || Array.isArray(m)) throw usageError(`option ${at} must be an object { source, target, type?, readonly?, options? }, not ${describe(m)}`);
    for (const k of Object.keys(m)) {
      if (!MOUNT_KEYS.has(k)) throw usageError(`option ${at}: unknown key '${k.slice(0, 40)}' (allowed: ${[...MOUNT_KEYS].join(", ")})`);
    }
    const x = m as Record<string, unknown>;
    const type = x.type === undefined ? "bind" : x.type;
    if (typeof type !== "string" || !MOUNT_TYPES.has(type)) throw usageError(`option ${at}.type must be "bind", "tmpfs" or "proc", not ${describe(type)}`);
    const source = type === "bind" ? absolute(x.source, `${at}.source`, "a host directory") : str(x.source, `${at}.source`);
    return {
      source,
      target: absolute(x.target, `${at}.target`, "a path in the jail"),
      type: type as MountSpec["type"],
      readonly: x.readonly === undefined ? false : bool(x.readonly, `${at}.readonly`),
      options: strings(x.options, `${at}.options`),
    };
  });
}

const LISTENER_KEYS = new Set(["exit", "oom", "limit", "halt"]);

/** run()'s own options: stdin, maxOutputBytes, signal, on. */
function checkRunOptions(x: Record<string, unknown>): void {
  if (x.stdin !== undefined && typeof x.stdin !== "string" && !(x.stdin instanceof Uint8Array)) {
    throw usageError(`option stdin must be a string or a Uint8Array, not ${describe(x.stdin)}`);
  }
  if (x.maxOutputBytes !== undefined && (typeof x.maxOutputBytes !== "number" || !Number.isSafeInteger(x.maxOutputBytes) || x.maxOutputBytes < 0)) {
    throw usageError(`option maxOutputBytes must be a whole number of bytes, 0 or more, not ${describe(x.maxOutputBytes)}`);
  }
  if (x.signal !== undefined) {
    const s = x.signal as { aborted?: unknown; addEventListener?: unknown } | null;
    if (typeof s !== "object" || s === null || typeof s.aborted !== "boolean" || typeof s.addEventListener !== "function") {
      throw usageError(`option signal must be an AbortSignal, not ${describe(x.signal)}`);
    }
  }
  if (x.on !== undefined) {
    if (typeof x.on !== "object" || x.on === null || Array.isArray(x.on)) throw usageError(`option on must be an object of listeners { exit?, oom?, limit?, halt? }, not ${describe(x.on)}`);
    for (const [k, f] of Object.entries(x.on)) {
      if (!LISTENER_KEYS.has(k)) throw usageError(`option on: unknown event '${k.slice(0, 40)}' (allowed: ${[...LISTENER_KEYS].join(", ")})`);
      if (f !== undefined && typeof f !== "function") throw usageError(`option on.${k} must be a function, not ${describe(f)}`);
    }
  }
}

/** Checks an options object strictly and turns it into a validated JailSpec. */
export function specFromOptions(o: unknown, kind: "run" | "create"): JailSpec {
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw usageError(`options must be an object, not ${describe(o)}`);
  const allowed = kind === "run" ? RUN_KEYS : SPEC_KEYS;
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) throw usageError(`unknown option '${k.slice(0, 40)}' (allowed: ${[...allowed].join(", ")})`);
  }
  const x = o as Record<string, unknown>;
  const spec = baseSpec(absolute(x.path, "path", "the jail's root directory"), str(x.hostname, "hostname"));
  if (x.name !== undefined) spec.name = str(x.name, "name");
  if (x.idrange !== undefined) spec.idrange = str(x.idrange, "idrange");
  if (x.command !== undefined) {
    spec.command = strings(x.command, "command");
    if (spec.command.length === 0) throw usageError("option command must not be empty: give the argv of the command to run");
  } else if (kind === "run") throw usageError("option command (an argv array) is required");
  spec.env = x.env !== undefined ? stringMap(x.env, "env") : { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
  if (x.cwd !== undefined) spec.cwd = absolute(x.cwd, "cwd", "a directory in the jail");
  if (x.user !== undefined) {
    const u = x.user as { name?: unknown; from?: unknown } | string | null;
    if (typeof u === "string") spec.user = { name: u, from: "jail" };
    else if (typeof u === "object" && u !== null && !Array.isArray(u) && typeof u.name === "string" && (u.from === "host" || u.from === "jail")
      && Object.keys(u).every((k) => k === "name" || k === "from")) spec.user = { name: u.name, from: u.from };
    else throw usageError(`option user must be a user name or { name, from: "host" | "jail" }, not ${describe(x.user)}`);
    if (!spec.user.name) throw usageError("option user must not be an empty name");
  }
  if (x.stateDir !== undefined) absolute(x.stateDir, "stateDir", "a directory");
  if (kind === "run") checkRunOptions(x);
  spec.limits = normalizeLimits(x.limits);
  const policy: PolicyOptions = {
    ...spec.policy,
    allowRawSockets: bool(x.allowRawSockets, "allowRawSockets"),
    allowAllDomains: bool(x.allowAllDomains, "allowAllDomains"),
    allowIpc: bool(x.allowIpc, "allowIpc"),
    allowChflags: bool(x.allowChflags, "allowChflags"),
    allowRlimit: bool(x.allowRlimit, "allowRlimit"),
    allowSetHostname: bool(x.allowSetHostname, "allowSetHostname"),
    ...(bool(x.allowSetuid, "allowSetuid") ? { allowSetuid: true } : {}),
    files: strings(x.policyFiles, "policyFiles"),
  };
  if (x.pledge !== undefined) {
    if (typeof x.pledge !== "string") throw usageError(`option pledge must be a string of promises, not ${describe(x.pledge)}`);
    policy.pledge = parsePromises(x.pledge, "option pledge");
  }
  spec.policy = policy;
  if (x.unveil !== undefined) {
    const u = x.unveil as unknown;
    if (typeof u !== "object" || u === null || Array.isArray(u) || !Object.values(u).every((v) => typeof v === "string")) {
      throw usageError(`option unveil must be { path: perms }, not ${describe(u)}`);
    }
    spec.unveil = checkUnveil(Object.entries(u as Record<string, string>).map(([path, perms]) => ({ path, perms })), "option unveil");
  }
  if (bool(x.unveilBestEffort, "unveilBestEffort")) spec.unveilBestEffort = true;
  spec.ip4 = strings(x.ip4, "ip4");
  spec.ip6 = strings(x.ip6, "ip6");
  spec.vnet = bool(x.vnet, "vnet");
  if (x.mounts !== undefined) spec.mounts = mountsOf(x.mounts);
  if (x.meta !== undefined) spec.meta = stringMap(x.meta, "meta");
  spec.killOnExit = x.killOnExit === undefined ? kind === "run" : bool(x.killOnExit, "killOnExit");
  spec.persist = kind === "create";
  try {
    return validateSpec(spec);
  } catch (err) {
    if (err instanceof SysjailError) throw err;
    throw new SysjailError((err as Error).message, { code: "EINVAL", phase: "usage", cause: err });
  }
}

const SPAWN_KEYS = new Set(["env", "cwd", "user"]);

/** spawn()'s and exec()'s arguments, checked (exec() also takes stdin). */
export function checkSpawn(method: "spawn" | "exec", cmd: unknown, args: unknown, opts: unknown): void {
  if (typeof cmd !== "string" || cmd === "") throw usageError(`${method}(): the command must be a non-empty string, not ${describe(cmd)}`);
  strings(args, `${method}() arguments`);
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) throw usageError(`${method}(): options must be an object, not ${describe(opts)}`);
  const x = opts as Record<string, unknown>;
  for (const k of Object.keys(x)) {
    if (!SPAWN_KEYS.has(k) && !(method === "exec" && k === "stdin")) {
      throw usageError(`${method}(): unknown option '${k.slice(0, 40)}' (allowed: env, cwd, user${method === "exec" ? ", stdin" : ""})`);
    }
  }
  if (x.env !== undefined) stringMap(x.env, "env");
  if (x.cwd !== undefined) absolute(x.cwd, "cwd", "a directory in the jail");
  if (x.user !== undefined) str(x.user, "user", "a user name of the jail");
  if (x.stdin !== undefined && typeof x.stdin !== "string" && !(x.stdin instanceof Uint8Array)) {
    throw usageError(`option stdin must be a string or a Uint8Array, not ${describe(x.stdin)}`);
  }
}

/** A jail id for get(): a jid (a whole number above 0) or a name. */
export function checkJailId(id: unknown): string {
  if ((typeof id === "number" && Number.isSafeInteger(id) && id > 0) || (typeof id === "string" && id !== "")) return String(id);
  throw usageError(`a jail is named by its jid (a whole number above 0) or its name, not ${describe(id)}`);
}

/** The { stateDir } options of list(), get() and Jail.get(). */
export function checkStateDirOption(o: unknown): string | undefined {
  if (o === undefined) return undefined;
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw usageError(`options must be an object { stateDir? }, not ${describe(o)}`);
  for (const k of Object.keys(o)) if (k !== "stateDir") throw usageError(`unknown option '${k.slice(0, 40)}' (allowed: stateDir)`);
  const d = (o as { stateDir?: unknown }).stateDir;
  return d === undefined ? undefined : absolute(d, "stateDir", "a directory");
}
