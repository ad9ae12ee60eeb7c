// Leases of id ranges from the pool: persistent ones (by jail name or by tree) that survive
// reboots, and ephemeral ones handed out round-robin and released when their jail ends.
//
// Layout (root only, 0700):
//   /var/lib/sysjail/ids/blocks/I    block I is leased; holds the lease's key (`name "web"`)
//   /var/lib/sysjail/ids/keys/HASH   symlink -> I: the block a key leases (HASH: sha256 of the key)
//   /var/lib/sysjail/ids/next        symlink -> the block the round-robin tries next
//   /run/sysjail/ids/I               block I is leased by a running ephemeral jail (tmpfs: a
//                                    reboot frees them all)
// A block is taken by creating its file with O_EXCL: that creation is the lock, so two starts
// never take the same block and no start waits for another. A persistent and an ephemeral claim
// of the same block each create their own file first and then look for the other's; whoever
// finds the other backs off, so at most one keeps it (both may back off; they then try the next).
// A start does a readlink, an O_EXCL create, one stat and a symlink+rename: no directory scans.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { SysjailError, Exit } from "../errors.js";
import { readLinkCounter, writeLinkCounter } from "../host/linkcounter.js";
import { idPool, type IdPool } from "./pool.js";

/** Why a jail got its range. */
export type LeaseKind = "share" | "owned" | "name" | "tree" | "ephemeral";

/** Where leases live ($SYSJAIL_IDS_DIR moves both, for tests). */
export function leaseDirs(env: NodeJS.ProcessEnv = process.env): { persistent: string; ephemeral: string } {
  const d = env.SYSJAIL_IDS_DIR;
  if (d) return { persistent: d, ephemeral: join(d, "run") };
  return { persistent: "/var/lib/sysjail/ids", ephemeral: "/run/sysjail/ids" };
}

function keyText(kind: "name" | "tree", value: string): string {
  return `${kind} ${JSON.stringify(value)}\n`;
}

/** FNV-1a (32 bits) of S's UTF-16 units, from the end when BACK: two of them name a long key. */
function fnv(s: string, back: boolean): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(back ? s.length - 1 - i : i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** A key's file: the key escaped (a long one hashed; node:crypto would cost every start half a
 * millisecond to load). The block file holds the whole key, which a lookup compares. */
function keyFile(dir: string, kind: "name" | "tree", value: string): string {
  const esc = encodeURIComponent(value).replace(/[!'()*.~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const name = esc.length <= 200 ? `${kind}-${esc}` : `${kind}-h-${fnv(value, false)}${fnv(value, true)}-${value.length}`;
  return join(dir, "keys", name);
}

/** Makes P (0700, root only) and its parents (0755: /run/sysjail is the registry's too). */
function ensureDir(p: string): void {
  if (existsSync(p)) return;
  mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
  try {
    mkdirSync(p, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

function readCounter(dir: string): number {
  return readLinkCounter(join(dir, "next"));
}

function writeCounter(dir: string, n: number): void {
  writeLinkCounter(join(dir, "next"), n);
}

function tryCreate(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

function exhausted(pool: IdPool): SysjailError {
  return new SysjailError(`sysjail: all ${pool.blocks} id ranges of the pool are leased (see /var/lib/sysjail/ids and docs/JAILS.md)`, {
    code: "ENOSPC", phase: "registry", exitCode: Exit.osErr,
  });
}

/** Where the round-robin starts: the counter names the next block to try (1..n-1). */
function firstBlock(n: number, counter: number): number {
  if (n <= 1) return 0;
  return counter >= 1 && counter < n ? counter : 1;
}

/** Takes a free block, round-robin from the counter; block 0 (the range every root jail shared
 * before there was a pool) is handed out last. Returns the block and the file that holds it. */
function claimBlock(pool: IdPool, content: string, ephemeral: boolean, dirs = leaseDirs()): { block: number; file: string } {
  const mine = ephemeral ? dirs.ephemeral : join(dirs.persistent, "blocks");
  const other = ephemeral ? join(dirs.persistent, "blocks") : dirs.ephemeral;
  ensureDir(dirs.persistent);
  ensureDir(mine);
  const n = pool.blocks;
  const first = firstBlock(n, readCounter(dirs.persistent));
  for (let k = 0; k < n; k++) {
    const block = n > 1 ? (k === n - 1 ? 0 : 1 + ((first - 1 + k) % (n - 1))) : 0;
    const file = join(mine, String(block));
    if (!tryCreate(file, content)) continue;
    if (existsSync(join(other, String(block)))) {
      rmSync(file, { force: true });
      continue;
    }
    if (block !== 0) writeCounter(dirs.persistent, block + 1 < n ? block + 1 : 1);
    return { block, file };
  }
  throw exhausted(pool);
}

/** The block a name or a tree leases for good: found, or leased now. */
export function persistentLease(kind: "name" | "tree", value: string, opts: { pool?: IdPool; peek?: boolean } = {}): number | undefined {
  const pool = opts.pool ?? idPool();
  const dirs = leaseDirs();
  const kf = keyFile(dirs.persistent, kind, value);
  const want = keyText(kind, value);
  for (let attempt = 0; attempt < 3; attempt++) {
    let block: number | undefined;
    try {
      block = Number(readlinkSync(kf));
    } catch {
      block = undefined;
    }
    if (block !== undefined && Number.isInteger(block) && block >= 0 && block < pool.blocks) {
      let held = "";
      try {
        held = readFileSync(join(dirs.persistent, "blocks", String(block)), "utf8");
      } catch {
        /* the block file is gone: the key is stale */
      }
      if (held === want) return block;
    }
    if (opts.peek) return undefined;
    if (block !== undefined) rmSync(kf, { force: true }); // a stale or corrupt key
    const got = claimBlock(pool, want, false, dirs);
    ensureDir(join(dirs.persistent, "keys"));
    try {
      symlinkSync(String(got.block), kf);
      return got.block;
    } catch (err) {
      rmSync(got.file, { force: true });
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // another start leased the same key meanwhile: take theirs
    }
  }
  throw new SysjailError(`sysjail: could not lease an id range for ${kind} ${value}`, { code: "EAGAIN", phase: "registry", exitCode: Exit.osErr });
}

/** Leases block I (sjadopt -r BASE) for a tree, unless something holds it already (then the
 * tree shares that range, as asked). True when this call made the lease. */
export function leaseBlock(kind: "name" | "tree", value: string, block: number): boolean {
  const dirs = leaseDirs();
  ensureDir(dirs.persistent);
  ensureDir(join(dirs.persistent, "blocks"));
  if (!tryCreate(join(dirs.persistent, "blocks", String(block)), keyText(kind, value))) return false;
  ensureDir(join(dirs.persistent, "keys"));
  const kf = keyFile(dirs.persistent, kind, value);
  rmSync(kf, { force: true });
  try {
    symlinkSync(String(block), kf);
  } catch {
    /* a concurrent lease of the same key: the block file still holds this one */
  }
  return true;
}

/** A block for one run of an unnamed jail; its file is removed when the jail ends. */
export function ephemeralLease(what: string, opts: { pool?: IdPool } = {}): { block: number; file: string } {
  return claimBlock(opts.pool ?? idPool(), `ephemeral ${JSON.stringify(what)}\n`, true);
}

/** Ends a persistent lease (sjadopt -u): the block returns to the pool. */
export function dropPersistentLease(kind: "name" | "tree", value: string, opts: { pool?: IdPool } = {}): void {
  const pool = opts.pool ?? idPool();
  const dirs = leaseDirs();
  const block = persistentLease(kind, value, { pool, peek: true });
  rmSync(keyFile(dirs.persistent, kind, value), { force: true });
  if (block !== undefined) rmSync(join(dirs.persistent, "blocks", String(block)), { force: true });
}

/** Ends whatever persistent lease holds block I (sjadopt -u of a tree whose lease was keyed by
 * another path); a name's lease is kept unless dropNames. */
export function dropBlockLease(block: number, opts: { dropNames?: boolean } = {}): void {
  const dirs = leaseDirs();
  const bf = join(dirs.persistent, "blocks", String(block));
  let held: string;
  try {
    held = readFileSync(bf, "utf8");
  } catch {
    return;
  }
  const m = /^(name|tree) (".*")\n$/.exec(held);
  if (!m) return;
  const kind = m[1] as "name" | "tree";
  if (kind === "name" && !opts.dropNames) return;
  let value: string;
  try {
    value = JSON.parse(m[2]!) as string;
  } catch {
    return;
  }
  const kf = keyFile(dirs.persistent, kind, value);
  try {
    if (readlinkSync(kf) === String(block)) rmSync(kf, { force: true });
  } catch {
    /* no key */
  }
  rmSync(bf, { force: true });
}

/** Releases an ephemeral lease by its file (only files of the ephemeral directory named by a block number). */
export function releaseEphemeral(file: string | undefined): void {
  if (!file) return;
  const dir = leaseDirs().ephemeral;
  if (!file.startsWith(`${dir}/`) || !/^\d+$/.test(file.slice(dir.length + 1))) return;
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/** The block the round-robin would hand out next (a dry run's guess; nothing is leased). */
export function nextBlock(pool: IdPool = idPool()): number {
  return firstBlock(pool.blocks, readCounter(leaseDirs().persistent));
}

/** One lease, as `sjadopt -l` lists it. */
export interface LeaseInfo {
  block: number;
  kind: string;
  /** The name, the tree's path, or what the ephemeral jail was called. */
  key: string;
}

/** Every lease (an admin's listing: this one reads the directories). */
export function listLeases(): LeaseInfo[] {
  const dirs = leaseDirs();
  const out: LeaseInfo[] = [];
  for (const d of [join(dirs.persistent, "blocks"), dirs.ephemeral]) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!/^\d+$/.test(n)) continue;
      let text = "";
      try {
        text = readFileSync(join(d, n), "utf8");
      } catch {
        continue;
      }
      const m = /^(name|tree|ephemeral) (".*")\n$/.exec(text);
      let key = "?";
      try {
        if (m) key = JSON.parse(m[2]!) as string;
      } catch {
        /* shown as ? */
      }
      out.push({ block: Number(n), kind: m?.[1] ?? "?", key });
    }
  }
  return out.sort((a, b) => a.block - b.block);
}

/** The key a block's lease file names (for sjls and sjadopt messages), or undefined. */
export function leaseHolder(block: number): string | undefined {
  const dirs = leaseDirs();
  for (const f of [join(dirs.persistent, "blocks", String(block)), join(dirs.ephemeral, String(block))]) {
    try {
      return readFileSync(f, "utf8").trim();
    } catch {
      /* not this one */
    }
  }
  return undefined;
}
