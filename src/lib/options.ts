// The library's strict options: the same JailSpec as the CLI and jail.conf, built by one validation.
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

/** What a Node program passes to run() and Jail.create(). Unknown keys are rejected. */
export interface JailOptions {
  path: string;
  hostname: string;
  name?: string;
  /** Root's jails: share this jail's (name or jid) host id range, or a range base of the pool. */
  idrange?: string;
  /** argv of the command (run(): required). */
  command?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this user of the jail's passwd (or { name, from: "host" }). */
  user?: string | { name: string; from: "host" | "jail" };
  limits?: Record<string, string | number>;
  allowRawSockets?: boolean;
  allowAllDomains?: boolean;
  allowIpc?: boolean;
  allowChflags?: boolean;
  allowRlimit?: boolean;
  allowSetHostname?: boolean;
  /** No no_new_privs: setuid programs of the jail's own ids work inside (docs/JAILS.md). */
  allowSetuid?: boolean;
  /** Policy files added to the default policy. */
  policyFiles?: string[];
  ip4?: string[];
  ip6?: string[];
  vnet?: boolean;
  mounts?: MountSpec[];
  meta?: Record<string, string>;
  /** End the jail when its command ends (run() default: true). */
  killOnExit?: boolean;
  /** The registry directory (default: /run/sysjail for root, else $XDG_RUNTIME_DIR/sysjail). */
  stateDir?: string;
}

/** run()'s extra options. */
export interface RunOptions extends JailOptions {
  command: string[];
  /** Data for the command's standard input (default: none, /dev/null-like EOF). */
  stdin?: string | Uint8Array;
  /** Most bytes kept of stdout and of stderr each (default 1 MiB); the rest is dropped. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
  on?: JailListeners;
}

const SPEC_KEYS = new Set([
  "path", "hostname", "name", "idrange", "command", "env", "cwd", "user", "limits", "allowRawSockets", "allowAllDomains",
  "allowIpc", "allowChflags", "allowRlimit", "allowSetHostname", "allowSetuid", "policyFiles", "ip4", "ip6", "vnet", "mounts",
  "meta", "killOnExit", "stateDir",
]);
const RUN_KEYS = new Set([...SPEC_KEYS, "stdin", "maxOutputBytes", "signal", "on"]);

function bool(v: unknown, key: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw usageError(`sysjail: option ${key} must be a boolean`);
  return v;
}

function strings(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw usageError(`sysjail: option ${key} must be an array of strings`);
  return v as string[];
}

/** Checks an options object strictly and turns it into a validated JailSpec. */
export function specFromOptions(o: unknown, kind: "run" | "create"): JailSpec {
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw usageError("sysjail: options must be an object");
  const allowed = kind === "run" ? RUN_KEYS : SPEC_KEYS;
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) throw usageError(`sysjail: unknown option '${k}' (allowed: ${[...allowed].join(", ")})`);
  }
  const x = o as Record<string, unknown>;
  if (typeof x.path !== "string" || !x.path) throw usageError("sysjail: option path must be a directory path");
  if (typeof x.hostname !== "string") throw usageError("sysjail: option hostname must be a string");
  const spec = baseSpec(x.path, x.hostname);
  if (x.name !== undefined) spec.name = String(x.name);
  if (x.idrange !== undefined) spec.idrange = String(x.idrange);
  if (x.command !== undefined) spec.command = strings(x.command, "command");
  else if (kind === "run") throw usageError("sysjail: option command (an argv array) is required");
  if (x.env !== undefined) {
    if (typeof x.env !== "object" || x.env === null) throw usageError("sysjail: option env must be an object of strings");
    spec.env = Object.fromEntries(Object.entries(x.env as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  } else {
    spec.env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
  }
  if (x.cwd !== undefined) spec.cwd = String(x.cwd);
  if (x.user !== undefined) {
    if (typeof x.user === "string") spec.user = { name: x.user, from: "jail" };
    else if (typeof x.user === "object" && x.user && "name" in x.user) spec.user = x.user as JailSpec["user"] & object;
    else throw usageError("sysjail: option user must be a name or { name, from }");
  }
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
  spec.policy = policy;
  spec.ip4 = strings(x.ip4, "ip4");
  spec.ip6 = strings(x.ip6, "ip6");
  spec.vnet = bool(x.vnet, "vnet");
  if (x.mounts !== undefined) spec.mounts = x.mounts as MountSpec[];
  if (x.meta !== undefined) spec.meta = x.meta as Record<string, string>;
  spec.killOnExit = x.killOnExit === undefined ? kind === "run" : bool(x.killOnExit, "killOnExit");
  spec.persist = kind === "create";
  try {
    return validateSpec(spec);
  } catch (err) {
    if (err instanceof SysjailError) throw err;
    throw new SysjailError(`sysjail: ${(err as Error).message}`, { code: "EINVAL", phase: "usage", cause: err });
  }
}
