// The jail registry: race-free jid reservation, atomic entries, and pruning of dead jails.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SysjailError, Exit } from "../errors.js";
import { readLinkCounter, writeLinkCounter } from "../host/linkcounter.js";
import { faultWrite } from "../jail/fault.js";
import { denialsFile, jailFiles, nameFile, nsSocketPath } from "./paths.js";
import type { JailEntry } from "./types.js";

/** Start time (ticks since boot) of a live process, or undefined when it is gone. A zombie is
 * gone: it runs nothing and is in no cgroup; a killed monitor's init stays one until the host's
 * reaper collects it, and must not keep its jail's addresses or name taken meanwhile. */
export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined;
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

let ownStart: number | undefined;
/** This process's own start time: read once (it cannot change while the process lives). */
export function selfStart(): number | undefined {
  if (ownStart === undefined) ownStart = processStart(process.pid);
  return ownStart;
}

/** True when the entry's init is the very process that was recorded (pid reuse included). */
export function isAlive(e: Pick<JailEntry, "initPid" | "initStart">): boolean {
  return e.initPid > 0 && processStart(e.initPid) === e.initStart;
}

/** True while the jail's monitor may still be cleaning up (its cgroups, its files): only then
 * may its id be given to a new jail. */
export function monitorAlive(e: Pick<JailEntry, "monitorPid" | "monitorStart">): boolean {
  if (!e.monitorPid) return false;
  const start = processStart(e.monitorPid);
  return start !== undefined && (e.monitorStart === undefined || start === e.monitorStart);
}

/** A failed registry write (a full disk, say) as one line naming the directory and the errno. */
function writeError(what: string, err: unknown, dir: string): SysjailError {
  const code = (err as NodeJS.ErrnoException).code ?? "EIO";
  return new SysjailError(`sysjail: ${what}: ${code}`, { code, phase: "registry", path: dir, exitCode: Exit.cantCreate, cause: err });
}

/** A reserved jid: the reservation file exists; release() drops it if the jail never started. */
export interface Reservation {
  jid: number;
  name: string;
  files: string[];
  release(): void;
}

/** State directories this process has already created (start-up cost matters for run()). */
const ensured = new Set<string>();

/** A registry rooted at one state directory. */
export class Registry {
  constructor(readonly dir: string) {}

  private ensure(): void {
    if (ensured.has(this.dir)) return;
    try {
      mkdirSync(join(this.dir, "jails"), { recursive: true, mode: 0o700 });
      mkdirSync(join(this.dir, "names"), { recursive: true, mode: 0o700 });
      ensured.add(this.dir);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new SysjailError(`sysjail: cannot create the state directory ${this.dir}: ${e.code}`, {
        code: e.code ?? "EIO", phase: "registry", path: this.dir, exitCode: Exit.cantCreate, cause: err,
      });
    }
  }

  private jids(): number[] {
    try {
      return readdirSync(join(this.dir, "jails"))
        .map((f) => /^(\d+)\.(jid|json)$/.exec(f)?.[1])
        .filter((x): x is string => x !== undefined)
        .map(Number);
    } catch {
      return [];
    }
  }

  /** Reserves the next free jid (O_EXCL: concurrent starts never share one) and the name. LEASE,
   * an ephemeral id lease's file, is noted in the reservation: a collection after a start killed
   * before its entry was written releases it (src/manage/gc.ts). */
  reserve(wanted?: { jid?: number; name?: string; lease?: string | undefined }): Reservation {
    this.ensure();
    // pruning is left to readers (list(), jls): a start only needs a free id, which O_EXCL gives
    const lease = wanted?.lease && !/\s/.test(wanted.lease) ? ` ${wanted.lease}` : "";
    const stamp = `${process.pid} ${selfStart() ?? 0}${lease}\n`;
    // like FreeBSD, ids grow: the next after the last one handed out (or the highest in use);
    // O_EXCL below is what makes them unique, the counter only keeps fresh ids from being reused
    const last = this.lastJid();
    let jid = wanted?.jid ?? (last > 0 ? last : Math.max(0, ...this.jids())) + 1;
    if (jid > 0x7fffffff) jid = 1;
    for (;;) {
      const { reservation } = jailFiles(this.dir, jid);
      try {
        const fd = openSync(reservation, "wx", 0o644);
        try {
          faultWrite("reserve");
          writeSync(fd, stamp);
        } catch (err) {
          // a full disk: no reservation without its stamp (nothing could tell it from a live one)
          closeSync(fd);
          rmSync(reservation, { force: true });
          throw writeError(`cannot reserve a jail id in ${this.dir}`, err, this.dir);
        }
        closeSync(fd);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (wanted?.jid !== undefined) {
          throw new SysjailError(`sysjail: jid ${jid} is in use`, { code: "EEXIST", phase: "registry", exitCode: Exit.usage });
        }
        jid++;
      }
    }
    if (wanted?.jid === undefined) this.setLastJid(jid);
    const resv = jailFiles(this.dir, jid).reservation;
    // removal order (the monitor's): entry, name, then the id reservation last
    const files = [jailFiles(this.dir, jid).entry];
    const name = wanted?.name ?? String(jid);
    const nf = nameFile(this.dir, name);
    try {
      this.claimName(nf, jid);
      files.push(nf, resv);
    } catch (err) {
      rmSync(resv, { force: true });
      if ((err as NodeJS.ErrnoException).code === "EEXIST") {
        throw new SysjailError(`sysjail: a jail named "${name}" is already running`, { code: "EEXIST", phase: "registry", exitCode: Exit.usage });
      }
      throw err;
    }
    return {
      jid, name, files,
      release: () => { for (const f of files) rmSync(f, { force: true }); },
    };
  }

  // The id counter is a symbolic link whose target is the number ("lastjid -> 41"): replacing it
  // is symlink + rename, atomic for readers, and a rename over a link makes ext4 flush nothing
  // (renaming a regular file over another forces its data out first, ~0.5 ms at every start
  // when the state directory is not on tmpfs). A regular file from an older version still reads.
  private lastJid(): number {
    return readLinkCounter(join(this.dir, "lastjid"), true);
  }

  private setLastJid(jid: number): void {
    // never move the counter backwards when starts race
    writeLinkCounter(join(this.dir, "lastjid"), jid, () => this.lastJid() < jid);
  }

  /** Creates the name lock; a lock left by a jail that is gone is taken over. */
  private claimName(nf: string, jid: number): void {
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(nf, "wx", 0o644);
        writeSync(fd, `${jid}\n`);
        closeSync(fd);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
        let holder = NaN;
        try {
          holder = Number(readFileSync(nf, "utf8").trim());
        } catch {
          continue;
        }
        const f = jailFiles(this.dir, holder);
        const entry = this.read(holder);
        const reserved = (() => { try { readFileSync(f.reservation); return true; } catch { return false; } })();
        if ((entry && isAlive(entry)) || (!entry && reserved)) throw err;
        rmSync(nf, { force: true });
      }
    }
  }

  /** Writes an entry atomically (rename), so a reader never sees half of it. */
  write(entry: JailEntry): void {
    const { entry: file } = jailFiles(this.dir, entry.jid);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      faultWrite("entry");
      writeSync(fd, JSON.stringify(entry));
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw writeError(`cannot record jail ${entry.jid} in ${this.dir}`, err, this.dir);
    }
    closeSync(fd);
    renameSync(tmp, file);
  }

  /** Removes every file of a jail. */
  remove(jid: number, name?: string): void {
    const f = jailFiles(this.dir, jid);
    rmSync(f.entry, { force: true });
    rmSync(nsSocketPath(this.dir, jid), { force: true }); // a killed monitor's namespace socket
    rmSync(denialsFile(this.dir, jid), { force: true });
    rmSync(f.reservation, { force: true });
    if (name !== undefined) {
      try {
        if (readFileSync(nameFile(this.dir, name), "utf8").trim() === String(jid)) rmSync(nameFile(this.dir, name), { force: true });
      } catch {
        /* already gone */
      }
    }
  }

  /** Reads one entry file; undefined if missing or unreadable. */
  read(jid: number): JailEntry | undefined {
    try {
      return JSON.parse(readFileSync(jailFiles(this.dir, jid).entry, "utf8")) as JailEntry;
    } catch {
      return undefined;
    }
  }

  /** Running jails, ordered by jid; dead ones are pruned on the way. */
  list(): JailEntry[] {
    const out: JailEntry[] = [];
    for (const jid of [...new Set(this.jids())].sort((a, b) => a - b)) {
      const e = this.read(jid);
      if (!e) continue;
      if (isAlive(e)) out.push(e);
      else if (!monitorAlive(e)) this.tryRemove(e.jid, e.name);
    }
    return out;
  }

  private tryRemove(jid: number, name?: string): void {
    try {
      this.remove(jid, name);
    } catch {
      /* not ours to remove */
    }
  }

  /** Drops reservations whose reserving process died before the jail was recorded. */
  prune(): void {
    let files: string[];
    try {
      files = readdirSync(join(this.dir, "jails"));
    } catch {
      return;
    }
    const have = new Set(files);
    for (const f of files) {
      const m = /^(\d+)\.jid$/.exec(f);
      if (!m) continue;
      const jid = Number(m[1]);
      if (have.has(`${jid}.json`)) {
        const e = this.read(jid);
        if (e && !isAlive(e) && !monitorAlive(e)) this.tryRemove(jid, e.name);
        continue;
      }
      try {
        const [pid, start] = readFileSync(join(this.dir, "jails", f), "utf8").trim().split(" ").map(Number);
        if (pid !== undefined && start !== undefined && processStart(pid) !== start) {
          // the reserver records the entry before it exits: look again now that it is gone
          const e = this.read(jid);
          if (!e) this.tryRemove(jid);
          else if (!isAlive(e) && !monitorAlive(e)) this.tryRemove(jid, e.name);
        }
      } catch {
        /* raced with its owner */
      }
    }
  }

  /** Finds a running jail by jid or name. */
  find(key: string): JailEntry | undefined {
    const all = this.list();
    if (/^\d+$/.test(key)) {
      const byJid = all.find((e) => e.jid === Number(key));
      if (byJid) return byJid;
    }
    return all.find((e) => e.name === key);
  }
}
