// A launcher's work directories (startLauncher({ work })): the one per-request variation a
// restricted caller may ask for is a fresh directory, made by the launcher under a base it made
// itself before the caller restricted, filled with the request's files, bound into the jail (or
// its root), read back and removed. The caller never names a path: only file names (one
// component, checked) and their content. The jail may leave anything in the directory (symlinks
// to host files, FIFOs, huge files): it is read back without following a final symlink,
// non-blocking, regular files only, capped, as every host-side read of jail files.
import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync } from "node:fs";
import { chmod, lstat, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { printable, usageError } from "../errors.js";
import { readCapped } from "../host/hostfile.js";

/** The template's `work`: where the launcher makes its base, and how each run gets its directory. */
export interface WorkTemplate {
  /** An existing directory, absolute, in which the launcher makes its own base directory. */
  in: string;
  /** Where each run's directory is bound (read-write) in the jail; without it, it is the jail's root. */
  mount?: string | undefined;
  /** Permission bits of each run's directory (default 0o755; 0o777 lets the jail's users write). */
  mode?: number | undefined;
  /** Most bytes read back per collected file (default 16 MiB). */
  maxFileBytes?: number | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_FILES = 64;

/** One file name of a request: a single path component of safe characters. */
export function checkWorkName(n: unknown, key: string): string {
  if (typeof n !== "string" || !NAME.test(n)) {
    throw usageError(`run(): ${key} ${JSON.stringify(printable(String(n), 40))} is not a file name (letters, digits, . _ -; at most 64, starting with a letter or digit)`);
  }
  return n;
}

/** Checks the template's work (usage errors, exit 64); returns it with its defaults. */
export async function checkWorkTemplate(w: unknown, hasPath: boolean): Promise<Required<Omit<WorkTemplate, "mount">> & { mount?: string }> {
  if (typeof w !== "object" || w === null || Array.isArray(w)) throw usageError("startLauncher(): work must be { in, mount?, mode?, maxFileBytes? }");
  const o = w as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!["in", "mount", "mode", "maxFileBytes"].includes(k)) throw usageError(`startLauncher(): unknown work option ${printable(k, 40)} (allowed: in, mount, mode, maxFileBytes)`);
  const abs = (v: unknown, k: string) => {
    if (typeof v !== "string" || !v.startsWith("/") || v.includes("\0") || v.split("/").some((c) => c === "." || c === "..")) {
      throw usageError(`startLauncher(): work.${k} must be an absolute path without . or .., not ${JSON.stringify(String(v).slice(0, 60))}`);
    }
    return v;
  };
  const dir = abs(o.in, "in");
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw usageError(`startLauncher(): work.in ${JSON.stringify(dir.slice(0, 60))} is not a directory (a symlink is not taken)`);
  const mount = o.mount !== undefined ? abs(o.mount, "mount") : undefined;
  if (mount === undefined && hasPath) throw usageError("startLauncher(): work without mount makes each run's directory the jail's root: the template may not hold path then");
  if (mount !== undefined && !hasPath) throw usageError("startLauncher(): work.mount needs the template's path (the jail's root)");
  if (mount === "/") throw usageError("startLauncher(): work.mount must not be / (leave it out to make the directory the jail's root)");
  const mode = o.mode ?? 0o755;
  if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o777) throw usageError("startLauncher(): work.mode must be permission bits from 0 to 0o777 (no setuid, setgid or sticky bit)");
  const max = o.maxFileBytes ?? 16 << 20;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 0 || max > 1 << 30) throw usageError("startLauncher(): work.maxFileBytes must be an integer from 0 to 1 GiB");
  return { in: dir, mode, maxFileBytes: max, ...(mount !== undefined ? { mount } : {}) };
}

/** A request's files: checked names, data as bytes, modes within 0o777. */
export function checkWorkFiles(files: unknown): { name: string; data: Uint8Array; mode: number }[] {
  if (files === undefined) return [];
  if (typeof files !== "object" || files === null || Array.isArray(files)) throw usageError("run(): files must be { name: data or { data, mode } }");
  const out: { name: string; data: Uint8Array; mode: number }[] = [];
  for (const [name, v] of Object.entries(files)) {
    checkWorkName(name, "files:");
    const x: { data?: unknown; mode?: unknown } = typeof v === "object" && v !== null && !(v instanceof Uint8Array) ? (v as { data?: unknown; mode?: unknown }) : { data: v };
    const data = typeof x.data === "string" ? Buffer.from(x.data) : x.data instanceof Uint8Array ? x.data : undefined;
    if (!data) throw usageError(`run(): files: ${name} must be a string, bytes, or { data, mode }`);
    const mode = x.mode ?? 0o644;
    if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o777) throw usageError(`run(): files: ${name}: mode must be permission bits from 0 to 0o777`);
    out.push({ name, data, mode });
  }
  if (out.length > MAX_FILES) throw usageError(`run(): at most ${MAX_FILES} files`);
  return out;
}

/** A request's collect list: checked names. */
export function checkCollect(c: unknown): string[] {
  if (c === undefined) return [];
  if (!Array.isArray(c) || c.length > MAX_FILES) throw usageError(`run(): collect must be a list of at most ${MAX_FILES} file names`);
  return c.map((n) => checkWorkName(n, "collect:"));
}

/** Makes the launcher's own base directory in `parent` (0711: the jails' users reach a run's
 * directory by its name, nobody lists them). */
export async function makeWorkBase(parent: string): Promise<string> {
  const base = await mkdtemp(join(parent, "sysjail-work-"));
  await chmod(base, 0o711);
  return base;
}

/** Makes a run's fresh directory in `base` and writes its files (created exclusively, never
 * through a symlink; modes set explicitly, whatever the umask). */
export async function makeRunDir(base: string, mode: number, files: { name: string; data: Uint8Array; mode: number }[]): Promise<string> {
  const dir = await mkdtemp(join(base, "run-"));
  try {
    await chmod(dir, mode);
    for (const f of files) {
      const fd = openSync(join(dir, f.name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NOCTTY, 0o600);
      try {
        for (let off = 0; off < f.data.length;) off += writeSync(fd, f.data, off);
        fchmodSync(fd, f.mode);
      } finally {
        closeSync(fd);
      }
    }
    return dir;
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Reads back the named files the jail left: a symlink, a FIFO, a directory or a file larger
 * than `max` is left out. */
export function collectFiles(dir: string, names: string[], max: number): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const name of names) {
    let fd: number;
    try {
      fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch {
      continue;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > max) continue;
      const data = readCapped(fd, max);
      if (data) out[name] = data;
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

/** Removes a run's directory or the base (nothing followed: rm never descends through a symlink). */
export async function removeWork(dir: string): Promise<void> {
  if (await lstat(dir).catch(() => undefined)) await rm(dir, { recursive: true, force: true });
}
