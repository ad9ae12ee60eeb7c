// Which host id range a jail of root maps onto: a shared one, its tree's, its name's lease, its
// tree's lease, or an ephemeral one; rootless jails map only their caller.
import { readFileSync } from "node:fs";
import { SysjailError, Exit } from "../errors.js";
import type { HostFacts } from "../host/facts.js";
import { idMapping, type IdMapping } from "../plan/ids.js";
import type { JailSpec } from "../spec/types.js";
import { ephemeralLease, nextBlock, persistentLease, type LeaseKind } from "./leases.js";
import { blockBase, blockOfBase, idPool, type IdPool } from "./pool.js";

/** A jail's range and the lease that gave it (recorded in the registry entry). */
export interface IdChoice {
  mapping: IdMapping;
  /** Undefined for rootless jails (their caller's own id). */
  lease?: LeaseKind | undefined;
  block?: number | undefined;
  /** The ephemeral lease's file: removed when the jail ends. */
  file?: string | undefined;
}

/** What chooseIds needs besides the spec. */
export interface ChooseOptions {
  /** Owner uid of the jail root directory. */
  rootOwner: number;
  /** A dry run: look, lease nothing. */
  dryRun?: boolean | undefined;
  /** Finds the host uid base a running jail (by name or jid) maps onto (for idrange = JAIL). */
  runningBase?: ((key: string) => number | undefined) | undefined;
  pool?: IdPool | undefined;
  /** A name that is no lasting identity (an OCI container id): an ephemeral lease all the same.
   * A lease kept per name would hold a block for good for every container an engine ever made. */
  ephemeral?: boolean | undefined;
}

/** The mapping of block I of the pool. */
export function blockMapping(pool: IdPool, i: number, lease: LeaseKind): IdMapping {
  const b = blockBase(pool, i);
  return {
    uidMap: `0 ${b.uid} ${pool.size}\n`,
    gidMap: `0 ${b.gid} ${pool.size}\n`,
    setgroups: "allow",
    count: pool.size,
    hostBase: b.uid,
    gidBase: b.gid,
    rootless: false,
    lease,
  };
}

function usage(msg: string): SysjailError {
  return new SysjailError(msg, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
}

/** The block an `idrange` value names: a range base (decimal or 0x hex) of the pool, a running
 * jail of root (name or jid), or a name with a lease. */
export function shareBlock(value: string, pool: IdPool, runningBase?: (key: string) => number | undefined): number {
  const num = /^(0x[0-9a-f]+|\d+)$/i.test(value) ? Number(value) : NaN;
  if (Number.isSafeInteger(num)) {
    const b = blockOfBase(pool, num);
    if (b !== undefined) return b;
  }
  const running = runningBase?.(value);
  if (running !== undefined) {
    const b = blockOfBase(pool, running);
    if (b !== undefined) return b;
  }
  const leased = persistentLease("name", value, { pool, peek: true });
  if (leased !== undefined) return leased;
  const first = blockBase(pool, 0).uid;
  throw usage(`sysjail: idrange '${value}': not a running jail of root, a leased jail name, or a range base of the pool (${first}, ${first + pool.size}, ... ${first + (pool.blocks - 1) * pool.size})`);
}

let inInitialUserNs: boolean | undefined;
/** Whether this process is in the host's user namespace (its uid_map maps every id onto itself).
 * Read once: a process's own user namespace is fixed (Node, multithreaded, cannot unshare one). */
function initialUserNs(): boolean {
  if (inInitialUserNs !== undefined) return inInitialUserNs;
  try {
    inInitialUserNs = /^\s*0\s+0\s+4294967295\s*$/.test(readFileSync("/proc/self/uid_map", "utf8"));
  } catch {
    return false; // not cached: a passing failure (EMFILE) must not stick
  }
  return inInitialUserNs;
}

/** The first "0 X N" line of one of this process's id maps: N, the ids it has from 0 (0: none). */
function ownIdsFromZero(file: string): number {
  try {
    const m = /^\s*0\s+\d+\s+(\d+)\s*$/m.exec(readFileSync(file, "utf8"));
    return m ? Math.min(Number(m[1]), 65536) : 0;
  } catch {
    return 0;
  }
}

/** Root of a jail's user namespace (a parent jail running jail(8)): its own ids 0..N-1 mapped onto
 * the child one to one (CAP_SETUID in its namespace lets it write that map); undefined when it
 * has fewer than two ids (a rootless parent maps only itself). */
function nestedMapping(): IdMapping | undefined {
  const n = Math.min(ownIdsFromZero("/proc/self/uid_map"), ownIdsFromZero("/proc/self/gid_map"));
  if (n < 2) return undefined;
  return { uidMap: `0 0 ${n}\n`, gidMap: `0 0 ${n}\n`, setgroups: "allow", count: n, hostBase: 0, gidBase: 0, rootless: false };
}

/** Chooses the range, in the order docs/JAILS.md (Host ids and setuid files) gives, and leases
 * it unless this is a dry run. */
export function chooseIds(spec: JailSpec, facts: HostFacts, opts: ChooseOptions): IdChoice {
  if (facts.uid !== 0) {
    if (spec.idrange !== undefined) throw usage(`sysjail: idrange '${spec.idrange}': only root's jails have id ranges (a user's jail maps only the user)`);
    return { mapping: idMapping(facts) };
  }
  // root of a user namespace other than the host's cannot map the pool (nor lease in the host's
  // directories): a jail with children.max (a nested jail's parent) maps its own ids onto the
  // child, as a FreeBSD child shares its parent's ids; else the default mapping, and the kernel's
  // refusal is reported as before
  if (!opts.pool && !initialUserNs()) return { mapping: nestedMapping() ?? idMapping(facts) };
  const pool = opts.pool ?? idPool();
  const pick = (block: number, lease: LeaseKind, file?: string): IdChoice => ({ mapping: blockMapping(pool, block, lease), lease, block, file });
  if (spec.idrange !== undefined) return pick(shareBlock(spec.idrange, pool, opts.runningBase), "share");
  const owned = spec.path === "/" ? undefined : blockOfBase(pool, opts.rootOwner);
  if (owned !== undefined) return pick(owned, "owned");
  try {
    return leased(spec, pool, opts, pick);
  } catch (err) {
    if (err instanceof SysjailError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new SysjailError(`sysjail: cannot lease a host id range: ${e.code ?? "error"}: ${e.path ?? e.message}`, {
      code: e.code ?? "EIO", phase: "registry", exitCode: Exit.osErr, path: e.path,
    });
  }
}

function leased(spec: JailSpec, pool: IdPool, opts: ChooseOptions, pick: (block: number, lease: LeaseKind, file?: string) => IdChoice): IdChoice {
  const peek = opts.dryRun ?? false;
  const persistent = (kind: "name" | "tree", value: string) => pick(persistentLease(kind, value, { pool, peek }) ?? nextBlock(pool), kind);
  if (spec.name !== undefined && !opts.ephemeral) return persistent("name", spec.name);
  if (spec.path !== "/" && !opts.ephemeral) return persistent("tree", spec.path);
  if (peek) return pick(nextBlock(pool), "ephemeral");
  const e = ephemeralLease(spec.name ?? spec.hostname, { pool });
  return pick(e.block, "ephemeral", e.file);
}
