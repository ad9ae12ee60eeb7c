// The OCI operations on one container: create, start, state, kill, delete, run, ps, pause.
import { closeSync, existsSync, linkSync, statSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync, constants as FS } from "node:fs";
import { join, resolve } from "node:path";
import { hostFacts } from "../host/facts.js";
import { builtin } from "../helper/locate.js";
import { pathRan } from "../cli/main.js";
import { takeFront } from "../helper/front.js";
import { HelperRun } from "../helper/launch.js";
import { buildFilter, fingerprint, fnvHex, SECCOMP_FLAGS } from "../jail/filter.js";
import { VERSION } from "../version.js";
import { prepare } from "../jail/prepare.js";
import { isoNow, JailRun } from "../jail/run.js";
import { exitStatus } from "../jail/status.js";
import { jailNamespace, namespaceMembers } from "../manage/proc.js";
import { pinProc } from "../host/pinproc.js";
import { signalEach, signalPinned, type ProcId } from "../host/signal.js";
import { idMapping } from "../plan/ids.js";
import { op } from "../plan/types.js";
import { stateDir } from "../registry/paths.js";
import { Registry } from "../registry/store.js";
import { defaultPolicy, type JailSpec } from "../spec/types.js";
import { validateSpec } from "../spec/validate.js";
import { checkHooks, hookOps, runHooks } from "./hooks.js";
import { loadConfig, ociError, type OciSeccomp } from "./config.js";
import { alive, checkId, containerDir, containerNsPath, gatePath, inDir, makeContainerDir, readRecord, removeContainerDir, statusOf, writeRecord, type OciRecord } from "./state.js";
import { ociJail, patchPlan } from "./translate.js";
import { hostIdMapping } from "./hostids.js";
import { settleBound } from "./settle.js";
import { parseCgroupsPath } from "./cgpath.js";
import { isKernelFsMount, mountPointsOp } from "./mountpoints.js";
import { hostCgroupLinks, v1CgroupView } from "./cgroupview.js";
import { detectCgroups } from "../cgroup/detect.js";
import { setOomScoreAdj } from "./oom.js";
import { writePidFile } from "./pidfile.js";
import { checkConsoleSocket } from "./rootdir.js";
import { execFailure, lookupOp } from "./lookup.js";
import { SysjailError } from "../errors.js";

/** The file the monitor makes once the command of a container with startContainer hooks runs. */
const startedPath = (root: string, id: string) => inDir(containerDir(root, id), "started");

/** Global options of every command. */
export interface Globals {
  root: string;
  /** --systemd-cgroup: linux.cgroupsPath is systemd's "slice:prefix:name". */
  systemdCgroup?: boolean | undefined;
  warn: (msg: string) => void;
}

/** The policy file of a container's own seccomp profile: named by the profile, so an engine's
 * usual profile is translated once (the system-call tables load only then) and the filter cache
 * (src/jail/filter.ts) finds the program compiled for it. Every --root holds these: root's
 * /run/sysjail-oci and a rootless caller's $XDG_RUNTIME_DIR/sysjail-oci alike (0700, the caller's).
 *
 * The name hashes about 256 characters of the profile's JSON (hashing all of an engine's profile,
 * cold, cost 1.5-4 ms of every create), so it only finds the file: the file's first line is a
 * comment holding the profile's whole JSON, which must equal this one's. A name taken by a file
 * that does not hold this profile (another profile with the same FNV hash, or a file an older
 * build wrote in an older format, without that line) falls back to an FNV hash of the whole text
 * (the same name for a text under 512 characters: tried once), then to a SHA-256 of it
 * ("<32 hex>.s.policy", a shape no older build wrote; node:crypto loads only on this path), so
 * such a profile still has one file, found again by every later create, and one compiled program
 * beside it. Only a file at that name which does not hold the profile (no collision: something
 * put there by hand) leaves a name of this process's own, one per create. A name is published
 * once (link, never replaced, an older format's file neither): a running container's exec reads
 * its file again, and the program compiled from it is kept under the same name. */
async function policyFile(root: string, s: OciSeccomp, warn: (m: string) => void): Promise<string> {
  const dir = join(root, "seccomp");
  const text = JSON.stringify(s);
  const head = `# sysjail-oci profile ${text}\n`;
  const strong = async () => `${(await import("node:crypto")).createHash("sha256").update(text).digest("hex").slice(0, 32)}.s`;
  const names = [() => fnvHex(text, Math.max(1, Math.floor(text.length / 256))), () => fnvHex(text), strong, async () => `${await strong()}.${process.pid}.${Date.now()}`];
  const tried = new Set<string>();
  let made: string | undefined;
  for (const name of names) {
    // DIR is join's answer (normalized, no trailing slash) and a name has no slash: a string
    const file = `${dir}/${await name()}.policy`;
    if (tried.has(file)) continue;
    tried.add(file);
    const holds = () => {
      try {
        return readFileSync(file, "utf8").startsWith(head);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    };
    const kept = holds();
    if (kept) return file;
    if (kept === false) continue;
    if (made === undefined) {
      const { ociSeccompPolicy } = await import("./seccomp.js");
      const policy = ociSeccompPolicy(s);
      if (policy.skipped.length) warn(`seccomp: system calls unknown here, skipped: ${[...new Set(policy.skipped)].slice(0, 8).join(", ")}${policy.skipped.length > 8 ? ", ..." : ""}`);
      made = head + policy.text;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, made, { mode: 0o600 });
    try {
      linkSync(tmp, file);
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (holds()) return file; // another create of the same profile published it meanwhile
    } finally {
      unlinkSync(tmp);
    }
  }
  throw ociError("seccomp: no free name for the profile's policy file");
}

/** The container's own filter (a second, stacked one), from its policy file. The file is named
 * by the profile and never rewritten, so its program is kept beside it, keyed by the compiler
 * (fingerprint, version) and the architecture: an engine's usual profile is neither read nor
 * hashed again at each create. Only the --root (0700, the caller's) holds these files. */
export async function containerFilter(spec: JailSpec, file: string): Promise<{ program: Uint8Array; flags: number }> {
  const arch = hostFacts().arch;
  const memo = `${file}.${arch}.${VERSION}.${await fingerprint()}.bpf`;
  try {
    const program = readFileSync(memo);
    if (program.length > 0 && program.length % 8 === 0) return { program, flags: SECCOMP_FLAGS };
  } catch {
    /* not compiled yet */
  }
  const policy = { ...defaultPolicy(), files: [file], replaceDefault: true };
  const f = await buildFilter({ ...spec, policy }, arch, join(stateDir(), "cache"));
  try {
    writeFileSync(`${memo}.${process.pid}`, f.program, { mode: 0o600 });
    renameSync(`${memo}.${process.pid}`, memo);
  } catch {
    /* an unwritable directory only costs time */
  }
  return f;
}

/** What create needs besides the globals. */
export interface CreateArgs { id: string; bundle: string; pidFile?: string | undefined; consoleSocket?: string | undefined }

/** create's optional paths, for the tool's V8 code cache (src/cli/main.ts pathRan). */
const CACHE_PATH = { seccomp: 2, cgroupsPath: 4 } as const;

/** create: the jail is made, its command waits at the start gate. DETACH: the monitor goes on
 * after this process (create); else this process follows it (run). */

export async function create(g: Globals, a: CreateArgs, detach = true): Promise<{ jr: JailRun; rec: OciRecord }> {
  const id = checkId(a.id);
  const { config, bundle, rootPath } = loadConfig(a.bundle);
  const settleMs = settleBound(config);
  const console = consoleSocket(config.process?.terminal === true, a.consoleSocket);
  // running jails' maps, read only for a config.json with maps of its own (an overlap is warned of)
  const running = () => new Registry(stateDir()).list().map((e) => ({ name: e.name ?? String(e.jid), uidMap: e.idmap?.uidMap ?? "", gidMap: e.idmap?.gidMap ?? "" }));
  const { spec, patch, devices, deviceRules } = ociJail(id, config, rootPath, g.warn, running, g.root);
  validateSpec(spec);
  const cgPath = parseCgroupsPath(config.linux?.cgroupsPath, g.systemdCgroup === true);
  // another container of ours named by its state pid (podman's container:X, a pod's infra)
  patch.joins = patch.joins.map(([f, p]) => [f, containerNsPath(g.root, p)]);
  const hooks = checkHooks(config.hooks, "config.json");
  patch.hooks = { ...hookOps(hooks, { ociVersion: "1.2.0", id, status: "creating", pid: 0, bundle, annotations: config.annotations ?? {} }), started: startedPath(g.root, id) };
  makeContainerDir(g.root, id);
  let jr: JailRun | undefined;
  try {
    const seccompPolicy = config.linux?.seccomp ? await policyFile(g.root, config.linux.seccomp, g.warn) : undefined;
    const filter = seccompPolicy ? await containerFilter(spec, seccompPolicy) : undefined;
    if (seccompPolicy) pathRan(CACHE_PATH.seccomp);
    // v1 cgroups (a hybrid host's pids controller): the init moves itself, no RCU grace period
    // linux.cgroupsPath: the container's own cgroups there (checked, parents made) instead of sysjail's
    const layout = cgPath ? detectCgroups() : undefined;
    const cg = cgPath ? (await import("./cgroups.js")).ociCgroups(config.linux!.cgroupsPath!, cgPath, config.linux?.resources, g.warn, layout, deviceRules) : undefined;
    if (cg) pathRan(CACHE_PATH.cgroupsPath);
    const prep = await prepare(spec, { detach, cgroupJoin: true, kernelMountPoints: true, ephemeralIds: true, ...(patch.hostIds ? { hostIds: hostIdMapping() } : {}), ...(devices ? { devices } : {}), ...(cg ? { cgroups: cg.ctx } : deviceRules ? { cgroupDevices: deviceRules } : {}) });
    const ids = prep.idChoice?.mapping ?? idMapping(prep.facts);
    try {
      prep.plan = patchPlan(prep.plan, patch, ids, gatePath(g.root, id), filter);
      // a v1 or hybrid host: runc's /sys/fs/cgroup (every hierarchy, the container's cgroup in
      // each), for a container with its own cgroups everywhere and a sysfs of its own
      if (cg && layout && prep.plan.ops.some((o) => o.op === "mountFs" && o.args[0] === "sysfs")) {
        prep.plan = { ...prep.plan, ops: v1CgroupView(prep.plan.ops, layout, hostCgroupLinks(layout.root, new Set(layout.mounts.map((m) => m.path)))) };
      }
      // mount points the image lacks, made as runc makes them (the jail's root cannot, in a tree of
      // host root's): by the monitor before its clone, inside the root (src/oci/mountpoints.ts)
      // and the jail's own /proc, /dev and /sys (an image FROM scratch has none of them)
      const points = mountPointsOp(rootPath, [...prep.plan.ops.filter(isKernelFsMount), ...patch.mounts]);
      if (points) prep.plan.ops.push(points);
      // the command looked up in the built container before the gate, as runc's init does at
      // create: one the image lacks fails create (below), not the container after start
      const lookup = lookupOp(prep.plan.ops);
      if (lookup) prep.plan.ops.push(lookup);
      if (console) {
        const size = config.process?.consoleSize;
        prep.plan.ops.push(op("console", [console, size?.height ?? 0, size?.width ?? 0], "process.terminal: the pty master goes to --console-socket"));
      }
    } catch (err) {
      prep.reservation.release();
      throw err;
    }
    if (prep.cgroups?.unenforced.length) g.warn(`not enforced here: ${prep.cgroups.unenforced.join(", ")}`);
    if (deviceRules && !prep.cgroups?.paths.devices) g.warn("linux.resources.devices: not enforced here (no device cgroup on this host)");
    // started as the package's native command, the front runs the plan in a monitor of its own
    // (native/src/front.c): no child_process and no spawn here
    const front = detach ? takeFront() : undefined;
    const early = front ? new HelperRun("run", "inherit", true, undefined, front) : undefined;
    jr = new JailRun(spec, prep, { stdio: "inherit", detach, warn: g.warn, notice: g.warn }, early);
    if (!(await jr.untilStarted())) throw jr.error ?? ociError("the container ended before it was created");
    const e = jr.entry!;
    if (config.process?.oomScoreAdj !== undefined) setOomScoreAdj(e.initPid, e.initStart, config.process.oomScoreAdj, g.warn);
    const rec: OciRecord = {
      id, bundle, pid: e.monitorPid, pidStart: e.monitorStart ?? 0, initPid: e.initPid, initStart: e.initStart, jid: e.jid,
      created: isoNow(), owner: process.getuid?.() ?? 0, annotations: config.annotations ?? {}, seccompPolicy, settleMs,
      ...(Object.keys(hooks).length ? { hooks } : {}),
      ...(config.process ? { process: { user: config.process.user, capabilities: config.process.capabilities, rlimits: config.process.rlimits, noNewPrivileges: config.process.noNewPrivileges } } : {}),
      ...(cg?.freezer ? { freezer: cg.freezer } : {}),
      ...(cg ? { cgroupsPath: config.linux!.cgroupsPath } : {}),
    };
    writeRecord(g.root, rec);
    // (the above while the init builds the container) create returns once it is built, as
    // runc's does: the init reports "ready" once its namespaces, mounts and root are made,
    // createContainer hooks ran (prestart and createRuntime hooks, below, see a built container)
    // and the command was looked up (its lookup op): a command the image lacks fails create
    // here, with runc's words, and no engine ever sees the container running (docs/OCI.md, "A
    // command the image lacks"); the catch below removes the record
    if (!(await jr.ready())) throw lookupError(jr.error, spec.command?.[0]) ?? ociError("the container ended before it was created");
    // the container's namespaces exist, its command waits at the gate: a failing hook fails create
    // and the catch below ends the jail and removes its directory
    for (const kind of ["prestart", "createRuntime"] as const) if (hooks[kind]?.length) runHooks(hooks, kind, { ...state(g, id), status: "creating" });
    // the container's pid 1, as runc's: with create's front gone it is the engine's child
    // (native/src/ocimon.c), which reaps it and takes its status; the monitor only watches it
    if (a.pidFile) writePidFile(a.pidFile, rec.initPid);
    if (detach) jr.detach();
    return { jr, rec };
  } catch (err) {
    // nothing of a failed create stays: the jail ends (its monitor removes its own files)
    if (jr?.entry) { killVerified(jr.entry.initPid, jr.entry.initStart, 9); await waitGone(jr.entry.monitorPid, jr.entry.monitorStart ?? 0); }
    removeContainerDir(g.root, id);
    throw err;
  }
}

/** A failed lookup of the command (reported as the exec's failure, before start): runc's words,
 * which podman maps to 127 or 126; any other error as it is. */
function lookupError(err: SysjailError | undefined, command: string | undefined): SysjailError | undefined {
  if (err?.step !== "exec" || command === undefined) return err;
  return new SysjailError(execFailure(command, err.errno), { code: err.code, phase: "runtime", step: "exec", errno: err.errno, path: command, exitCode: 1 });
}

/** The console socket for a container whose process.terminal is TERMINAL: runc's rules (a
 * terminal needs the engine's socket, a socket needs a terminal); the path made absolute and
 * checked to be a socket. The path is the engine's (a trusted caller's), connected by the
 * container's init before it becomes jail root. */
export function consoleSocket(terminal: boolean, path: string | undefined): string | undefined {
  if (terminal && !path) throw ociError("process.terminal is true: --console-socket is needed (the engine receives the terminal there)");
  if (!terminal && path) throw ociError(`--console-socket ${path}: config.json's process.terminal must be true for a terminal`);
  if (!path) return undefined;
  const abs = resolve(path);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    throw ociError(`--console-socket ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
  if (!st.isSocket()) throw ociError(`--console-socket ${path}: not a unix socket`);
  checkConsoleSocket(abs);
  if (Buffer.byteLength(abs) > 107) throw ociError(`--console-socket ${path}: longer than a unix socket path may be (107 bytes)`);
  return abs;
}

/** Sends SIG to PID if it is still the process that started at START: through the helper's
 * pidfd (src/host/signal.ts), never process.kill(pid), whose pid may be another's by now. */
function killVerified(pid: number, start: number, sig: number): boolean {
  return signalPinned(pid, start, sig).sent;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Waits until PID (started at START) is gone or a zombie; at most about ten seconds. */
async function waitGone(pid: number, start: number): Promise<boolean> {
  for (let i = 0; i < 5000; i++) {
    if (!alive(pid, start)) return true;
    Atomics.wait(sleeper, 0, 0, i < 50 ? 1 : 5);
  }
  return !alive(pid, start);
}

/** start: lets the created command run. */
export function start(g: Globals, id: string): void {
  const rec = readRecord(g.root, id);
  const st = statusOf(g.root, rec);
  if (st !== "created") throw ociError(`container ${id} is ${st}: only a created container can be started`);
  const gate = gatePath(g.root, id);
  let fd: number;
  try {
    fd = openSync(gate, FS.O_WRONLY | FS.O_NONBLOCK | FS.O_NOFOLLOW);
  } catch (err) {
    throw ociError(`container ${id} cannot be started: ${(err as NodeJS.ErrnoException).code === "ENXIO" ? "its monitor is gone" : (err as NodeJS.ErrnoException).code}`);
  }
  try {
    writeSync(fd, "1");
  } finally {
    closeSync(fd);
  }
  unlinkSync(gate);
  startedPastHooks(g, rec, rec.hooks?.startContainer !== undefined);
  runHooks(rec.hooks, "poststart", state(g, id), g.warn);
}

/** Waits until the container's command was exec'd, past its startContainer hooks (the monitor
 * makes the start gate's second file then, native/src/run.c), as runc's start returns once its
 * program is about to run, or its monitor ended without that: with HOOKS, a hook failed
 * (native/src/hook.c) and start fails as the runtime-spec asks; the container is stopped. */
function startedPastHooks(g: Globals, rec: OciRecord, hooks: boolean): void {
  const mark = startedPath(g.root, rec.id);
  for (let i = 0; !existsSync(mark) && (hooks || i < 2100); i++) {
    if (!alive(rec.pid, rec.pidStart) && !existsSync(mark)) {
      if (!hooks) return;
      throw ociError(`container ${rec.id}: a startContainer hook failed; the container is stopped`);
    }
    Atomics.wait(sleeper, 0, 0, i < 50 ? 1 : 5);
  }
}

/** state: the runtime-spec state of the container. */
export function state(g: Globals, id: string): Record<string, unknown> {
  const rec = readRecord(g.root, id);
  const status = statusOf(g.root, rec);
  return {
    ociVersion: "1.2.0", id: rec.id, status, pid: status === "stopped" ? 0 : rec.initPid, bundle: rec.bundle,
    rootfs: "", created: rec.created, owner: rec.owner === 0 ? "root" : String(rec.owner), annotations: rec.annotations,
  };
}

/** A signal by name (TERM, SIGTERM) or number. */
export function signalNumber(s: string | undefined): number {
  if (s === undefined) return 15;
  if (/^\d+$/.test(s) && Number(s) > 0 && Number(s) < 65) return Number(s);
  const name = s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  // node:os loads here, not with the module: it is not among the modules Node itself loads at
  // start, and compiling it cost every create about half a millisecond
  const n = (builtin<typeof import("node:os")>("node:os").constants.signals as Record<string, number>)[name];
  if (n === undefined) throw ociError(`signal ${JSON.stringify(s)}: a signal name (TERM, SIGKILL) or number is needed`, "EUSAGE");
  return n;
}

/** The container's processes (host pids): its pid 1 and every process of its pid namespace; in a
 * joined one (its first process is not that namespace's pid 1), those of its own user namespace. */
export function pids(rec: OciRecord): number[] {
  if (!alive(rec.initPid, rec.initStart)) return [];
  return [rec.initPid, ...others(rec).map((p) => p.pid)].sort((a, b) => a - b);
}

/** The container's processes besides its pid 1, each as pid and start time read through its
 * pinned /proc directory; pid 1's namespaces are read through its own, pinned by its recorded
 * start time: nothing here is read from a process that merely took a recorded pid. */
function others(rec: OciRecord): ProcId[] {
  const init = pinProc(rec.initPid, rec.initStart);
  if (!init) return [];
  try {
    // a caller that may not see the init's namespaces (it is not dumpable) learns them from a
    // child (jailNamespace); the init pinned meanwhile, so still the recorded process after
    const ns = init.ns("pid") ?? jailNamespace(rec.initPid);
    const nspid = /^NSpid:\s*(.*)$/m.exec(init.read("status") ?? "")?.[1]?.trim().split(/\s+/);
    const user = init.ns("user");
    if (!ns || !alive(rec.initPid, rec.initStart)) return [];
    const joined = nspid !== undefined && nspid[nspid.length - 1] !== "1";
    if (joined && !user) return [];
    return namespaceMembers(ns, rec.initPid, joined ? (p) => p.ns("user") === user : undefined);
  } finally {
    init.close();
  }
}

/** kill: a signal to the container's pid 1 (with ALL, to each of its processes first). Every
 * signal is pinned (pid and start time, then the helper's pidfd): a stale pid is never signalled. */
export function kill(g: Globals, id: string, sig: number, all: boolean): void {
  const rec = readRecord(g.root, id);
  if (statusOf(g.root, rec) === "stopped") throw ociError(`cannot signal container ${id}: container not running`);
  const targets: ProcId[] = [...(all ? others(rec) : []), { pid: rec.initPid, start: rec.initStart }];
  signalEach(targets, sig);
}

/** delete: removes a stopped (or created) container; FORCE kills a running one first. */
export async function remove(g: Globals, id: string, force: boolean): Promise<void> {
  let rec: OciRecord;
  try {
    rec = readRecord(g.root, id);
  } catch (err) {
    // as runc: --force of a container that does not exist is done (an engine's second cleanup)
    if (force && (err as { code?: string }).code === "ENOENT") return;
    throw err;
  }
  const st = statusOf(g.root, rec);
  if ((st === "running" || st === "paused") && !force) throw ociError(`container ${id} is ${st}: stop it first, or delete --force`);
  if (st !== "stopped") {
    // a frozen container's processes die only once thawed
    if (st === "paused") thaw(g.root, id);
    killVerified(rec.initPid, rec.initStart, 9);
  }
  // the monitor removes the jail's cgroups and registry files, then exits (also when the init of
  // a stopped container has ended and its monitor is still at it)
  if (!(await waitGone(rec.pid, rec.pidStart))) throw ociError(`container ${id}: its monitor (pid ${rec.pid}) does not end`);
  runHooks(rec.hooks, "poststop", { ...state(g, id), status: "stopped", pid: 0 }, g.warn);
  removeContainerDir(g.root, id);
}

/** Writes the value that thaws a paused container into its freezer file (from `paused`). */
function thaw(root: string, id: string): void {
  const m = /^(\/sys\/fs\/cgroup\/\S+\/(freezer\.state|cgroup\.freeze)) (THAWED|0)\n$/.exec(readFileSync(join(containerDir(root, id), "paused"), "utf8"));
  if (m) writeFileSync(m[1]!, m[3]!);
}

/** run: create, start, and follow the container to its end; its status is ours. */
export async function run(g: Globals, a: CreateArgs, detach: boolean): Promise<number> {
  const { jr, rec } = await create(g, a, detach);
  start(g, a.id);
  if (detach) return 0;
  const ev = await jr.wait();
  // as runc's run returns once the container is destroyed: the monitor removes the jail's
  // cgroups, registry entry and id lease after it reported the exit, then ends
  if (jr.entry) await waitGone(jr.entry.monitorPid, jr.entry.monitorStart ?? 0);
  runHooks(rec.hooks, "poststop", { ...state(g, a.id), status: "stopped", pid: 0 }, g.warn);
  removeContainerDir(g.root, a.id);
  // the exec failed after start (what only the exec finds: the final user's permissions, a FIFO):
  // the container's pid 1 said so on its stderr, which is ours, in one line (native/src/command.c
  // oci_say); runc's run exits 1 after its init's line, without a second one
  if (jr.error?.step === "exec") return 1;
  if (jr.error) throw jr.error;
  if (!ev) return 70;
  // the command was the jail's pid 1: its status is the init's
  if (ev.initCode !== undefined && ev.initCode >= 0 && !ev.setupFailed) return ev.initCode;
  if (ev.initSignal) return 128 + ev.initSignal;
  return exitStatus(ev);
}

/** The registry entry of a container's jail (sysjail's own record of it). */
export function jailEntry(rec: OciRecord) {
  const e = new Registry(stateDir()).find(rec.id);
  if (!e || e.jid !== rec.jid) throw ociError(`container ${rec.id} is not running`);
  return e;
}

/** pause/resume: the container's freezer, v1 (freezer.state, a hybrid host's) or v2
 * (cgroup.freeze); `paused` in its directory names the file and the value that thaws it, for the
 * status and for delete --force (native/src/oci.c), which thaws before it kills. */
export function freeze(g: Globals, id: string, on: boolean): void {
  const rec = readRecord(g.root, id);
  const st = statusOf(g.root, rec);
  if (st === "stopped" || st === "created") throw ociError(`container ${id} is ${st}`);
  if (on && st === "paused") throw ociError(`container ${id} is already paused`);
  if (!on && st !== "paused") throw ociError(`container ${id} is not paused`);
  const e = jailEntry(rec);
  const dirs = [rec.freezer, ...Object.values(e.cgroups ?? {})].filter((d): d is string => typeof d === "string");
  const v1 = dirs.find((d) => existsSync(join(d, "freezer.state")));
  const v2 = dirs.find((d) => existsSync(join(d, "cgroup.freeze")));
  const f = v1 ? { file: join(v1, "freezer.state"), frozen: "FROZEN", thawed: "THAWED" } : v2 ? { file: join(v2, "cgroup.freeze"), frozen: "1", thawed: "0" } : undefined;
  if (!f) throw ociError(`container ${id} has no freezer cgroup (give it a linux.cgroupsPath, or a memory or pids limit on cgroup v2)`);
  const mark = join(containerDir(g.root, id), "paused");
  if (on) writeFileSync(mark, `${f.file} ${f.thawed}\n`, { mode: 0o600 });
  try {
    writeFileSync(f.file, on ? f.frozen : f.thawed);
  } catch (err) {
    if (on) unlinkSync(mark);
    throw ociError(`container ${id}: ${f.file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  // v1 passes through FREEZING until every task stopped: pause returns once they have
  for (let i = 0; v1 && on && i < 5000 && readFileSync(f.file, "utf8").trim() !== "FROZEN"; i++) Atomics.wait(sleeper, 0, 0, i < 50 ? 1 : 5);
  if (!on) unlinkSync(mark);
}
