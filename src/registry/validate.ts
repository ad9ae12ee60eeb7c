// Checks a registry entry read from a user's state directory, field by field, before root acts on it.
//
// Security: root's tools (jls, sjls, jexec, jail -r/-m) see every user's jails through the
// users' own registry directories, whose files the users write. Nothing in such a file is
// trusted: every field the tools use is checked here for its type, its form and its size, and
// the entry they act on is rebuilt from the checked fields only (unknown keys are dropped). A
// field that fails makes the whole entry corrupt: the tools then show the jail by jid and pid
// (when its init can be proved to be that user's jail) and can remove it, but take nothing else
// from it: no hook, name, path or cgroup of a corrupt entry is used.
import { isIPv4, isIPv6 } from "node:net";
import { isAbsolute, normalize } from "node:path";
import type { JailSpec, Limits, MountSpec, PolicyOptions, UnveilSpec } from "../spec/types.js";
import { PROMISE_NAMES } from "../seccomp/promises.js";
import { MAX_UNVEIL } from "../spec/unveil.js";
import type { JailEntry } from "./types.js";
import { belowHierarchy, inHierarchyOf, isJoinedKey, JOINED_V1 } from "../cgroup/joined.js";

/** Largest pid the kernel hands out (PID_MAX_LIMIT). */
const PID_MAX = 4194304;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
const HOSTNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Caps on sizes: a path, a string, a list, an argv, a record. */
const MAX = { path: 4096, string: 65536, list: 4096, argv: 131072, record: 1024 };
/** The cgroups sysjail records: its controllers, "net" (a shared-stack jail's cgroup2 directory),
 * "unified" (a hybrid host's v1 jail's leaf there, for its cgroup namespace) and the other v1
 * hierarchies a sysjail-oci container joins (src/cgroup/joined.ts). */
const CONTROLLERS = new Set(["memory", "pids", "cpu", "cpuacct", "devices", "net", "unified", ...JOINED_V1]);
const HOOKS = ["prepare", "prestart", "created", "start", "poststart", "prestop", "stop", "poststop", "release"];

/** The outcome of a check: the rebuilt entry, or the fields that failed. */
export type EntryCheck = { ok: true; entry: JailEntry } | { ok: false; problems: string[] };

class Checker {
  readonly problems: string[] = [];
  bad(field: string, why: string): undefined {
    if (this.problems.length < 32) this.problems.push(`${field}: ${why}`);
    return undefined;
  }
  obj(field: string, v: unknown): Record<string, unknown> | undefined {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return this.bad(field, "not an object");
    if (Object.keys(v).length > MAX.record) return this.bad(field, "too many keys");
    return v as Record<string, unknown>;
  }
  int(field: string, v: unknown, min: number, max: number): number | undefined {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) return this.bad(field, `not an integer in ${min}..${max}`);
    return v;
  }
  num(field: string, v: unknown): number | undefined {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return this.bad(field, "not a non-negative number");
    return v;
  }
  bool(field: string, v: unknown): boolean | undefined {
    if (typeof v !== "boolean") return this.bad(field, "not a boolean");
    return v;
  }
  str(field: string, v: unknown, max = MAX.string, re?: RegExp): string | undefined {
    if (typeof v !== "string") return this.bad(field, "not a string");
    if (Buffer.byteLength(v) > max) return this.bad(field, `longer than ${max} bytes`);
    if (v.includes("\0")) return this.bad(field, "holds a NUL byte");
    if (re && !re.test(v)) return this.bad(field, `does not match ${re.source}`);
    return v;
  }
  path(field: string, v: unknown): string | undefined {
    const s = this.str(field, v, MAX.path);
    if (s === undefined) return undefined;
    if (!isAbsolute(s) || normalize(s) !== s || s.split("/").includes("..")) return this.bad(field, "not an absolute, normal path");
    return s;
  }
  strings(field: string, v: unknown, each: (f: string, x: unknown) => string | undefined, max = MAX.list): string[] | undefined {
    if (!Array.isArray(v)) return this.bad(field, "not a list");
    if (v.length > max) return this.bad(field, `more than ${max} items`);
    const out: string[] = [];
    let total = 0;
    for (let i = 0; i < v.length; i++) {
      const s = each(`${field}[${i}]`, v[i]);
      if (s === undefined) return undefined;
      total += Buffer.byteLength(s);
      out.push(s);
    }
    if (total > MAX.argv) return this.bad(field, `more than ${MAX.argv} bytes`);
    return out;
  }
  record(field: string, v: unknown, key = KEY): Record<string, string> | undefined {
    const o = this.obj(field, v);
    if (!o) return undefined;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(o)) {
      if (this.str(`${field} key`, k, 128, key) === undefined) return undefined;
      const s = this.str(`${field}.${k}`, x);
      if (s === undefined) return undefined;
      out[k] = s;
    }
    return out;
  }
}

const ip4 = (c: Checker) => (f: string, x: unknown) => {
  const s = c.str(f, x, 64);
  return s !== undefined && !isIPv4(s.split("/")[0]!.split("|").pop()!) ? c.bad(f, "not an IPv4 address") : s;
};
const ip6 = (c: Checker) => (f: string, x: unknown) => {
  const s = c.str(f, x, 128);
  return s !== undefined && !isIPv6(s.split("/")[0]!.split("|").pop()!) ? c.bad(f, "not an IPv6 address") : s;
};

/** A uid_map/gid_map text: up to 340 lines of three numbers. */
function idMapText(c: Checker, f: string, v: unknown): string | undefined {
  const s = c.str(f, v, 16384);
  if (s === undefined) return undefined;
  const lines = s.split("\n").filter((l) => l.trim() !== "");
  if (lines.length > 340 || !lines.every((l) => /^\s*\d{1,10}\s+\d{1,10}\s+\d{1,10}\s*$/.test(l))) return c.bad(f, "not an id map");
  return s;
}

function checkPolicy(c: Checker, v: unknown): PolicyOptions | undefined {
  const o = c.obj("spec.policy", v);
  if (!o) return undefined;
  const b = (k: keyof PolicyOptions) => c.bool(`spec.policy.${k}`, o[k]);
  const p = {
    allowRawSockets: b("allowRawSockets"), allowAllDomains: b("allowAllDomains"), allowIpc: b("allowIpc"),
    allowChflags: b("allowChflags"), allowRlimit: b("allowRlimit"), allowSetHostname: b("allowSetHostname"),
    // read (by jexec's filter) as regular files only, non-blocking, size-capped: see src/host/regular.ts
    files: c.strings("spec.policy.files", o.files, (f, x) => c.str(f, x, MAX.path), 64), replaceDefault: b("replaceDefault"),
  };
  if (Object.values(p).some((x) => x === undefined)) return undefined;
  if (o.pledge !== undefined) {
    const pl = c.strings("spec.policy.pledge", o.pledge, (f, x) => (typeof x === "string" && (PROMISE_NAMES as readonly string[]).includes(x) ? x : c.bad(f, "not a promise")), PROMISE_NAMES.length);
    if (pl === undefined) return undefined;
    (p as PolicyOptions).pledge = pl;
  }
  if (o.allowNesting !== undefined) {
    const n = c.bool("spec.policy.allowNesting", o.allowNesting);
    if (n === undefined) return undefined;
    (p as PolicyOptions).allowNesting = n;
  }
  return p as PolicyOptions;
}

const LIMIT_KEYS: (keyof Limits)[] = ["memory", "swap", "pids", "cpu", "wall", "cpuShares", "cores", "openFiles", "fileSize", "tmpSize", "shmSize"];

function checkLimits(c: Checker, v: unknown): Limits | undefined {
  const o = c.obj("spec.limits", v);
  if (!o) return undefined;
  const out: Limits = {};
  for (const [k, x] of Object.entries(o)) {
    if (!LIMIT_KEYS.includes(k as keyof Limits)) return c.bad(`spec.limits.${k.slice(0, 32)}`, "not a limit");
    const n = c.num(`spec.limits.${k}`, x);
    if (n === undefined) return undefined;
    out[k as keyof Limits] = n;
  }
  return out;
}

function checkMounts(c: Checker, v: unknown): MountSpec[] | undefined {
  if (!Array.isArray(v) || v.length > 256) return c.bad("spec.mounts", "not a list of at most 256 mounts");
  const out: MountSpec[] = [];
  for (let i = 0; i < v.length; i++) {
    const f = `spec.mounts[${i}]`;
    const o = c.obj(f, v[i]);
    if (!o) return undefined;
    const type = o.type === "bind" || o.type === "tmpfs" || o.type === "proc" ? o.type : c.bad(`${f}.type`, "not bind, tmpfs or proc");
    const m = {
      source: c.str(`${f}.source`, o.source, MAX.path), target: c.str(`${f}.target`, o.target, MAX.path), type,
      readonly: c.bool(`${f}.readonly`, o.readonly), options: c.strings(`${f}.options`, o.options, (g, x) => c.str(g, x, 256), 64),
    };
    if (Object.values(m).some((x) => x === undefined)) return undefined;
    out.push(m as MountSpec);
  }
  return out;
}

function checkSpec(c: Checker, v: unknown): JailSpec | undefined {
  const o = c.obj("spec", v);
  if (!o) return undefined;
  const spec = {
    path: c.path("spec.path", o.path),
    hostname: c.str("spec.hostname", o.hostname, 64, HOSTNAME),
    env: c.record("spec.env", o.env, /^[^=\0]{1,256}$/),
    cleanEnv: c.bool("spec.cleanEnv", o.cleanEnv),
    ip4: c.strings("spec.ip4", o.ip4, ip4(c), 64),
    ip6: c.strings("spec.ip6", o.ip6, ip6(c), 64),
    vnet: c.bool("spec.vnet", o.vnet),
    policy: checkPolicy(c, o.policy),
    limits: checkLimits(c, o.limits),
    persist: c.bool("spec.persist", o.persist),
    killOnExit: c.bool("spec.killOnExit", o.killOnExit),
    mounts: checkMounts(c, o.mounts),
    devfsRuleset: c.int("spec.devfsRuleset", o.devfsRuleset, 0, 65535),
    mountProc: c.bool("spec.mountProc", o.mountProc),
    mountDev: c.bool("spec.mountDev", o.mountDev),
    meta: c.record("spec.meta", o.meta),
  } as Partial<JailSpec>;
  if (Object.values(spec).some((x) => x === undefined)) return undefined;
  const out = spec as JailSpec;
  if (o.name !== undefined && (out.name = c.str("spec.name", o.name, 64, NAME)) === undefined) return undefined;
  if (o.command !== undefined && (out.command = c.strings("spec.command", o.command, (f, x) => c.str(f, x))) === undefined) return undefined;
  if (o.unveil !== undefined) {
    const list = Array.isArray(o.unveil) && o.unveil.length <= MAX_UNVEIL ? o.unveil : c.bad("spec.unveil", "not a list of at most 64 paths");
    if (list === undefined) return undefined;
    const out2: UnveilSpec[] = [];
    for (const u of list as unknown[]) {
      const x = c.obj("spec.unveil[]", u);
      const path = x && c.str("spec.unveil[].path", x.path, MAX.path);
      const perms = x && c.str("spec.unveil[].perms", x.perms, 4, /^[rwxc]{1,4}$/);
      if (path === undefined || perms === undefined || !path.startsWith("/")) return c.bad("spec.unveil[]", "not { path, perms }");
      out2.push({ path, perms });
    }
    out.unveil = out2;
  }
  if (o.unveilBestEffort !== undefined && (out.unveilBestEffort = c.bool("spec.unveilBestEffort", o.unveilBestEffort)) === undefined) return undefined;
  if (o.cwd !== undefined && (out.cwd = c.str("spec.cwd", o.cwd, MAX.path)) === undefined) return undefined;
  if (o.user !== undefined) {
    const u = c.obj("spec.user", o.user);
    const name = u && c.str("spec.user.name", u.name, 256);
    const from = u && (u.from === "host" || u.from === "jail" ? u.from : c.bad("spec.user.from", "not host or jail"));
    if (name === undefined || from === undefined) return undefined;
    out.user = { name, from };
  }
  if (o.params !== undefined) {
    const p = c.obj("spec.params", o.params);
    if (!p) return undefined;
    const params: Record<string, string | string[] | boolean> = {};
    for (const [k, x] of Object.entries(p)) {
      if (c.str("spec.params key", k, 128, KEY) === undefined) return undefined;
      const val = typeof x === "boolean" ? x : Array.isArray(x) ? c.strings(`spec.params.${k}`, x, (f, y) => c.str(f, y)) : c.str(`spec.params.${k}`, x);
      if (val === undefined) return undefined;
      params[k] = val;
    }
    out.params = params;
  }
  return out;
}

/** The lifecycle of a user's entry: the hook lists and options jail -r and jail -m use. */
function checkLifecycle(c: Checker, v: unknown): Record<string, unknown> | undefined {
  const o = c.obj("lifecycle", v);
  if (!o) return undefined;
  const out: Record<string, unknown> = {};
  const line = (f: string, x: unknown) => c.str(f, x, 16384);
  if (o.exec !== undefined) {
    const e = c.obj("lifecycle.exec", o.exec);
    if (!e) return undefined;
    const exec: Record<string, string[]> = {};
    for (const h of HOOKS) {
      if (e[h] === undefined) continue;
      const l = c.strings(`lifecycle.exec.${h}`, e[h], line, 256);
      if (!l) return undefined;
      exec[h] = l;
    }
    out.exec = exec;
  }
  const opt = <T>(k: string, f: (field: string, x: unknown) => T | undefined): boolean => {
    if (o[k] === undefined) return true;
    const x = f(`lifecycle.${k}`, o[k]);
    if (x === undefined) return false;
    out[k] = x;
    return true;
  };
  const ok = [
    opt("name", (f, x) => c.str(f, x, 64, NAME)),
    opt("jid", (f, x) => c.int(f, x, 0, 0x7fffffff)),
    opt("command", (f, x) => c.strings(f, x, (g, y) => c.str(g, y))),
    opt("clean", (f, x) => c.bool(f, x)),
    opt("jailUser", (f, x) => c.str(f, x, 256)),
    opt("systemJailUser", (f, x) => c.bool(f, x)),
    opt("systemUser", (f, x) => c.str(f, x, 256)),
    opt("execTimeout", (f, x) => c.num(f, x)),
    opt("stopTimeout", (f, x) => c.num(f, x)),
    opt("consoleLog", (f, x) => c.str(f, x, MAX.path)), // opened by the owner's shell
    opt("persist", (f, x) => c.bool(f, x)),
    opt("depend", (f, x) => c.strings(f, x, (g, y) => c.str(g, y, 256), 256)),
    opt("vnetInterfaces", (f, x) => c.strings(f, x, (g, y) => c.str(g, y, 64), 64)),
    opt("mountFstab", (f, x) => c.strings(f, x, (g, y) => c.str(g, y, MAX.path), 64)),
    opt("ip4Mode", (f, x) => (x === "new" || x === "inherit" || x === "disable" ? x : c.bad(f, "not new, inherit or disable"))),
    opt("ip6Mode", (f, x) => (x === "new" || x === "inherit" || x === "disable" ? x : c.bad(f, "not new, inherit or disable"))),
    opt("env", (f, x) => c.record(f, x)),
    opt("metaText", (f, x) => c.str(f, x, 65536)),
    opt("envText", (f, x) => c.str(f, x, 65536)),
    opt("limits", (f, x) => c.record(f, x)),
    opt("childrenMax", (f, x) => c.int(f, x, 0, 0x7fffffff)),
    opt("enforceStatfs", (f, x) => c.int(f, x, 0, 2)),
  ];
  return ok.every(Boolean) ? out : undefined;
}

/** Cgroup directories of a user's jail: known controllers, absolute normal paths below
 * /sys/fs/cgroup/ and not a hierarchy's root (one name below it only where the unified hierarchy
 * is mounted there), another v1 hierarchy's directory inside that hierarchy (ownership is
 * checked where they are used). */
function checkCgroups(c: Checker, v: unknown, v2Root?: boolean): Record<string, string> | undefined {
  const o = c.obj("cgroups", v);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) {
    if (!CONTROLLERS.has(k)) return c.bad(`cgroups.${k.slice(0, 32)}`, "not a controller sysjail uses");
    const p = c.path(`cgroups.${k}`, x);
    if (p === undefined) return undefined;
    if (!belowHierarchy(p, v2Root)) return c.bad(`cgroups.${k}`, "not a cgroup below a hierarchy's root");
    if (isJoinedKey(k) && !inHierarchyOf(k, p)) return c.bad(`cgroups.${k}`, `not a directory of the ${k} hierarchy`);
    out[k] = p;
  }
  return out;
}

/** Checks the entry in file JID.json of a state directory owned by OWNER; the jid must be the
 * file's and the owner the directory's. Liveness (the init's start time) is checked by the caller. */
export function checkEntry(raw: unknown, jid: number, owner: number, v2Root?: boolean): EntryCheck {
  const c = new Checker();
  const o = c.obj("entry", raw);
  if (!o) return { ok: false, problems: c.problems };
  const idmap = c.obj("idmap", o.idmap);
  const e = {
    jid: o.jid === jid && jid > 0 && jid <= 0x7fffffff ? jid : c.bad("jid", `not ${jid}, the file's`),
    name: c.str("name", o.name, 64, NAME),
    path: c.path("path", o.path),
    hostname: c.str("hostname", o.hostname, 64, HOSTNAME),
    ip4: c.strings("ip4", o.ip4, ip4(c), 64),
    ip6: c.strings("ip6", o.ip6, ip6(c), 64),
    initPid: c.int("initPid", o.initPid, 2, PID_MAX),
    initStart: c.int("initStart", o.initStart, 0, Number.MAX_SAFE_INTEGER),
    monitorPid: c.int("monitorPid", o.monitorPid, 0, PID_MAX),
    owner: o.owner === owner ? owner : c.bad("owner", `not ${owner}, the directory's owner`),
    command: c.strings("command", o.command, (f, x) => c.str(f, x)),
    startedAt: c.str("startedAt", o.startedAt, 64, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    persist: c.bool("persist", o.persist),
    idmap: idmap && {
      uidMap: idMapText(c, "idmap.uidMap", idmap.uidMap), gidMap: idMapText(c, "idmap.gidMap", idmap.gidMap),
      rootless: c.bool("idmap.rootless", idmap.rootless),
    },
    cgroups: checkCgroups(c, o.cgroups, v2Root),
    spec: checkSpec(c, o.spec),
  } as Partial<JailEntry>;
  if (e.idmap && Object.values(e.idmap).some((x) => x === undefined)) e.idmap = undefined;
  const out = e as JailEntry;
  if (o.monitorStart !== undefined) out.monitorStart = c.int("monitorStart", o.monitorStart, 0, Number.MAX_SAFE_INTEGER);
  if (o.lifecycle !== undefined) out.lifecycle = checkLifecycle(c, o.lifecycle);
  if (c.problems.length || Object.values(out).some((x) => x === undefined)) {
    return { ok: false, problems: c.problems.length ? c.problems : ["entry: incomplete"] };
  }
  return { ok: true, entry: out };
}

/** The init of a corrupt entry, when its pid and start time at least have the right form. */
export function corruptInit(raw: unknown): { initPid: number; initStart: number } | undefined {
  const o = raw as Record<string, unknown> | null;
  if (typeof o !== "object" || o === null) return undefined;
  const { initPid, initStart } = o;
  if (typeof initPid !== "number" || !Number.isSafeInteger(initPid) || initPid < 2 || initPid > PID_MAX) return undefined;
  if (typeof initStart !== "number" || !Number.isSafeInteger(initStart) || initStart < 0) return undefined;
  return { initPid, initStart };
}
