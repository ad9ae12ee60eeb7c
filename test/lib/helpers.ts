// Shared pieces of the library tests (test/lib): the static workload program, jail roots holding
// it, private state directories, and the checks that a jail left nothing behind.
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { TestContext } from "node:test";
import { Jail, list, SysjailError, type JailEntry } from "../../src/index.js";
import { REPO } from "../helpers/paths.js";
import { allPids, isRunning, procDescendants, procStart, procState, type ProcId } from "../helpers/proc.js";
import { makeOwnedDir, makeTempDir, removeTree } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";
import { buildStatic } from "../helpers/probe.js";
import { stateFiles } from "../helpers/suite.js";

export { REPO };

/** The workload program's source. */
export const WORK_SOURCE = join(REPO, "test", "lib", "fixtures", "work.c");

/** The workload program, built once per test process (test/helpers/probe.ts). */
export function buildWork(): string {
  return buildStatic(WORK_SOURCE, "work");
}

/** A jail root for the workload: proc, dev, tmp, etc, sys and the program at /work. */
export interface WorkRoot {
  path: string;
  remove(): void;
}

/** Makes a fresh jail root holding `work` at /work (and any extra files). */
export function makeWorkRoot(work: string, files: Record<string, string> = {}): WorkRoot {
  const base = makeTempDir("sysjail-libroot-");
  const path = join(base, "root");
  mkdirSync(path, { mode: 0o755 });
  for (const d of ["proc", "dev", "tmp", "etc", "sys"]) mkdirSync(join(path, d), { mode: 0o755 });
  chmodSync(join(path, "tmp"), 0o1777);
  copyFileSync(work, join(path, "work"));
  chmodSync(join(path, "work"), 0o755);
  for (const [p, text] of Object.entries(files)) writeFileSync(join(path, p), text);
  return { path, remove: () => removeTree(base) };
}

/** A private state directory for one test (the `stateDir` option), removed after it, with any
 * jail a failed test left in it. */
export function libState(t: TestContext, opts: { owner?: number } = {}): string {
  const d = opts.owner === undefined ? makeTempDir("sysjail-libstate-") : makeOwnedDir(opts.owner, opts.owner, "sysjail-libstate-", 0o755);
  t.after(async () => {
    try {
      for (const e of await list({ stateDir: d })) await (await Jail.get(e.jid, { stateDir: d })).remove();
    } finally {
      removeTree(d);
    }
  });
  return d;
}

/** Files of a state directory that describe jails (test/helpers/suite.ts). */
export const stateLeft = stateFiles;

/** Existing cgroup directories named NAME: /sys/fs/cgroup/{*,}/sysjail/NAME (a jail's cgroup name
 * is its jid, or its registry-qualified jid for a private state directory). */
export function cgroupDirsNamed(name: string): string[] {
  const root = "/sys/fs/cgroup";
  const candidates = [join(root, "sysjail", name)];
  try {
    for (const c of readdirSync(root)) candidates.push(join(root, c, "sysjail", name));
  } catch {
    /* no cgroup fs */
  }
  return candidates.filter((d) => existsSync(d));
}

/** Processes in a jail's pid namespace (its init included), found through /proc. */
export function jailProcesses(initPid: number): number[] {
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${initPid}/ns/pid`);
  } catch {
    return [];
  }
  return allPids().filter((p) => {
    try {
      return readlinkSync(`/proc/${p}/ns/pid`) === ns && procState(p) !== "Z";
    } catch {
      return false;
    }
  });
}

/** What a running jail consists of on the host, taken while it runs. */
export interface JailSnapshot {
  jid: number;
  /** Its init, its monitor and every process of its pid namespace at the time. */
  procs: ProcId[];
  /** Its cgroup directories, and their name. */
  cgroups: string[];
  cgroupName: string | undefined;
}

/** Snapshots a running jail from its registry entry. */
export function snapshot(entry: JailEntry): JailSnapshot {
  const pids = [entry.initPid, entry.monitorPid, ...procDescendants(entry.initPid), ...jailProcesses(entry.initPid)];
  const procs: ProcId[] = [];
  for (const pid of new Set(pids)) {
    const start = procStart(pid);
    if (start !== undefined) procs.push({ pid, start });
  }
  const own = Object.entries(entry.cgroups ?? {}).filter(([c]) => ["memory", "pids", "cpu", "cpuacct"].includes(c)).map(([, d]) => d);
  return { jid: entry.jid, procs, cgroups: own, cgroupName: own[0] ? basename(own[0]) : undefined };
}

/** Waits for a jail of the state directory that matches (and whose init has a child: its
 * command runs), and returns its entry. */
export async function waitForJail(dir: string, match: (e: JailEntry) => boolean = () => true, withCommand = true): Promise<JailEntry> {
  return waitUntil(async () => {
    const e = (await list({ stateDir: dir })).find(match);
    return e && (!withCommand || jailProcesses(e.initPid).length > 1) ? e : undefined;
  }, `a running jail in ${dir}`);
}

/** Asserts that nothing of a jail is left: no registry entry or file, no process, no cgroup. */
export function assertNothingLeft(dir: string, snap: JailSnapshot | undefined, what: string): void {
  assert.deepEqual(stateLeft(dir), [], `${what}: state files left in ${dir}`);
  if (!snap) return;
  const alive = snap.procs.filter((p) => isRunning(p));
  assert.deepEqual(alive.map((p) => p.pid), [], `${what}: processes of jail ${snap.jid} still running`);
  if (snap.cgroupName) assert.deepEqual(cgroupDirsNamed(snap.cgroupName), [], `${what}: cgroups of jail ${snap.jid} left`);
  for (const d of snap.cgroups) assert.ok(!existsSync(d), `${what}: cgroup ${d} left`);
}

/** Asserts lo <= x <= hi with a message naming the figure. */
export function inRange(x: number | null | undefined, lo: number, hi: number, what: string): void {
  assert.ok(typeof x === "number" && x >= lo && x <= hi, `${what}: ${x} not in [${lo}, ${hi}]`);
}

export const MiB = 1024 * 1024;

/** Asserts that a promise rejects with a SysjailError and returns it. */
export async function rejection(p: Promise<unknown>): Promise<SysjailError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SysjailError, `not a SysjailError: ${String(e)}`);
    return e;
  }
  assert.fail("the promise resolved");
}
