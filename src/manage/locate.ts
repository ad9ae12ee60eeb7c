// Finds running jails: the caller's state directory, and for root every user's too (checked first).
import { lstatSync, type Stats } from "node:fs";
import { join } from "node:path";
import { listDir } from "../cgroup/fsutil.js";
import { SysjailError, Exit } from "../errors.js";
import { stateDir } from "../registry/paths.js";
import { Registry } from "../registry/store.js";
import type { JailEntry } from "../registry/types.js";
import { readEntry, readNoFollow } from "./entryfile.js";
import { checkEntry, corruptInit } from "../registry/validate.js";
import { baseSpec } from "../spec/validate.js";
import { vis } from "./vis.js";
import { isInitOf, nsPidsOf, pinnedInOtherUserNs } from "./proc.js";
import { pinProc, type PinnedProc } from "../host/pinproc.js";
import { collectLeftovers } from "./gc.js";
import { nestedChildren } from "./nested.js";

/** A running jail and where its registry entry lives. */
export interface JailRef {
  entry: JailEntry;
  /** The state directory holding the entry. */
  dir: string;
  /** Owner of that directory: the only user besides root who may manage the jail. */
  dirOwner: number;
  /** The caller's own state directory (entries there are trusted and pruned by the Registry). */
  own: boolean;
  /** Set for a live jail whose entry failed validation (src/registry/validate.ts): the fields that
   * failed. Its entry then holds only the jid (the file's), the init's pid and start time (proved
   * to be that user's jail) and defaults: it may be shown and removed, nothing else. */
  corrupt?: string[];
}

/** A registry file of another user that could not be used, for the tools to report. */
export interface Unusable {
  file: string;
  owner: number;
  jid: number;
  problems: string[];
}

/** A state directory to look in. */
export interface StateDirRef {
  dir: string;
  own: boolean;
  /** Owner uid for foreign directories. */
  owner?: number;
}

function lstatOrUndef(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** The state directories this caller sees: its own; for root also /run/user/UID/sysjail and
 * /tmp/sysjail-UID of every user (each owned by that user), unless SYSJAIL_STATE_DIR is set. */
export function stateDirs(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): StateDirRef[] {
  const own = stateDir(undefined, env, uid);
  // root pointed at a directory another user owns (-j, SYSJAIL_STATE_DIR): that user's entries,
  // checked as any user's are, and acted on as that user
  const ownSt = uid === 0 ? lstatOrUndef(own) : undefined;
  const out: StateDirRef[] = ownSt && ownSt.isDirectory() && ownSt.uid !== 0
    ? [{ dir: own, own: false, owner: ownSt.uid }]
    : [{ dir: own, own: true }];
  if (uid !== 0 || env.SYSJAIL_STATE_DIR) return out;
  const candidates: [string, number][] = [];
  for (const u of listDir("/run/user")) if (/^\d+$/.test(u)) candidates.push([join("/run/user", u, "sysjail"), Number(u)]);
  for (const f of listDir("/tmp")) {
    const m = /^sysjail-(\d+)$/.exec(f);
    if (m) candidates.push([join("/tmp", f), Number(m[1])]);
  }
  for (const [dir, owner] of candidates) {
    if (dir === own || owner === 0) continue;
    const st = lstatOrUndef(dir);
    // a directory only, owned by the user it is named after (nobody may plant one for another)
    if (st && st.isDirectory() && !st.isSymbolicLink() && st.uid === owner) out.push({ dir, own: false, owner });
  }
  return out;
}

/** Host ids a jail's user namespace maps onto, from its init's uid_map TEXT, or undefined. */
function mappedHostUids(text: string | undefined): { first: number; count: number }[] | undefined {
  if (text === undefined) return undefined;
  return text.trim().split("\n").filter(Boolean).map((l) => {
    const [, outside, count] = l.trim().split(/\s+/).map(Number);
    return { first: outside ?? -1, count: count ?? 0 };
  });
}

/** Whether the init pinned as P maps only OWNER's uid (its uid_map, read through P). */
function mapsOnly(p: PinnedProc, owner: number): boolean {
  const map = mappedHostUids(p.read("uid_map"));
  return map !== undefined && map.length > 0 && map.every((r) => r.first === owner && r.count === 1);
}

/** True when an entry's fields have the types a real entry has. */
function wellFormed(e: unknown): e is JailEntry {
  const x = e as Partial<JailEntry>;
  return typeof x === "object" && x !== null && Number.isInteger(x.jid) && (x.jid ?? 0) > 0 &&
    typeof x.name === "string" && /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(x.name) &&
    Number.isInteger(x.initPid) && (x.initPid ?? 0) > 1 && typeof x.initStart === "number" &&
    typeof x.path === "string" && typeof x.hostname === "string" && Array.isArray(x.ip4) && Array.isArray(x.ip6) &&
    typeof x.spec === "object" && x.spec !== null && typeof x.idmap === "object" && x.idmap !== null;
}

/** Whether an entry may be acted on: its init is the recorded process, is the first process of a
 * pid namespace below ours (in root's directory: or in a user namespace below ours, a sysjail-oci
 * container sharing a pid namespace), and (for a user's directory) maps only that user's uid. */
export function trustworthy(e: JailEntry, owner: number | undefined): boolean {
  const rootDir = owner === undefined || owner === 0;
  if (!wellFormed(e)) return false;
  // the init's files read through its /proc directory pinned by the recorded start time
  // (src/host/pinproc.ts): never those of a process that took the pid of an init that ended
  const p = pinProc(e.initPid, e.initStart);
  if (!p) return false;
  try {
    if (!(isInitOf(nsPidsOf(p.read("status"), e.initPid)) || (rootDir && pinnedInOtherUserNs(p)))) return false;
    if (rootDir) return true;
    return e.owner === owner && mapsOnly(p, owner);
  } finally {
    p.close();
  }
}

/** Whether PID is a live jail init of OWNER: the recorded process (start time), the first
 * process of a pid namespace below ours, in a user namespace that maps only OWNER's uid. */
function liveInitOf(initPid: number, initStart: number, owner: number): boolean {
  const p = pinProc(initPid, initStart);
  if (!p) return false;
  try {
    return isInitOf(nsPidsOf(p.read("status"), initPid)) && mapsOnly(p, owner);
  } finally {
    p.close();
  }
}

/** A stand-in entry for a corrupt one: nothing of the file but what was proved. */
function corruptEntry(jid: number, owner: number, initPid: number, initStart: number): JailEntry {
  return {
    jid, name: String(jid), path: "", hostname: "", ip4: [], ip6: [], initPid, initStart, monitorPid: 0, owner,
    command: [], startedAt: "", persist: false, idmap: { uidMap: "", gidMap: "", rootless: true }, cgroups: {},
    spec: { ...baseSpec("/", ""), path: "" },
  };
}

/** Running jails of one foreign directory, read-only (its owner prunes it). Every file is read
 * without following symlinks (regular files only, size-capped, non-blocking) and every entry is
 * checked field by field; UNUSABLE collects what could not be used. */
function scanForeign(d: StateDirRef, corrupt: boolean, unusable?: Unusable[]): JailRef[] {
  const owner = d.owner ?? 0;
  const jails = join(d.dir, "jails");
  const st = lstatOrUndef(jails);
  if (!st || !st.isDirectory() || st.uid !== owner) return [];
  const out: JailRef[] = [];
  for (const f of listDir(jails)) {
    if (!/^\d{1,10}\.json$/.test(f)) continue;
    const jid = Number(f.slice(0, -5));
    const file = join(jails, f);
    const bad = (problems: string[], raw?: unknown) => {
      unusable?.push({ file, owner, jid, problems });
      const init = corruptInit(raw);
      if (corrupt && init && jid > 0 && jid <= 0x7fffffff && liveInitOf(init.initPid, init.initStart, owner)) {
        out.push({ entry: corruptEntry(jid, owner, init.initPid, init.initStart), dir: d.dir, dirOwner: owner, own: false, corrupt: problems });
      }
    };
    // entries are renamed into place, so a reader never sees half of one
    const text = readNoFollow(file, 1 << 20);
    if (text === undefined) {
      if (lstatOrUndef(file)) bad(["entry: not a regular file of at most 1 MiB"]);
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      bad(["entry: not JSON"]);
      continue;
    }
    const c = checkEntry(raw, jid, owner);
    if (!c.ok) {
      bad(c.problems, raw);
      continue;
    }
    if (trustworthy(c.entry, owner)) out.push({ entry: c.entry, dir: d.dir, dirOwner: owner, own: false });
  }
  return out;
}

/** What listJails may add: corrupt entries of live jails (jls, sjls, jail -r), and a list to
 * collect the files it could not use. */
export interface ListOptions {
  corrupt?: boolean;
  unusable?: Unusable[];
  /** false: do not collect dead jails' leftovers from the caller's own directory first. */
  collect?: boolean;
}

/** Every running jail this caller may see, ordered by jid (own directory first on a tie). */
export function listJails(dirs: StateDirRef[] = stateDirs(), opts: ListOptions = {}): JailRef[] {
  const me = process.getuid?.() ?? 0;
  const out: JailRef[] = [];
  for (const d of dirs) {
    if (d.own) {
      // what dead jails of this registry left goes first (src/manage/gc.ts)
      if (opts.collect !== false) {
        try {
          collectLeftovers(d.dir);
        } catch {
          /* best effort: a later run collects */
        }
      }
      // root's own entries are root's; a user's own are checked to map only that user
      for (const e of new Registry(d.dir).list()) {
        if (trustworthy(e, me === 0 ? undefined : me)) out.push({ entry: e, dir: d.dir, dirOwner: me, own: true });
      }
    } else out.push(...scanForeign(d, opts.corrupt === true, opts.unusable));
  }
  // children of jails with children.max, named PARENT.CHILD
  for (const r of [...out]) {
    if (r.corrupt || !r.entry.spec.policy?.allowNesting) continue;
    const kids = nestedChildren(r);
    out.push(...kids);
    // children.cur, for jls (shown, never written back: jail -m re-reads the entry)
    r.entry = { ...r.entry, lifecycle: { ...(r.entry.lifecycle ?? {}), childrenCur: kids.length } };
  }
  return out.sort((a, b) => a.entry.jid - b.entry.jid || Number(b.own) - Number(a.own) || a.dirOwner - b.dirOwner);
}

/** The error every tool gives for a jail that is not running: FreeBSD's wording, exit 1. */
export function notFound(tool: string, key: string): SysjailError {
  return new SysjailError(tool === "jail" ? `jail: "${key}" not found` : `${tool}: jail "${key}" not found`, { code: "ENOENT", phase: "usage", exitCode: 1 });
}

/** The jails a key names: a jid when it is a number, else a name (jid first, as jls -j does). */
export function matchKey(refs: JailRef[], key: string): JailRef[] {
  if (/^\d+$/.test(key)) {
    const byJid = refs.filter((r) => r.entry.jid === Number(key));
    if (byJid.length) return byJid;
  }
  return refs.filter((r) => r.entry.name === key);
}

/** Finds one running jail by jid or name; the caller's own directory wins over other users'. */
export function findJail(tool: string, key: string, refs: JailRef[] = listJails()): JailRef {
  const hits = matchKey(refs, key);
  const own = hits.filter((r) => r.own);
  if (own.length) return own[0]!;
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) {
    const owners = hits.map((r) => r.dirOwner).join(", ");
    throw new SysjailError(`${tool}: jail "${key}" is ambiguous (jails of uids ${owners}); set SYSJAIL_STATE_DIR to the owner's state directory`, {
      code: "EUSAGE", phase: "usage", exitCode: Exit.usage,
    });
  }
  throw notFound(tool, key);
}

/** The jail's entry as it is on disk now, when it is still the same running jail. */
export function refresh(ref: JailRef): JailRef | undefined {
  if (ref.corrupt) return undefined;
  let e = readEntry(ref.dir, ref.entry.jid);
  if (e && !ref.own) {
    const c = checkEntry(e, ref.entry.jid, ref.dirOwner);
    e = c.ok ? c.entry : undefined;
  }
  if (!e || e.initPid !== ref.entry.initPid || e.initStart !== ref.entry.initStart) return undefined;
  if (!trustworthy(e, ref.own && (process.getuid?.() ?? 0) === 0 ? undefined : ref.dirOwner)) return undefined;
  return { ...ref, entry: e };
}

/** One stderr line per registry file of another user that could not be used: never dropped
 * silently (a live jail behind it is also listed, by jid and init pid). */
export function reportUnusable(tool: string, list: Unusable[], shown: JailRef[]): void {
  for (const u of list) {
    const live = shown.find((r) => r.corrupt && r.entry.jid === u.jid && r.dirOwner === u.owner);
    const what = live ? `jail ${u.jid} (uid ${u.owner}, init pid ${live.entry.initPid})` : `${u.file} (uid ${u.owner})`;
    process.stderr.write(`${tool}: ${vis(what)}: corrupt registry entry: ${vis(u.problems.slice(0, 3).join("; "))}\n`);
  }
}
