// The state of sysjail-oci's containers: one directory per container under --root, no daemon.
import type { OciHooks } from "./hooks.js";
import type { OciProcess } from "./config.js";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { processStart } from "../registry/store.js";
import { pinProc } from "../host/pinproc.js";
import { ociError } from "./config.js";
import { checkRootDir } from "./rootdir.js";

/** What create records of a container (state.json). */
export interface OciRecord {
  id: string;
  bundle: string;
  /** The monitor: the process the engine waits for (--pid-file), and whose status is the container's. */
  pid: number;
  pidStart: number;
  /** The container's process (pid 1 inside), as the host sees it. */
  initPid: number;
  initStart: number;
  jid: number;
  created: string;
  owner: number;
  annotations: Record<string, string>;
  /** A policy file with the container's own seccomp profile, for exec. */
  seccompPolicy?: string | undefined;
  /** The host-side hooks of config.json, kept for poststart and poststop. */
  hooks?: OciHooks | undefined;
  /** The container's freezer directory (linux.cgroupsPath): pause and resume. */
  freezer?: string | undefined;
  /** The container's process settings that `exec` without --process starts from, as runc's exec
   * does: its user, capabilities, rlimits and noNewPrivileges (never more than the container's own). */
  process?: Pick<OciProcess, "user" | "capabilities" | "rlimits" | "noNewPrivileges"> | undefined;
  /** linux.cgroupsPath as config.json gave it, when the container's cgroups are there (their
   * limits are config.json's values as given: pids.max without sysjail's +1 for a jail's init). */
  cgroupsPath?: string | undefined;
  /** How long start lets the supervisor accept queued connections first (ms; src/oci/settle.ts). */
  settleMs?: number | undefined;
}

/** OCI status names. */
export type OciStatus = "creating" | "created" | "running" | "stopped" | "paused";

/** Container ids: they name the jail too (letters, digits, '_' and '-', at most 64). */
export function checkId(id: string | undefined): string {
  if (!id) throw ociError("a container id is needed", "EUSAGE");
  if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(id)) throw ociError(`container id ${JSON.stringify(id.slice(0, 80))}: letters, digits, '_' and '-' (at most 64) are allowed`);
  return id;
}

/** The state directory of one container. */
export function containerDir(root: string, id: string): string {
  return join(root, id);
}

/** The path of NAME (a plain file name) in DIR, a containerDir: that is join's answer already
 * normalized and ending in the id, so a string does what join would (a create asks for about ten
 * of these: 0.1 ms of cold path code). */
export function inDir(dir: string, name: string): string {
  return `${dir}/${name}`;
}

/** The FIFO the monitor holds while the command waits for `start`. */
export function gatePath(root: string, id: string): string {
  return inDir(containerDir(root, id), "exec.fifo");
}

/** Makes the container's directory; an existing one means the id is taken. */
export function makeContainerDir(root: string, id: string): string {
  // the directories above a root not made yet: nothing is made under another user's. A root that
  // exists whole and passed needs neither the mkdir nor a second check: no one but root and the
  // caller can change a path whose every directory is theirs and writable by no one else
  if (!checkRootDir(root)) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    checkRootDir(root);
  }
  const dir = containerDir(root, id);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw ociError(`container ${id} already exists`, "EEXIST");
    throw err;
  }
  return dir;
}

/** Writes state.json, and the two files the native commands read (native/src/oci.c): `procs`
 * (the monitor's and the container process's pid and start time) and `state.head` (the state
 * document without status and pid), `settle` (start's wait for the supervisor), and `hooks` when there are poststart, poststop or startContainer hooks. Each is written aside and renamed into place. */
export function writeRecord(root: string, rec: OciRecord): void {
  const dir = containerDir(root, rec.id);
  const put = (name: string, text: string) => {
    const tmp = inDir(dir, `${name}.tmp`);
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, inDir(dir, name));
  };
  const head = { ociVersion: "1.2.0", id: rec.id, bundle: rec.bundle, rootfs: "", created: rec.created, owner: rec.owner === 0 ? "root" : String(rec.owner), annotations: rec.annotations };
  put("state.head", `${JSON.stringify(head)}\n`);
  put("state.json", `${JSON.stringify(rec)}\n`);
  // `hooks` tells the native start and delete to leave the command to Node, which runs them
  // (and, for startContainer hooks, waits for their outcome)
  if (rec.hooks?.poststart || rec.hooks?.poststop || rec.hooks?.startContainer) put("hooks", "poststart poststop startContainer\n");
  // `settle`: start's bound on the supervisor's accept of queued connections (native/src/settle.c)
  if (rec.settleMs) put("settle", `${rec.settleMs}\n`);
  put("procs", `${rec.pid} ${rec.pidStart} ${rec.initPid} ${rec.initStart}\n`);
}

/** Reads a container's record; an error naming the id when there is none. */
export function readRecord(root: string, id: string): OciRecord {
  checkRootDir(root);
  try {
    return JSON.parse(readFileSync(join(containerDir(root, checkId(id)), "state.json"), "utf8")) as OciRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw ociError(`container ${id} does not exist`, "ENOENT");
    if (err instanceof SyntaxError) throw ociError(`container ${id}: its state file is damaged`);
    throw err;
  }
}

/** Whether PID is the process recorded with START and not yet a zombie. */
export function alive(pid: number, start: number): boolean {
  if (!(pid > 0) || processStart(pid) !== start) return false;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s[s.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

/** The container's status, from its init, its monitor and the start gate. The init is the
 * engine's child (native/src/ocimon.c): it may have ended while its monitor still cleans up. */
export function statusOf(root: string, rec: OciRecord): OciStatus {
  if (!alive(rec.pid, rec.pidStart)) return "stopped";
  // the init's state read through its /proc directory pinned by its start time (src/host/pinproc.ts)
  const init = pinProc(rec.initPid, rec.initStart);
  if (!init) return "stopped";
  init.close();
  if (existsSync(gatePath(root, rec.id))) return "created";
  if (existsSync(join(containerDir(root, rec.id), "paused"))) return "paused";
  return init.state === "T" ? "paused" : "running";
}

/** Container ids with a record under ROOT. */
export function listIds(root: string): string[] {
  checkRootDir(root);
  try {
    return readdirSync(root).filter((n) => existsSync(join(root, n, "state.json"))).sort();
  } catch {
    return [];
  }
}

/** A namespace path as an engine names another container's (/proc/PID/ns/TYPE, PID its pid
 * file's): that is the container's pid 1 now; a monitor's pid (an older sysjail-oci's pid file,
 * in the host's namespaces) is mapped to its pid 1's, checked alive with its recorded start
 * time. Any other path comes back as it is. */
export function containerNsPath(root: string, path: string): string {
  const m = /^\/proc\/(\d+)\/ns\/(net|uts|ipc|pid|pid_for_children|mnt)$/.exec(path);
  if (!m) return path;
  for (const id of listIds(root)) {
    let rec: OciRecord;
    try { rec = readRecord(root, id); } catch { continue; }
    if (rec.pid === Number(m[1]) && alive(rec.pid, rec.pidStart) && alive(rec.initPid, rec.initStart)) return `/proc/${rec.initPid}/ns/${m[2]}`;
  }
  return path;
}

/** Removes a container's directory. */
export function removeContainerDir(root: string, id: string): void {
  rmSync(containerDir(root, id), { recursive: true, force: true });
}
