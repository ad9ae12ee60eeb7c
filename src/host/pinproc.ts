// /proc reads and writes of one process, pinned: the /proc/PID directory is opened once, its start
// time read through that descriptor, and every file reached through it (/proc/self/fd/N/FILE).
// Once open, the directory stays that process's: after the process ends its files fail (ESRCH),
// even when its pid is given to another process, so nothing read or written here can be a
// process that took the pid meanwhile. Node has no openat: the descriptor's link in our own
// /proc/self stands in for it (our own descriptor, never a path a jail chose).
import { closeSync, openSync, readFileSync, readlinkSync, statSync, writeFileSync, constants as FS } from "node:fs";

/** One process's /proc directory, held open. */
export interface PinnedProc {
  pid: number;
  /** Its start time (clock ticks since boot), read through the descriptor. */
  start: number;
  /** Its state letter when opened (R, S, T, Z, ...). */
  state: string;
  /** A file of it as text; undefined when unreadable or the process is gone. */
  read(name: string): string | undefined;
  /** A namespace of it (TYPE: pid, user) as src/manage/proc.ts pidNamespace names one ("dev:ino",
   * else the link's text); undefined when gone or not ours to see. */
  ns(type: string): string | undefined;
  /** Writes VALUE to a file of it; throws the errno (ESRCH once gone). */
  write(name: string, value: string): void;
  close(): void;
}

/** The state and start time (fields 3 and 22) of a /proc stat text. */
function statOf(text: string | undefined): { state: string; start: number } | undefined {
  if (!text) return undefined;
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const start = Number(f[19]);
  return f[0] && f[19] !== undefined && Number.isFinite(start) ? { state: f[0], start } : undefined;
}

/** /proc/PID held open, with the start time and state it has; undefined when there is no such
 * process. The caller closes it. */
export function openProc(pid: number): PinnedProc | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}`, FS.O_RDONLY | FS.O_DIRECTORY | FS.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  const at = (name: string) => `/proc/self/fd/${fd}/${name}`;
  const read = (name: string) => { try { return readFileSync(at(name), "utf8"); } catch { return undefined; } };
  const s = statOf(read("stat"));
  if (!s) { closeSync(fd); return undefined; }
  return {
    pid, start: s.start, state: s.state, read,
    ns(type) {
      try {
        const st = statSync(at(`ns/${type}`));
        return `${st.dev}:${st.ino}`;
      } catch {
        try { return readlinkSync(at(`ns/${type}`)); } catch { return undefined; }
      }
    },
    write(name, value) { writeFileSync(at(name), value); },
    close() { try { closeSync(fd); } catch { /* closed already */ } },
  };
}

/** /proc/PID held open if PID is the process that started at START and is not a zombie;
 * undefined otherwise. The caller closes it. */
export function pinProc(pid: number, start: number): PinnedProc | undefined {
  const p = openProc(pid);
  if (p && p.start === start && p.state !== "Z" && p.state !== "X") return p;
  p?.close();
  return undefined;
}

/** Whether a still-open PinnedProc's process lives on (not ended, not a zombie). */
export function stillAlive(p: PinnedProc): boolean {
  const s = statOf(p.read("stat"));
  return s !== undefined && s.state !== "Z" && s.state !== "X";
}
