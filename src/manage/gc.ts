// Collects what dead jails left behind: cgroup directories (limits, and the cgroup2 directories
// that hold shared-stack jails' address programs), registry files and ephemeral id leases of
// jails whose reserving process, monitor and init are all gone (SIGKILL at any moment, a crashed
// helper, a failed write). Run by jls, sjls, jail -r, a start with limits or addresses, and
// `sjls --gc`, which reports what it removed.
//
// Security: a directory is removed only when (1) its name is this registry's instance name for a
// jid (src/registry/instance.ts: "J" for the default registry, "HASH-J" for another state
// directory), so another registry's jails are never touched; (2) this registry holds no live claim
// on that jid: no entry whose init or monitor is the recorded process (pid and start time), and no
// reservation whose reserving process is the recorded one; and (3) the kernel agrees that no
// process is inside: rmdir(2) of a populated cgroup fails (EBUSY), and nothing here kills. A
// jail's cgroups are created only after its jid is reserved (docs/ARCHITECTURE.md, step 1 before
// step 2), so a starting jail always has a live claim. Registry files of a dead jail go last,
// after its cgroups, so a leftover is never left without the record that lets a later run collect it.
import { lstatSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { detectCgroups } from "../cgroup/detect.js";
import { findDelegation } from "../cgroup/delegate.js";
import { listDir } from "../cgroup/fsutil.js";
import { DEFAULT_BASE } from "../cgroup/types.js";
import { releaseEphemeral } from "../ids/leases.js";
import { instanceName } from "../registry/instance.js";
import { isAlive, monitorAlive, processStart, Registry } from "../registry/store.js";
import type { JailEntry } from "../registry/types.js";
import { trustedCgroups, trustedJoined } from "./cgroups.js";

/** What one collection removed, and what it had to leave (still populated). */
export interface GcResult {
  /** Cgroup directories removed. */
  cgroups: string[];
  /** Jids whose registry files were removed. */
  jails: number[];
  /** Cgroup directories of dead jails that still hold processes (left for a later run). */
  busy: string[];
}

/** A reservation older than this with no readable stamp was left by a reserver killed between
 * creating the file and writing its pid (the two are microseconds apart). */
const EMPTY_STAMP_MS = 10_000;

/** The directories below which this caller's jails get their cgroups: root's `sysjail` in every
 * cgroup hierarchy; a user's in the subtree delegated to them. Only those that exist. */
export function cgroupParents(root = "/sys/fs/cgroup", uid = process.geteuid?.() ?? 0): string[] {
  const layout = detectCgroups(root);
  const out = new Set<string>();
  if (uid === 0) {
    for (const m of layout.mounts) out.add(join(m.path, DEFAULT_BASE));
  } else {
    const d = findDelegation(layout, uid);
    for (const b of Object.values(d.v1 ?? {})) if (b) out.add(b);
    if (d.v2) out.add(d.v2.base);
  }
  return [...out].filter((p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  });
}

/** Whether this registry still has a live claim on a jid: an entry whose init or monitor runs,
 * or a reservation whose reserving process runs (it will record the jail or release it). */
function liveClaim(registry: Registry, jid: number, entry: JailEntry | undefined): boolean {
  // (a zombie counts as gone, registry/store.ts processStart: it runs nothing, in no cgroup)
  if (entry && (isAlive(entry) || monitorAlive(entry))) return true;
  const file = join(registry.dir, "jails", `${jid}.jid`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return false; // no reservation: only an entry (checked above) could claim it
  }
  const [pid, start] = text.trim().split(" ").map(Number);
  if (!pid || start === undefined || !Number.isFinite(start)) {
    try {
      return Date.now() - statSync(file).mtimeMs < EMPTY_STAMP_MS;
    } catch {
      return false;
    }
  }
  return processStart(pid) === start;
}

/** Whether PATH (not followed) is root's, and we are root. */
function rootOwned(path: string): boolean {
  try {
    return (process.geteuid?.() ?? 0) === 0 && lstatSync(path).uid === 0;
  } catch {
    return false;
  }
}

/** rmdir of a cgroup directory and the ones a jail made below it, deepest first; false when a
 * process is still inside (EBUSY) or the kernel refused. */
function removeTree(dir: string): boolean {
  for (const n of listDir(dir)) {
    const sub = join(dir, n);
    try {
      if (statSync(sub).isDirectory() && !removeTree(sub)) return false;
    } catch {
      /* gone meanwhile */
    }
  }
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}

/** Removes what dead jails of the registry in `dir` left: their cgroup directories, then their
 * registry files and ephemeral id leases. Never touches a jail with a live claim or a populated cgroup. */
export function collectLeftovers(dir: string, opts: { cgroupRoot?: string; parents?: string[] } = {}): GcResult {
  const res: GcResult = { cgroups: [], jails: [], busy: [] };
  const registry = new Registry(dir);
  const jailsDir = join(dir, "jails");
  const jids = new Set<number>();
  for (const f of listDir(jailsDir)) {
    const m = /^(\d+)\.(jid|json)$/.exec(f);
    if (m) jids.add(Number(m[1]));
  }
  const entries = new Map<number, JailEntry | undefined>();
  const live = new Set<number>();
  for (const j of jids) {
    const e = registry.read(j);
    entries.set(j, e);
    if (liveClaim(registry, j, e)) live.add(j);
  }
  // cgroup directories named as this registry names its jails, of jids without a live claim
  const prefix = instanceName(dir, 0).slice(0, -1); // "" or "HASH-"
  const pattern = new RegExp(`^${prefix.replace(/[^A-Za-z0-9]/g, "\\$&")}(\\d{1,10})$`);
  const stuck = new Set<number>();
  const tryRemove = (d: string, jid: number) => {
    if (res.cgroups.includes(d) || res.busy.includes(d)) return;
    let exists = true;
    try {
      exists = statSync(d).isDirectory();
    } catch {
      exists = false;
    }
    if (!exists) return;
    if (removeTree(d)) res.cgroups.push(d);
    else {
      res.busy.push(d);
      stuck.add(jid);
    }
  };
  for (const parent of opts.parents ?? cgroupParents(opts.cgroupRoot)) {
    for (const n of listDir(parent)) {
      const m = pattern.exec(n);
      if (!m) continue;
      const jid = Number(m[1]);
      if (live.has(jid)) continue;
      // a jid the registry has no file of: a claim may appear only with a reservation, made
      // before any cgroup of that jid, so a reservation made since the listing is seen here
      if (!jids.has(jid) && liveClaim(registry, jid, registry.read(jid))) continue;
      tryRemove(join(parent, n), jid);
    }
  }
  // a dead entry's own cgroup paths (made under another backend's parents, say)
  for (const [jid, e] of entries) {
    if (live.has(jid) || !e) continue;
    for (const d of new Set([...Object.values(trustedCgroups(e, e.owner ?? 0)), ...Object.values(trustedJoined(e, e.owner ?? 0))])) if (d) tryRemove(d, jid);
  }
  // registry files last: only once nothing of the jail is left on the host
  const deadNames = new Map<number, string[]>();
  for (const n of listDir(join(dir, "names"))) {
    try {
      const jid = Number(readFileSync(join(dir, "names", n), "utf8").trim());
      if (jids.has(jid) && !live.has(jid)) deadNames.set(jid, [...(deadNames.get(jid) ?? []), n]);
    } catch {
      /* raced */
    }
  }
  for (const jid of jids) {
    if (live.has(jid) || stuck.has(jid)) continue;
    // look again: the claim may have ended (or a jid been reserved) while the cgroups were removed
    const e = registry.read(jid);
    if (liveClaim(registry, jid, e)) continue;
    // an ephemeral id lease: the entry's, or the one the reservation noted (a start killed before
    // its entry). Security: only from a state directory and files root owns (root pointed at a
    // user's directory must not release a lease a running jail holds); releaseEphemeral takes
    // only a file of the ephemeral lease directory
    let lease: string | undefined;
    if (rootOwned(dir) && e && e.owner === 0 && e.ids?.lease === "ephemeral") lease = e.ids.file;
    const resv = join(dir, "jails", `${jid}.jid`);
    if (!e && rootOwned(dir) && rootOwned(resv)) {
      try {
        lease = readFileSync(resv, "utf8").trim().split(" ")[2];
      } catch {
        /* no reservation */
      }
    }
    try {
      for (const n of deadNames.get(jid) ?? [e?.name]) registry.remove(jid, n);
      releaseEphemeral(lease);
      res.jails.push(jid);
    } catch {
      /* not ours to remove (another user's directory) */
    }
  }
  return res;
}
