// The pool of host id ranges root's jails map onto: 65536-id blocks of [0x70000000, 0x80000000),
// or of the `sysjail` lines of /etc/subuid and /etc/subgid.
import { DEFAULT_SUBID_START, sysjailSubids } from "../host/subid.js";

/** Ids per range: jail ids 0..65535. */
export const BLOCK = 65536;
/** The default pool when /etc/subuid names no `sysjail` user. */
export const POOL_START = DEFAULT_SUBID_START;
/** End (exclusive) of the default pool. */
export const POOL_END = 0x80000000;

/** The ranges root's jails may map onto: block i is uid uidStart + i*size.., gid gidStart + i*size... */
export interface IdPool {
  uidStart: number;
  gidStart: number;
  /** Ids per block (65536, or less when /etc/subuid grants fewer). */
  size: number;
  /** Number of blocks. */
  blocks: number;
}

/** The pool as the host's files say (pure: the two lines, or undefined for the default). */
export function poolOf(sub?: [number, number], subg?: [number, number]): IdPool {
  if (!sub) return { uidStart: POOL_START, gidStart: POOL_START, size: BLOCK, blocks: (POOL_END - POOL_START) / BLOCK };
  const g = subg ?? sub;
  const count = Math.min(sub[1], g[1]);
  if (count < BLOCK) return { uidStart: sub[0], gidStart: g[0], size: count, blocks: 1 };
  return { uidStart: sub[0], gidStart: g[0], size: BLOCK, blocks: Math.floor(count / BLOCK) };
}

let cached: IdPool | undefined;

/** The host's pool (read once per process). */
export function idPool(): IdPool {
  cached ??= poolOf(sysjailSubids("/etc/subuid"), sysjailSubids("/etc/subgid"));
  return cached;
}

/** The block whose first uid is UID, or undefined (a tree owned by it runs on that block). */
export function blockOfBase(pool: IdPool, uid: number): number | undefined {
  const off = uid - pool.uidStart;
  if (off < 0 || off % pool.size !== 0) return undefined;
  const i = off / pool.size;
  return i < pool.blocks ? i : undefined;
}

/** The block holding host uid UID, or undefined when it lies outside the pool. */
export function blockOfUid(pool: IdPool, uid: number): number | undefined {
  const off = uid - pool.uidStart;
  if (off < 0) return undefined;
  const i = Math.floor(off / pool.size);
  return i < pool.blocks ? i : undefined;
}

/** First host uid and gid of block I. */
export function blockBase(pool: IdPool, i: number): { uid: number; gid: number } {
  return { uid: pool.uidStart + i * pool.size, gid: pool.gidStart + i * pool.size };
}
