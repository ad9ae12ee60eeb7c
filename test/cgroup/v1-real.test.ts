// Integration on a real cgroup v1 machine (root): plans executed the way the helper does, then read and removed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, it, type TestContext } from "node:test";
import { selectBackend } from "../../src/cgroup/select.js";
import type { CgroupBackend, CgroupPaths } from "../../src/cgroup/types.js";
import { uniqueDirs } from "../../src/cgroup/v1.js";
import { parseLimits } from "../../src/limits/parse.js";
import { planLimits, type LimitsPlan } from "../../src/limits/plan.js";
import { buildReport, type RunReport } from "../../src/limits/report.js";
import { argsOf, execPlan } from "./helpers.js";

const backend: CgroupBackend | undefined = process.geteuid?.() === 0 ? selectBackend() : undefined;
/** Whether the host mounts a v1 memory hierarchy, read from the mount table, not from the code under test. */
const hostV1 = readFileSync("/proc/self/mounts", "utf8").split("\n").some((l) => l.split(" ")[2] === "cgroup" && (l.split(" ")[3] ?? "").split(",").includes("memory"));
// only a host without v1 hierarchies skips; there, no root or a backend other than v1 fails
const skip = hostV1 ? false : "this host has no cgroup v1 hierarchies";
const made: CgroupPaths[] = [];
let n = 0;

/** Plans and prepares a jail's limits under a fresh test jid (removed in after() even on failure). */
function planFor(text: string, accounting = true): LimitsPlan {
  const b = backend!;
  const p = planLimits(`t${process.pid}-${++n}`, text ? parseLimits(text) : {}, { backend: b, accounting });
  made.push(p.paths);
  b.prepare(p.cgroup);
  return p;
}

/** Runs argv under a plan and builds the report as the library would from the helper's exit event. */
async function runReport(p: LimitsPlan, text: string, argv: string[]): Promise<RunReport> {
  const r = await execPlan(p.ops, argv);
  const signals: Record<string, number> = { SIGKILL: 9, SIGXCPU: 24 };
  return buildReport(
    {
      ev: "exit",
      setupFailed: false,
      cmd: r.reason === null,
      cmdCode: r.code ?? -1,
      cmdSignal: r.signal ? (signals[r.signal] ?? 15) : 0,
      reason: r.reason,
      utime: 0,
      stime: 0,
      maxrssKb: 0,
      wall: r.wallSeconds,
      stats: r.stats,
    },
    { limits: text ? parseLimits(text) : {}, stats: p.stats, unenforced: p.unenforced },
  );
}

after(async () => {
  if (!backend) return;
  for (const paths of made) {
    const left = await backend.cleanup(paths);
    assert.deepEqual(left, []);
    for (const d of uniqueDirs(paths)) assert.ok(!existsSync(d), `${d} removed`);
  }
});

describe("cgroup v1 on this machine", { skip, timeout: 60_000 }, () => {
  before(() => {
    if (process.geteuid?.() !== 0) throw new Error("the cgroup v1 tests make cgroups: run them as root");
    assert.equal(backend?.kind, "v1", "this host mounts v1 hierarchies, so the v1 backend must be chosen");
  });
  it("memory=64M: 200 MiB gets the jail's process OOM-killed, peak near the limit", async () => {
    const text = "memory=64M";
    const p = planFor(text);
    const r = await runReport(p, text, ["dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"]);
    assert.equal(r.status, "oom", JSON.stringify(r));
    assert.equal(r.reason, "memory limit 64 MiB reached");
    assert.ok(r.peakMemoryBytes !== null && r.peakMemoryBytes > 48e6 && r.peakMemoryBytes <= 70e6, `peak ${r.peakMemoryBytes}`);
    assert.ok((r.oomKills ?? 0) >= 1);
  });

  it("pids=16: forks are refused past the limit, peak between 10 and 16", async () => {
    const text = "pids=16";
    const p = planFor(text);
    // the test's sh stands where the jail's init would be (the +1 of pids.max)
    const r = await runReport(p, text, ["sh", "-c", "for i in $(seq 100); do sleep 3 & done 2>/dev/null; wait"]);
    assert.ok(r.peakPids !== null && r.peakPids >= 10 && r.peakPids <= 16, `peakPids ${r.peakPids}`);
    assert.ok(r.limitsHit?.includes("pids"));
  });

  it("cpu=1s: the polled cpuacct.usage limit kills a busy loop at about 1 s", async () => {
    const text = "cpu=1s";
    const p = planFor(text, false);
    const r = await runReport(p, text, ["sh", "-c", "while :; do :; done"]);
    assert.equal(r.status, "timeout");
    assert.equal(r.reason, "cpu time limit 1 s reached");
    assert.ok(r.cpuSeconds >= 0.95 && r.cpuSeconds <= 1.3, `cpu ${r.cpuSeconds}`);
    assert.ok(r.cpuUserSeconds >= 0.8, `user ${r.cpuUserSeconds}`);
  });

  it("cores=0.5: a busy loop gets about half a CPU over 1 s of wall time", async () => {
    const text = "cores=0.5,wall=1s";
    const p = planFor(text);
    const r = await runReport(p, text, ["sh", "-c", "while :; do :; done"]);
    assert.equal(r.status, "timeout");
    assert.equal(r.reason, "wall-clock limit 1 s reached");
    assert.ok(r.cpuSeconds >= 0.3 && r.cpuSeconds <= 0.7, `cpu ${r.cpuSeconds}`);
  });

  it("accounting only: exit(3) is a runtime error with whole-jail figures", async () => {
    const p = planFor("");
    assert.deepEqual(argsOf(p.ops, "cgroupWrite"), []);
    const r = await runReport(p, "", ["sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exit 3"]);
    assert.equal(r.status, "runtime-error");
    assert.equal(r.exitCode, 3);
    assert.equal(r.accounting, "cgroup");
    assert.ok(r.cpuSeconds > 0.01, `cpu ${r.cpuSeconds}`);
    assert.ok(r.peakMemoryBytes !== null && r.peakMemoryBytes > 0);
    assert.equal(r.peakPids, 0, "one process: the stand-in for init");
  });

  it("readUsage and jexec's attachOps on a live jail, cleanup kills what is left", async (t: TestContext) => {
    const p = planFor("memory=32M,pids=8");
    const b = backend!;
    for (const [dir] of argsOf(p.ops, "cgroupMkdir")) (await import("node:fs")).mkdirSync(dir!);
    for (const [file, value] of argsOf(p.ops, "cgroupWrite")) writeFileSync(file!, value!);
    const first = spawn("sleep", ["30"], { stdio: "ignore" });
    const second = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      for (const [file] of argsOf(p.ops, "cgroupAttach")) writeFileSync(file!, String(first.pid));
      for (const o of b.attachOps(p.paths)) writeFileSync(String(o.args[0]), String(second.pid));
      const u = b.readUsage(p.paths);
      assert.equal(u.pids, 2);
      assert.ok(u.memoryBytes !== null && u.memoryBytes >= 0);
      assert.ok(u.cpuSeconds !== null && u.cpuSeconds >= 0);
      const t0 = performance.now();
      assert.deepEqual(await b.cleanup(p.paths), []);
      t.diagnostic(`cleanup of a live jail (2 processes, 3 hierarchies): ${(performance.now() - t0).toFixed(2)} ms`);
      for (const d of uniqueDirs(p.paths)) assert.ok(!existsSync(d));
    } finally {
      first.kill("SIGKILL");
      second.kill("SIGKILL");
    }
  });

  it("measures creating and removing a jail's cgroups", async (t: TestContext) => {
    const { mkdirSync, rmdirSync } = await import("node:fs");
    const rounds = 50;
    const time = (text: string) => {
      let setup = 0;
      let remove = 0;
      for (let i = 0; i < rounds; i++) {
        const p = planFor(text);
        const t0 = performance.now();
        for (const [dir] of argsOf(p.ops, "cgroupMkdir")) mkdirSync(dir!);
        for (const [file, value] of argsOf(p.ops, "cgroupWrite")) writeFileSync(file!, value!);
        const t1 = performance.now();
        for (const [dir] of argsOf(p.ops, "cgroupMkdir").reverse()) rmdirSync(dir!);
        remove += performance.now() - t1;
        setup += t1 - t0;
      }
      return `${(setup / rounds).toFixed(3)} ms to create, ${(remove / rounds).toFixed(3)} ms to remove`;
    };
    t.diagnostic(`memory+pids+cpu limits (3 dirs, 5 writes): ${time("memory=64M,pids=16,cpu=1s")}`);
    t.diagnostic(`accounting only (3 dirs): ${time("")}`);
    let planMs = performance.now();
    for (let i = 0; i < 1000; i++) planLimits(i, { memory: 1 << 26, pids: 16, cpu: 1000 }, { backend: backend! });
    planMs = (performance.now() - planMs) / 1000;
    t.diagnostic(`planLimits: ${(planMs * 1000).toFixed(1)} us per jail`); // a measure, not a timed assertion
  });
});
