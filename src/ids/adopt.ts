// Adopting a root-owned jail tree into one of sysjail's host id ranges (and back): every on-disk
// uid/gid u of the tree becomes B+u, so the jail's own id map shows it as u, and a setuid file in
// it belongs to an unprivileged host id.
//
// Security notes. The tree may hold what a jail wrote, so the walk trusts no name in it: each
// directory is opened with O_NOFOLLOW|O_DIRECTORY and its entries are reached through
// /proc/self/fd/N/NAME (one component below a directory already open), symbolic links are only
// lchown'ed, everything else is changed through a descriptor opened with O_NOFOLLOW|O_NONBLOCK
// and checked to be the inode that was looked at, and the walk stays on the tree's file system.
// chown(2) clears S_ISUID/S_ISGID and removes security.capability: the set-id bits are put back
// (adopt) through the same descriptor; file capabilities stay removed (a v2 capability would
// otherwise survive as host-root capabilities; jail root can set them again inside, and the
// kernel then stores a v3 capability with the jail's root id). The shift back (unadoptTree) puts
// no set-id bit back at all: what a jail wrote must not become a set-id program of a host id.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lchownSync, lstatSync, openSync, readdirSync, realpathSync, type Stats } from "node:fs";
import { SysjailError, Exit } from "../errors.js";
import { dropBlockLease, leaseBlock, persistentLease } from "./leases.js";
import { blockBase, blockOfBase, idPool, type IdPool } from "./pool.js";

/** What a shift did. */
export interface ShiftResult {
  /** The tree (canonical path). */
  path: string;
  /** Host uid and gid of jail id 0 (adopt) or the range the tree left (unadopt). */
  base: number;
  gidBase: number;
  count: number;
  /** Entries changed. */
  changed: number;
  /** Set-id bits cleared by the shift back. */
  cleared: number;
}

function err(msg: string, exitCode: number, code = "EUSAGE"): SysjailError {
  return new SysjailError(msg, { code, phase: "usage", exitCode });
}

const q = (s: string) => JSON.stringify(s); // paths from a tree are hostile: printed escaped

/** The ids of one entry, mapped; undefined when it lies outside what the shift may touch. */
type IdMap = (id: number) => number | undefined;

interface Shift {
  uid: IdMap;
  gid: IdMap;
  /** Keep set-id bits (adopt) or clear them (unadopt). */
  keepSetid: boolean;
}

const SETID = 0o6000;

/** Calls visit for every entry below the open directory FD (on device DEV), depth first. */
function walk(fd: number, rel: string, dev: number, visit: (p: string, rel: string, st: Stats) => void): void {
  for (const name of readdirSync(`/proc/self/fd/${fd}`)) {
    const p = `/proc/self/fd/${fd}/${name}`;
    const r = `${rel}/${name}`;
    const st = lstatSync(p);
    if (st.dev !== dev) continue; // another file system mounted here: not the tree's
    if (st.isDirectory()) {
      const sub = openSync(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        const again = fstatSync(sub);
        if (again.ino !== st.ino || again.dev !== st.dev) throw err(`sjadopt: ${q(r)} changed during the walk`, Exit.software, "EAGAIN");
        walk(sub, r, dev, visit);
      } finally {
        closeSync(sub);
      }
    }
    visit(p, r, st);
  }
}

/** Changes one entry's owner (and restores or clears its set-id bits) without following it;
 * TOPFD: the entry is that open directory. */
function apply(p: string, rel: string, st: Stats, s: Shift, res: ShiftResult, topFd?: number): void {
  const u = s.uid(st.uid), g = s.gid(st.gid);
  if (u === undefined || g === undefined) throw err(`sjadopt: ${q(rel)} changed during the walk`, Exit.software, "EAGAIN");
  const setid = st.mode & SETID;
  if (u === st.uid && g === st.gid && (s.keepSetid || !setid)) return;
  if (topFd === undefined && (st.isSymbolicLink() || st.isSocket() || st.isCharacterDevice() || st.isBlockDevice())) {
    lchownSync(p, u, g);
    res.changed++;
    return;
  }
  const fd = topFd ?? openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const now = fstatSync(fd);
    if (now.ino !== st.ino || now.dev !== st.dev) throw err(`sjadopt: ${q(rel)} changed during the walk`, Exit.software, "EAGAIN");
    fchownSync(fd, u, g);
    if (setid && s.keepSetid) fchmodSync(fd, now.mode & 0o7777);
    else if (setid) {
      fchmodSync(fd, now.mode & 0o1777);
      res.cleared++;
    }
    res.changed++;
  } finally {
    if (topFd === undefined) closeSync(fd);
  }
}

/** Checks every entry first, so bad input changes nothing; then shifts, the top directory last
 * (its owner says whether the tree is adopted: an interrupted run is finished by running again). */
function shiftTree(top: string, s: Shift, res: ShiftResult, what: string): void {
  const fd = openSync(top, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    const check = (rel: string, e: Stats) => {
      if (s.uid(e.uid) === undefined || s.gid(e.gid) === undefined) {
        throw err(`sjadopt: ${q(top + rel)} is owned by ${e.uid}:${e.gid}; ${what} (nothing was changed)`, Exit.dataErr, "ERANGE");
      }
    };
    check("", st);
    walk(fd, "", st.dev, (_p, rel, e) => check(rel, e));
    walk(fd, "", st.dev, (p, rel, e) => apply(p, rel, e, s, res));
    apply(top, "", st, s, res, fd);
  } finally {
    closeSync(fd);
  }
}

function treeDir(dir: string): string {
  if (typeof dir !== "string" || dir === "") throw err("sjadopt: a directory is needed", Exit.usage);
  let path: string;
  try {
    path = realpathSync(dir);
  } catch {
    throw err(`sjadopt: ${q(dir)}: no such directory`, Exit.noInput, "ENOENT");
  }
  if (!lstatSync(path).isDirectory()) throw err(`sjadopt: ${q(dir)}: not a directory`, Exit.noInput, "ENOTDIR");
  if (path === "/") throw err("sjadopt: the host's / cannot be adopted", Exit.usage);
  if ((process.getuid?.() ?? 0) !== 0) throw err("sjadopt: only root can shift a tree's owners", Exit.noPerm, "EPERM");
  return path;
}

/** Shifts a root-owned tree (ids 0..65535) into a range of the pool: opts.base (a range base),
 * the range leased to jail name opts.name, or a range leased to the tree. Safe to run again on a
 * tree it adopted (also to finish an interrupted run). */
export async function adoptTree(dir: string, opts?: { base?: number; name?: string; rebase?: boolean }): Promise<{ base: number }> {
  return adoptTreeSync(dir, opts ?? {});
}

/** adoptTree, with what it did (sjadopt). */
export function adoptTreeSync(
  dir: string,
  opts: { base?: number | undefined; name?: string | undefined; rebase?: boolean | undefined },
  pool: IdPool = idPool(),
): ShiftResult {
  if (opts.base !== undefined && opts.name !== undefined) throw err("sjadopt: give a base (-r) or a name (-n), not both", Exit.usage);
  const first = blockBase(pool, 0).uid;
  const bases = `${first}, ${first + pool.size}, ... ${first + (pool.blocks - 1) * pool.size}`;
  let block: number | undefined;
  if (opts.base !== undefined) {
    block = Number.isSafeInteger(opts.base) ? blockOfBase(pool, opts.base) : undefined;
    if (block === undefined) throw err(`sjadopt: base ${q(String(opts.base))} is not a range base of the pool (${bases})`, Exit.usage);
  }
  if (opts.name !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$/.test(opts.name)) {
    throw err(`sjadopt: name ${q(opts.name)}: a jail name (letters, digits, _ -) is allowed`, Exit.usage);
  }
  const path = treeDir(dir);
  const owner = lstatSync(path).uid;
  const already = blockOfBase(pool, owner);
  if (already !== undefined && block !== undefined && already !== block) {
    throw err(`sjadopt: ${q(path)} is adopted into range ${owner} already (sjadopt -u first)`, Exit.usage);
  }
  if (owner !== 0 && already === undefined) {
    throw err(`sjadopt: ${q(path)} is owned by uid ${owner}; only a tree owned by root (or one adopted already) can be adopted`, Exit.dataErr, "ERANGE");
  }
  block ??= already;
  // a lease made here is ended again when the tree is refused (nothing is left of a refusal)
  let leasedNow: boolean;
  if (block === undefined) {
    const [kind, value] = opts.name !== undefined ? ["name" as const, opts.name] : ["tree" as const, path];
    leasedNow = persistentLease(kind, value, { pool, peek: true }) === undefined;
    block = persistentLease(kind, value, { pool })!;
  } else {
    leasedNow = leaseBlock("tree", path, block);
  }
  const b = blockBase(pool, block);
  const size = pool.size;
  // rebase (mkjail's images): an id of another range of the pool keeps its place in its range, so
  // an image made from an adopted tree arrives as the same ids of the new range
  const other = (id: number, first: number): number | undefined => {
    if (!opts.rebase || id < first || id >= first + pool.blocks * size) return undefined;
    return (id - first) % size;
  };
  const to = (base: number, first: number): IdMap => (id) => {
    if (id < size) return base + id;
    if (id >= base && id < base + size) return id;
    const off = other(id, first);
    return off === undefined ? undefined : base + off;
  };
  const res: ShiftResult = { path, base: b.uid, gidBase: b.gid, count: size, changed: 0, cleared: 0 };
  try {
    shiftTree(path, { uid: to(b.uid, blockBase(pool, 0).uid), gid: to(b.gid, blockBase(pool, 0).gid), keepSetid: true }, res, `only ids 0-${size - 1} can be shifted into ${b.uid}-${b.uid + size - 1}`);
  } catch (e) {
    if (leasedNow && res.changed === 0) dropBlockLease(block, { dropNames: true });
    throw e;
  }
  return res;
}

/** Shifts an adopted tree back to ids 0..65535 and ends the tree's lease (a jail name's lease
 * stays); clears every set-id bit, since the tree now holds what jails wrote. */
export function unadoptTreeSync(dir: string, pool: IdPool = idPool()): ShiftResult {
  const path = treeDir(dir);
  const owner = lstatSync(path).uid;
  const block = blockOfBase(pool, owner);
  if (block === undefined) throw err(`sjadopt: ${q(path)} is not an adopted tree (its owner ${owner} is no range base of the pool)`, Exit.dataErr, "ERANGE");
  const b = blockBase(pool, block);
  const size = pool.size;
  const back = (base: number): IdMap => (id) => (id >= base && id < base + size ? id - base : id < size ? id : undefined);
  const res: ShiftResult = { path, base: b.uid, gidBase: b.gid, count: size, changed: 0, cleared: 0 };
  shiftTree(path, { uid: back(b.uid), gid: back(b.gid), keepSetid: false }, res, `only ids ${b.uid}-${b.uid + size - 1} can be shifted back`);
  dropBlockLease(block);
  return res;
}
