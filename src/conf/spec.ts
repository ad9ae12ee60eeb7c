// Maps a resolved parameter set onto Partial<JailSpec> plus the JailLifecycle that jail(8) itself acts on.
import { readHostConfig } from "../host/hostfile.js";
import { isIPv4, isIPv6 } from "node:net";
import { posix } from "node:path";
import { defaultPolicy, type JailSpec, type Limits, type MountSpec } from "../spec/types.js";
import { confError, confWarning, type SourcePos } from "./errors.js";
import { parseFstab, parseFstabAt } from "./fstab.js";
import { storeRecord, storeSetAll } from "./kvstore.js";
import { lookupParam } from "./params.js";
import { rctlRule, type LimitKey } from "./rctl.js";
import { parsePromises } from "../seccomp/promises.js";
import { checkUnveil, parseUnveilArg } from "../spec/unveil.js";
import { SysjailError } from "../errors.js";
import type { ParamValue, ResolvedJail } from "./resolve.js";

/** The exec.* hooks, each a list of sh(1) command lines run in order. */
export interface JailHooks {
  prepare: string[];
  prestart: string[];
  created: string[];
  start: string[];
  poststart: string[];
  prestop: string[];
  stop: string[];
  poststop: string[];
  release: string[];
}

/** What jail(8) does around the jail itself: hooks, users, timeouts, dependencies (JSON-serialisable). */
export interface JailLifecycle {
  name?: string;
  /** Requested jid (absent: assign one). */
  jid?: number;
  exec: JailHooks;
  /** The command argv, run in the jail after exec.start (also JailSpec.command). */
  command?: string[];
  /** exec.clean: hooks and commands get a clean environment. */
  clean: boolean;
  jailUser?: string;
  /** exec.jail_user is looked up in the host's passwd (jail -u) rather than the jail's (jail -U). */
  systemJailUser: boolean;
  /** User for the host-side hooks. */
  systemUser?: string;
  /** Seconds an exec.* command may run (absent or 0: no limit). */
  execTimeout?: number;
  /** Seconds from SIGTERM to SIGKILL on removal (default 10; 0: SIGKILL at once). */
  stopTimeout: number;
  /** Host file that hook output is appended to. */
  consoleLog?: string;
  /** Jails created before this one, removed after it. */
  depend: string[];
  /** Host interfaces moved into the vnet jail. */
  vnetInterfaces: string[];
  /** mount.fstab files (already folded into JailSpec.mounts). */
  mountFstab: string[];
  ip4Mode: "new" | "inherit" | "disable";
  ip6Mode: "new" | "inherit" | "disable";
  /** The env store as key=value pairs (FreeBSD's readable-in-jail store; not the command's environment). */
  env: Record<string, string>;
  /** The meta and env stores whole, as FreeBSD keeps them: free text whose key=value lines the
   * meta.KEY/env.KEY views read (meta and env above hold only those lines). */
  metaText?: string;
  envText?: string;
  /** Raw limit values by Limits field, from limits.* and rctl, for the limits parser. */
  limits: Partial<Record<LimitKey, string>>;
  childrenMax: number;
  enforceStatfs: number;
}

/** Options of paramsToSpec. */
export interface ToSpecOptions {
  /** Reads mount.fstab files (default: the local filesystem). */
  readFile?: (path: string) => string;
  /** Converts a raw limit ("256M", "10s") into the Limits number (undefined: unlimited); when given, JailSpec.limits is filled. */
  parseLimit?: (key: LimitKey, raw: string) => number | undefined;
}

/** The result of paramsToSpec. */
export interface ConfSpec {
  spec: Partial<JailSpec>;
  lifecycle: JailLifecycle;
  warnings: string[];
}

const HOOKS: (keyof JailHooks)[] = ["prepare", "prestart", "created", "start", "poststart", "prestop", "stop", "poststop", "release"];

/** The order jail -c runs things in (the lead's create path follows it). */
export const CREATE_STEPS = [
  "exec.prepare", "addresses", "mounts", "mount.devfs", "mount.procfs", "exec.prestart", "create",
  "exec.created", "vnet.interface", "exec.start", "command", "exec.poststart",
] as const;

/** The order jail -r runs things in. */
export const REMOVE_STEPS = [
  "exec.prestop", "exec.stop", "stop.timeout", "remove", "vnet.interface", "mount.procfs", "mount.devfs",
  "mounts", "addresses", "exec.poststop", "exec.release",
] as const;

function noPos(name: string): SourcePos {
  return { file: `(parameter ${name})`, line: 0, col: 0 };
}

/** Addresses without FreeBSD's `iface|` prefix, `/mask` and trailing ifconfig words; validated. */
function addresses(r: ResolvedJail, name: "ip4.addr" | "ip6.addr", warnings: string[]): string[] {
  const vals = r.params[name];
  if (!Array.isArray(vals)) return [];
  const out: string[] = [];
  let warned = false;
  vals.forEach((v, i) => {
    const pos = r.valueSources[name]?.[i] ?? r.sources[name] ?? noPos(name);
    let a = v.trim();
    const bar = a.indexOf("|");
    const extra = bar >= 0 || /[/ ]/.test(a);
    if (bar >= 0) a = a.slice(bar + 1);
    a = a.split(/[/ ]/)[0]!;
    const ok = name === "ip4.addr" ? isIPv4(a) : isIPv6(a);
    if (!ok) throw confError(pos, `${name}: '${a}' is not an ${name === "ip4.addr" ? "IPv4" : "IPv6"} address`, v);
    if (extra && !warned) {
      warnings.push(confWarning(pos, `${name}: the interface, netmask and ifconfig options are ignored on Linux`));
      warned = true;
    }
    if (!out.includes(a)) out.push(a);
  });
  return out;
}

/** Maps resolved parameters (or a bare parameter record) onto a JailSpec part and the lifecycle. */
export function paramsToSpec(resolved: ResolvedJail | Record<string, ParamValue>, opts: ToSpecOptions = {}): ConfSpec {
  const r: ResolvedJail = isResolved(resolved)
    ? resolved
    : { name: "", params: resolved, sources: {}, valueSources: {}, warnings: [] };
  const P = r.params;
  const warnings = [...r.warnings];
  const pos = (n: string): SourcePos => r.sources[n] ?? noPos(n);
  const str = (n: string): string | undefined => (typeof P[n] === "string" ? (P[n] as string) : undefined);
  const list = (n: string): string[] => (Array.isArray(P[n]) ? [...(P[n] as string[])] : []);
  const bool = (n: string): boolean => P[n] === true;
  const int = (n: string): number | undefined => (str(n) !== undefined ? Number(str(n)) : undefined);
  const spec: Partial<JailSpec> = {};

  const name = str("name");
  const jid = int("jid");
  if (name !== undefined) {
    if (name.includes(".")) throw confError(pos("name"), `jail name '${name}' contains '.' (nested jails are not supported)`, name);
    if (/^[0-9]+$/.test(name) && Number(name) !== jid) throw confError(pos("name"), `a numeric jail name must equal the jid`, name);
    spec.name = name;
  }
  const path = str("path");
  if (path !== undefined) {
    if (!path.startsWith("/")) throw confError(pos("path"), `path '${path}' is not an absolute pathname`, path);
    spec.path = posix.normalize(path).replace(/(.)\/+$/, "$1");
  }
  const hostname = str("host.hostname");
  if (hostname !== undefined) spec.hostname = hostname;

  spec.ip4 = addresses(r, "ip4.addr", warnings);
  spec.ip6 = addresses(r, "ip6.addr", warnings);
  const mode = (fam: "ip4" | "ip6", addrs: string[]) => {
    const m = (str(fam) ?? (addrs.length ? "new" : "disable")) as JailLifecycle["ip4Mode"];
    if (addrs.length && m !== "new") throw confError(pos(fam), `${fam}.addr needs ${fam} = new, not ${m}`, m);
    return m;
  };
  spec.vnet = bool("vnet");
  const vnetInterfaces = list("vnet.interface");
  if (vnetInterfaces.length && !spec.vnet) throw confError(pos("vnet.interface"), "vnet.interface needs vnet", vnetInterfaces[0]!);
  spec.persist = bool("persist");
  spec.killOnExit = false;
  const idrange = str("idrange");
  if (idrange !== undefined && idrange !== "") spec.idrange = idrange;
  const command = Array.isArray(P.command) ? [...P.command] : undefined;
  if (command) spec.command = command;
  spec.cleanEnv = bool("exec.clean");
  const jailUser = str("exec.jail_user") || undefined;
  if (jailUser) spec.user = { name: jailUser, from: bool("exec.system_jail_user") ? "host" : "jail" };

  const mounts: MountSpec[] = [];
  list("mount").forEach((line, i) => {
    const at = r.valueSources.mount?.[i] ?? pos("mount");
    const m = parseFstabAt(line, spec.path, at);
    if (m) mounts.push(m);
  });
  // a host file, never one of the jail's tree (its lines choose host paths to mount)
  const readFile = opts.readFile ?? ((p: string) => readHostConfig(p, spec.path ?? "/"));
  for (const [i, f] of list("mount.fstab").entries()) {
    if (f === "") continue;
    const at = r.valueSources["mount.fstab"]?.[i] ?? pos("mount.fstab");
    let text: string;
    try {
      text = readFile(f);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const why = code === "EXDEV" ? "it lies inside the jail's path (keep it on the host)" : code === "ELOOP" ? "it is a symbolic link" : code === "ENOTREG" ? "not a regular file" : code ?? (e as Error).message;
      throw confError(at, `cannot read fstab file '${f}': ${why}`, f);
    }
    mounts.push(...parseFstab(text, spec.path, f));
  }
  spec.mounts = mounts;
  spec.mountDev = bool("mount.devfs");
  spec.devfsRuleset = int("devfs_ruleset") ?? 4;
  // Linux's ps, top and pgrep read /proc (FreeBSD's read kernel sysctls): a jail gets a procfs of
  // its own processes unless mount.procfs is set false (mount.noprocfs); only where the root has /proc
  spec.mountProc = P["mount.procfs"] === undefined ? true : bool("mount.procfs");

  const policy = defaultPolicy();
  policy.allowRawSockets = bool("allow.raw_sockets");
  policy.allowAllDomains = bool("allow.socket_af");
  policy.allowChflags = bool("allow.chflags");
  policy.allowSetHostname = bool("allow.set_hostname");
  if (bool("allow.setuid")) policy.allowSetuid = true;
  if ((int("children.max") ?? 0) > 0) policy.allowNesting = true;
  policy.allowRlimit = bool("allow.rlimit");
  policy.allowIpc = bool("allow.sysvipc") || ["sysvmsg", "sysvsem", "sysvshm"].some((n) => str(n) === "new" || str(n) === "inherit");
  policy.files = list("policy.files");
  policy.replaceDefault = bool("policy.replace");
  // pledge and unveil: the CLI's own checks, their message placed at the parameter's position
  const atPos = <T>(at: SourcePos, token: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof SysjailError) throw confError(at, e.message, token);
      throw e;
    }
  };
  const pledge = str("pledge");
  if (pledge !== undefined) policy.pledge = atPos(pos("pledge"), pledge, () => parsePromises(pledge, "pledge"));
  const unveil = list("unveil").map((u, i) => {
    const at = r.valueSources.unveil?.[i] ?? pos("unveil");
    return atPos(at, u, () => parseUnveilArg(u, "unveil"));
  });
  if (unveil.length) spec.unveil = atPos(pos("unveil"), unveil.length.toString(), () => checkUnveil(unveil, "unveil"));
  if (bool("unveil.best_effort")) spec.unveilBestEffort = true;
  spec.policy = policy;

  spec.meta = storeRecord(storeSetAll(str("meta") !== undefined ? [str("meta")!] : []));

  const limits: Partial<Record<LimitKey, string>> = {};
  const limitPos: Partial<Record<LimitKey, SourcePos>> = {};
  for (const key of Object.keys(P)) {
    if (key === "rctl") {
      list("rctl").forEach((rule, i) => {
        const at = r.valueSources.rctl?.[i] ?? pos("rctl");
        const { key: k, raw } = rctlRule(rule, at);
        limits[k] = raw;
        limitPos[k] = at;
      });
      continue;
    }
    const ref = lookupParam(key);
    const field = ref?.type === "param" ? (ref.info.limit as LimitKey | undefined) : undefined;
    if (field && str(key) !== undefined) {
      limits[field] = str(key)!;
      limitPos[field] = pos(key);
    }
  }
  if (opts.parseLimit) {
    const parsed: Limits = {};
    for (const [k, raw] of Object.entries(limits) as [LimitKey, string][]) {
      try {
        const n = opts.parseLimit(k, raw);
        if (n !== undefined) parsed[k] = n;
      } catch (e) {
        throw confError(limitPos[k] ?? noPos(k), `bad ${k} limit: ${(e as Error).message}`, raw);
      }
    }
    spec.limits = parsed;
  }

  const childrenMax = int("children.max") ?? 0;
  spec.params = { ...P };

  // Empty command lines (exec.start = '';) run nothing.
  const exec = Object.fromEntries(HOOKS.map((h) => [h, list(`exec.${h}`).filter((c) => c.trim() !== "")])) as unknown as JailHooks;
  const lifecycle: JailLifecycle = {
    exec,
    clean: spec.cleanEnv,
    systemJailUser: bool("exec.system_jail_user"),
    stopTimeout: int("stop.timeout") ?? 10,
    depend: list("depend"),
    vnetInterfaces,
    mountFstab: list("mount.fstab"),
    ip4Mode: mode("ip4", spec.ip4),
    ip6Mode: mode("ip6", spec.ip6),
    env: storeRecord(storeSetAll(str("env") !== undefined ? [str("env")!] : [])),
    limits,
    childrenMax,
    enforceStatfs: int("enforce_statfs") ?? 2,
  };
  if (name !== undefined) lifecycle.name = name;
  lifecycle.metaText = str("meta") ?? "";
  lifecycle.envText = str("env") ?? "";
  if (jid) lifecycle.jid = jid;
  if (command) lifecycle.command = command;
  if (jailUser) lifecycle.jailUser = jailUser;
  const sysUser = str("exec.system_user");
  if (sysUser) lifecycle.systemUser = sysUser;
  const execTimeout = int("exec.timeout");
  if (execTimeout !== undefined) lifecycle.execTimeout = execTimeout;
  const consoleLog = str("exec.consolelog");
  if (consoleLog) lifecycle.consoleLog = consoleLog;
  return { spec, lifecycle, warnings };
}

function isResolved(x: ResolvedJail | Record<string, ParamValue>): x is ResolvedJail {
  const o = x as Partial<ResolvedJail>;
  return typeof o.params === "object" && typeof o.sources === "object" && Array.isArray(o.warnings);
}
