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
  /** sysjail-oci's sysjail.ids=host: the host's ids one to one, no pool block (src/oci/hostids.ts). */
  hostIds?: IdMapping | undefined;
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
export function initialUserNs(): boolean {
  if (inInitialUserNs !== undefined) return inInitialUserNs;
  try {
    inInitialUserNs = /^\s*0\s+0\s+4294967295\s*$/.test(readFileSync("/proc/self/uid_map", "utf8"));
  } catch {
    return false; // not cached: a passing failure (EMFILE) must not stick
  }
  return inInitialUserNs;
}

/** This process's own ids from 0 up without a gap in one of its id maps, as identity lines
 * ("I I N") split where its own map's lines are (the kernel takes a child's line only when it
 * lies inside one line of its parent's map): rootless podman's namespace maps 0 onto the user
 * and 1..N onto their subordinate ids, one run 0..N inside it in two lines. At most 65536 ids. */
export function ownIdRuns(file: string): IdRun[] {
  try {
    return idRunsFromZero(readFileSync(file, "utf8"));
  } catch {
    return [];
  }
}

/** A run of ids mapped onto themselves: [first, count]. */
export type IdRun = [number, number];

/** The gapless runs of inside ids from 0 (at most 65536 ids) that TEXT (an id map's lines) names. */
export function idRunsFromZero(text: string, limit = 65536): IdRun[] {
  const lines = text.split("\n").map((l) => l.trim().split(/\s+/).map(Number)).filter((l) => l.length === 3 && l.every(Number.isSafeInteger));
  const runs: IdRun[] = [];
  let n = 0;
  for (let grew = true; grew && n < limit; ) {
    grew = false;
    for (const [inside, , count] of lines) {
      if (inside !== n || count! <= 0 || n >= limit) continue;
      const c = Math.min(count!, limit - n);
      runs.push([n, c]);
      n += c;
      grew = true;
    }
  }
  return runs;
}

/** The number of ids RUNS hold. */
function runsCount(runs: IdRun[]): number {
  return runs.reduce((t, [, c]) => t + c, 0);
}

/** RUNS cut to their first N ids, as id map lines. */
function runsMap(runs: IdRun[], n: number): string {
  let out = "";
  for (const [first, count] of runs) if (first < n) out += `${first} ${first} ${Math.min(count, n - first)}\n`;
  return out;
}

/** Root of a user namespace other than the host's (a parent jail running jail(8), or the one
 * rootless podman runs its runtime in): its own ids 0..N-1 mapped onto the child one to one
 * (CAP_SETUID in its namespace lets it write that map); undefined when it has fewer than two ids
 * (a rootless parent maps only itself). */
function nestedMapping(): IdMapping | undefined {
  const u = ownIdRuns("/proc/self/uid_map"), g = ownIdRuns("/proc/self/gid_map");
  const n = Math.min(runsCount(u), runsCount(g));
  if (n < 2) return undefined;
  return { uidMap: runsMap(u, n), gidMap: runsMap(g, n), setgroups: "allow", count: n, hostBase: 0, gidBase: 0, rootless: false };
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
  if (opts.hostIds) return { mapping: opts.hostIds };
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
