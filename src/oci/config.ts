// config.json of an OCI bundle (runtime-spec 1.2): the part sysjail-oci reads, checked on load.
import { readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { SysjailError } from "../errors.js";

/** A runtime error of sysjail-oci: one line, and exit status 1 as runc gives. */
export function ociError(message: string, code = "EINVAL"): SysjailError {
  return new SysjailError(message, { code, phase: "runtime", exitCode: 1 });
}

/** The most strings (keys and values) an engine's JSON document may hold. sysjail-oci's Node
 * keeps the hash seed of Node's own snapshot (native/src/front.c, --no-rehash-snapshot), which
 * anyone can read from that Node build: keys made to collide under it would make JSON.parse
 * quadratic in their number (V8 puts keys and short string values into one hash table). This
 * bound keeps the worst case to a fraction of a second of one create; podman's config.json
 * holds about 800 strings. docs/JAILS.md, Security, "sysjail-oci's Node keeps the snapshot's
 * hash seed". */
export const MAX_JSON_STRINGS = 16384;

/** Refuses TEXT (named WHERE in the error) when it may hold more than MAX_JSON_STRINGS strings:
 * every string has two unescaped quotes, so half the quotes is an upper bound, counted without
 * parsing. */
export function checkJsonBound(text: string, where: string): void {
  let quotes = 0;
  const limit = 2 * MAX_JSON_STRINGS;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) {
    if (++quotes > limit) throw ociError(`${where}: more than ${MAX_JSON_STRINGS} strings (the most sysjail-oci reads from one JSON document)`);
  }
}

/** One OCI mount. */
export interface OciMount { destination: string; type?: string; source?: string; options?: string[] }
/** One OCI rlimit. */
export interface OciRlimit { type: string; hard: number; soft: number }
/** An OCI seccomp argument comparison. */
export interface OciSeccompArg { index: number; value: number; valueTwo?: number; op: string }
/** An OCI seccomp rule. */
export interface OciSyscall { names: string[]; action: string; errnoRet?: number; args?: OciSeccompArg[] }
/** linux.seccomp. */
export interface OciSeccomp { defaultAction: string; defaultErrnoRet?: number; architectures?: string[]; flags?: string[]; syscalls?: OciSyscall[]; listenerPath?: string }

/** The process section (config.json `process`, or an exec --process file). */
export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user?: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args?: string[];
  env?: string[];
  cwd?: string;
  capabilities?: { bounding?: string[]; effective?: string[]; inheritable?: string[]; permitted?: string[]; ambient?: string[] };
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
}

/** The config.json fields sysjail-oci reads. */
export interface OciConfig {
  ociVersion: string;
  root?: { path: string; readonly?: boolean };
  mounts?: OciMount[];
  process?: OciProcess;
  hostname?: string;
  domainname?: string;
  annotations?: Record<string, string>;
  hooks?: Record<string, unknown[]>;
  linux?: {
    namespaces?: { type: string; path?: string }[];
    uidMappings?: { containerID: number; hostID: number; size: number }[];
    gidMappings?: { containerID: number; hostID: number; size: number }[];
    sysctl?: Record<string, string>;
    resources?: {
      memory?: { limit?: number; swap?: number; reservation?: number };
      pids?: { limit?: number };
      cpu?: { shares?: number; quota?: number; period?: number; cpus?: string };
      [k: string]: unknown;
    };
    cgroupsPath?: string;
    seccomp?: OciSeccomp;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    devices?: unknown[];
    mountLabel?: string;
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const strList = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === "string"));

/** Checks the shape of a process section (config.json's or exec --process's). */
export function checkProcess(p: unknown, where: string): OciProcess {
  if (!isObj(p)) throw ociError(`${where}: "process" must be an object`);
  if (!strList(p.args) || !strList(p.env)) throw ociError(`${where}: process.args and process.env must be lists of strings`);
  if (p.cwd !== undefined && (typeof p.cwd !== "string" || !p.cwd.startsWith("/"))) throw ociError(`${where}: process.cwd must be an absolute path`);
  const u = p.user;
  if (u !== undefined && (!isObj(u) || !Number.isInteger(u.uid ?? 0) || !Number.isInteger(u.gid ?? 0))) throw ociError(`${where}: process.user needs numeric uid and gid`);
  if (p.rlimits !== undefined && (!Array.isArray(p.rlimits) || !p.rlimits.every((r) => isObj(r) && typeof r.type === "string"))) {
    throw ociError(`${where}: process.rlimits must be a list of {type, hard, soft}`);
  }
  const caps = p.capabilities;
  if (caps !== undefined && !isObj(caps)) throw ociError(`${where}: process.capabilities must be an object of capability lists`);
  for (const set of ["bounding", "effective", "inheritable", "permitted", "ambient"]) {
    const list = caps?.[set];
    if (list !== undefined && !strList(list)) throw ociError(`${where}: process.capabilities.${set} must be a list of names`);
  }
  return p as OciProcess;
}

/** Reads and checks BUNDLE/config.json; the root path comes back absolute. */
export function loadConfig(bundle: string): { config: OciConfig; bundle: string; rootPath: string } {
  const dir = resolve(bundle);
  const file = join(dir, "config.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    throw ociError(`bundle ${bundle}: ${code === "ENOENT" ? "no config.json there (no such bundle?)" : `config.json: ${code}`}`, code);
  }
  checkJsonBound(text, file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw ociError(`${file}: not valid JSON (${(err as Error).message.split("\n")[0]})`);
  }
  if (!isObj(raw)) throw ociError(`${file}: must hold a JSON object`);
  if (typeof raw.ociVersion !== "string") throw ociError(`${file}: "ociVersion" is missing`);
  // as runc: a version that is not 1.x.y (semver, with an optional pre-release) is refused
  if (!/^1\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(raw.ociVersion)) {
    throw ociError(`${file}: "ociVersion" ${JSON.stringify(raw.ociVersion.slice(0, 40))} is not a 1.x.y version (runtime-spec 1)`);
  }
  if (!isObj(raw.root) || typeof raw.root.path !== "string") throw ociError(`${file}: "root.path" is missing`);
  if (raw.process !== undefined) checkProcess(raw.process, file);
  if (raw.mounts !== undefined && (!Array.isArray(raw.mounts) || !raw.mounts.every((m) => isObj(m) && typeof m.destination === "string"))) {
    throw ociError(`${file}: "mounts" must be a list of objects with a destination`);
  }
  if (raw.hostname !== undefined && typeof raw.hostname !== "string") throw ociError(`${file}: "hostname" must be a string`);
  const config = raw as unknown as OciConfig;
  const rootPath = isAbsolute(config.root!.path) ? config.root!.path : join(dir, config.root!.path);
  return { config, bundle: dir, rootPath };
}
