// Small synchronous file helpers for cgroup directories (and the management tools' reads of
// /proc and state directories): read, list, probe, remove, kill what is inside.
import { accessSync, constants, existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { SysjailError } from "../errors.js";
import { openProc, stillAlive, type PinnedProc } from "../host/pinproc.js";
import { signalEach } from "../host/signal.js";

/** Resolves after MS milliseconds (node:timers/promises would be one more module to load, for a
 * wait that a jail seldom needs). */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A file's text, or undefined when it cannot be read. */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** A directory's entries, or none when it cannot be read. */
export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

const existCache = new Map<string, boolean>();

/** Whether a path exists (cached per process: for the static files of hierarchy roots). */
export function existsCached(path: string): boolean {
  let v = existCache.get(path);
  if (v === undefined) {
    v = existsSync(path);
    existCache.set(path, v);
  }
  return v;
}

/** Forgets cached existence probes (tests that build trees). */
export function clearProbeCache(): void {
  existCache.clear();
}

/** Whether the caller may write a path (W_OK; EROFS on a read-only mount counts as no). */
export function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The pids in a cgroup's cgroup.procs (TEXT: its content, when read already). */
export function procsOf(dir: string, text = readText(`${dir}/cgroup.procs`)): number[] {
  return (text ?? "")
    .split("\n")
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/** rmdir of a cgroup directory; true when gone (or never there), false while busy. */
export function removeDir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return true;
    if (code === "EBUSY") return false;
    throw new SysjailError(`cannot remove cgroup ${dir}: ${code ?? e}`, {
      code: code ?? "EIO",
      phase: "runtime",
      path: dir,
      cause: e,
    });
  }
}

/** Removes a stale jail cgroup left by a helper that died; throws when processes still use it. */
export function removeStale(dir: string): void {
  if (!existsSync(dir)) return;
  if (removeDir(dir)) return;
  throw new SysjailError(`cgroup ${dir} is still in use by another jail`, { code: "EBUSY", phase: "plan", path: dir });
}

/** SIGKILL to each process of cgroup DIR, pinned: each pid's /proc directory is opened and its
 * start time read, the cgroup read again (a pinned, live process cannot have given its pid away,
 * so a pid still listed is that process), and the signal goes through the helper's pidfd with
 * that start time (src/host/signal.ts): a pid that left the cgroup and went to another process
 * is never signalled. */
function killPinned(dir: string): void {
  const pinned = procsOf(dir).map((pid) => openProc(pid)).filter((p): p is PinnedProc => p !== undefined);
  try {
    const still = new Set(procsOf(dir));
    const targets = pinned.filter((p) => still.has(p.pid) && stillAlive(p)).map((p) => ({ pid: p.pid, start: p.start }));
    if (targets.length) signalEach(targets, 9);
  } finally {
    for (const p of pinned) p.close();
  }
}

/** Kills every process of the directories (optionally through v2 cgroup.kill), then removes them, deepest first. */
export async function killAndRemove(dirs: string[], useCgroupKill: boolean): Promise<string[]> {
  const left: string[] = [];
  for (const dir of [...new Set(dirs)].reverse()) {
    if (!existsSync(dir)) continue;
    let gone = false;
    for (let attempt = 0; attempt < 50 && !gone; attempt++) {
      let killed = false;
      if (useCgroupKill && existsSync(`${dir}/cgroup.kill`)) {
        try {
          writeFileSync(`${dir}/cgroup.kill`, "1");
          killed = true; // the kernel kills every process of the cgroup: no pid is named
        } catch {
          /* fall back to pinned signals below */
        }
      }
      if (!killed) killPinned(dir);
      gone = removeDir(dir);
      if (!gone) await sleep(attempt < 10 ? 2 : 20);
    }
    if (!gone) left.push(dir);
  }
  return left;
}
