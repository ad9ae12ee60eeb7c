// Test helpers: fake cgroup trees in a temp directory, and a tiny executor of the helper's cgroup ops.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlanOp } from "../../src/plan/types.js";

/** A fresh temp directory; remove it with rmTree. */
export function tempDir(prefix = "sysjail-cg-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a temp tree. */
export function rmTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Creates files (path -> content) under dir, making directories as needed. */
export function makeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, content);
  }
}

const V1_FILES: Record<string, string[]> = {
  memory: ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness", "memory.oom_control", "memory.max_usage_in_bytes", "memory.failcnt", "memory.usage_in_bytes"],
  pids: [],
  cpuacct: ["cpuacct.usage", "cpuacct.usage_user", "cpuacct.usage_sys"],
  cpu: ["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"],
  "cpu,cpuacct": ["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpuacct.usage"],
};

/** A fake v1 tree: one directory per hierarchy name with `tasks`, cgroup.procs and the root's files. */
export function fakeV1(root: string, hierarchies: string[], omit: string[] = []): void {
  for (const h of hierarchies) {
    const files: Record<string, string> = { [`${h}/tasks`]: "", [`${h}/cgroup.procs`]: "" };
    for (const f of V1_FILES[h] ?? []) if (!omit.includes(f)) files[`${h}/${f}`] = "0\n";
    makeFiles(root, files);
  }
}

/** A fake v2 tree at `dir` offering these controllers. */
export function fakeV2(dir: string, controllers: string[]): void {
  makeFiles(dir, {
    "cgroup.controllers": controllers.join(" ") + "\n",
    "cgroup.subtree_control": "\n",
    "cgroup.procs": "",
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
  });
}

/** The ops of one kind, as argument lists. */
export function argsOf(ops: PlanOp[], name: PlanOp["op"]): string[][] {
  return ops.filter((o) => o.op === name).map((o) => o.args.map(String));
}

/** What the executor saw: the child's end, the stats the helper would report, the monitor's reason. */
export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stats: Record<string, string>;
  reason: "cpu" | "wall" | null;
  wallSeconds: number;
}

/**
 * Runs argv under the plan's cgroup ops the way native/src/run.c does: mkdirs and writes first, then
 * the child is attached before it runs its command (it waits on stdin), then the cpu and wall limits
 * are polled and the cgroupStat files read at its end. Removing the cgroups is the caller's job.
 */
export async function execPlan(ops: PlanOp[], argv: string[]): Promise<ExecResult> {
  for (const [dir] of argsOf(ops, "cgroupMkdir")) mkdirSync(dir!);
  for (const [file, value] of argsOf(ops, "cgroupWrite")) writeFileSync(file!, value!);
  const child: ChildProcess = spawn("/bin/sh", ["-c", 'read go; exec "$@"', "sh", ...argv], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  const ended = new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on("exit", (c, s) => res([c, s])));
  let reason: ExecResult["reason"] = null;
  try {
    for (const [file] of argsOf(ops, "cgroupAttach")) writeFileSync(file!, String(child.pid));
  } catch (e) {
    child.kill("SIGKILL");
    await ended;
    throw e;
  }
  const t0 = performance.now();
  child.stdin?.end("go\n");
  const timers: NodeJS.Timeout[] = [];
  const cpu = argsOf(ops, "cpuLimit")[0];
  if (cpu) {
    const [ns, file] = cpu;
    timers.push(
      setInterval(() => {
        const used = BigInt(readFileSync(file!, "utf8").trim() || "0");
        if (!reason && used >= BigInt(ns!)) {
          reason = "cpu";
          child.kill("SIGKILL");
        }
      }, 20),
    );
  }
  const wall = argsOf(ops, "wallLimit")[0];
  if (wall) {
    timers.push(
      setTimeout(() => {
        if (!reason) {
          reason = "wall";
          child.kill("SIGKILL");
        }
      }, Number(wall[0])),
    );
  }
  const [code, signal] = await ended;
  const wallSeconds = (performance.now() - t0) / 1000;
  for (const t of timers) clearTimeout(t);
  const stats: Record<string, string> = {};
  for (const [name, file] of argsOf(ops, "cgroupStat")) {
    try {
      stats[name!] = readFileSync(file!, "utf8");
    } catch {
      /* the helper skips unreadable stat files too */
    }
  }
  return { code, signal, stats, reason, wallSeconds };
}
