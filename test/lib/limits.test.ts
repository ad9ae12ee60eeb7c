// Limits and the run report through the library, checked against known workloads of
// test/lib/fixtures/work.c. The figures are checked as ranges (a 2 s busy loop must report
// about 2 s of user cpu); nothing here asserts how fast anything ran.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Jail, run, type RunOptions } from "../../src/index.js";
import { requireRoot } from "../helpers/nobody.js";
import { assertNothingLeft, buildWork, inRange, libState, makeWorkRoot, MiB, snapshot, type WorkRoot } from "./helpers.js";

let root: WorkRoot;
before(() => {
  requireRoot("the library tests");
  root = makeWorkRoot(buildWork());
});
after(() => root?.remove());

type Opts = Omit<RunOptions, "path" | "hostname" | "command" | "stateDir">;
const work = (dir: string, args: string[], opts: Opts = {}) =>
  run({ path: root.path, hostname: "limits", command: ["/work", ...args], stateDir: dir, ...opts });

/** A cgroup file of a running jail, trimmed ("" when missing). */
function cgFile(dir: string | undefined, file: string): string {
  if (!dir) return "";
  try {
    return readFileSync(join(dir, file), "utf8").trim();
  } catch {
    return "";
  }
}

describe("limits and the run report", () => {
  it("a 2 s busy loop reports 2 s of user cpu for the whole jail (cgroup accounting)", async (t) => {
    const dir = libState(t);
    const { report: r, stdout } = await work(dir, ["busy", "2"], { limits: { memory: "256M" } });
    assert.equal(stdout, "busy\n");
    assert.equal(r.status, "ok");
    assert.equal(r.accounting, "cgroup");
    inRange(r.cpuUserSeconds, 1.8, 2.6, "cpuUserSeconds");
    inRange(r.cpuSystemSeconds, 0, 0.5, "cpuSystemSeconds");
    inRange(r.cpuSeconds - (r.cpuUserSeconds + r.cpuSystemSeconds), -1e-5, 1e-5, "cpuSeconds = user + system");
    assert.ok(r.wallSeconds >= r.cpuSeconds * 0.95, `one thread cannot use more cpu (${r.cpuSeconds}) than wall time (${r.wallSeconds})`);
    assert.equal(r.peakPids, 1, "only the command ran");
    inRange(r.peakMemoryBytes, 1, 64 * MiB, "peakMemoryBytes of a busy loop");
    assert.deepEqual(r.limitsHit, []);
    assert.equal(r.oomKills, 0);
    assertNothingLeft(dir, undefined, "after the run");
  });

  it("a 2 s busy loop without limits reports it too (getrusage accounting)", async (t) => {
    const dir = libState(t);
    const { report: r } = await work(dir, ["busy", "2"]);
    assert.equal(r.status, "ok");
    assert.equal(r.accounting, "rusage");
    inRange(r.cpuUserSeconds, 1.8, 2.6, "cpuUserSeconds");
    assert.equal(r.peakPids, null, "no pids figure without a pids cgroup");
    assert.equal(r.oomKills, null);
  });

  it("300 MB under a 256 MB cap is OOM-killed inside the jail; the peak is the cap", async (t) => {
    const dir = libState(t);
    const { report: r, stdout } = await work(dir, ["alloc", "300"], { limits: { memory: "256M" } });
    assert.equal(stdout, "", "the allocation did not complete");
    assert.equal(r.status, "oom");
    assert.equal(r.reason, "memory limit 256 MiB reached");
    assert.equal(r.signal, 9);
    assert.equal(r.signalName, "SIGKILL");
    assert.equal(r.exitCode, null);
    assert.ok((r.oomKills ?? 0) >= 1, `oomKills ${r.oomKills}`);
    assert.ok(r.limitsHit?.includes("memory"), `limitsHit ${r.limitsHit}`);
    inRange(r.peakMemoryBytes, 200 * MiB, 256 * MiB, "peakMemoryBytes under memory=256M");
    assert.equal(r.limits.memory, 256 * MiB);
  });

  it("100 MB under a 256 MB cap completes; the peak is about 100 MB", async (t) => {
    const dir = libState(t);
    const { report: r, stdout } = await work(dir, ["alloc", "100"], { limits: { memory: "256M" } });
    assert.equal(stdout, "alloc 100\n");
    assert.equal(r.status, "ok");
    assert.equal(r.oomKills, 0);
    inRange(r.peakMemoryBytes, 100 * MiB, 140 * MiB, "peakMemoryBytes of a 100 MiB allocation");
  });

  it("a fork bomb under pids=16 gets 15 children besides itself; peakPids is 16", async (t) => {
    const dir = libState(t);
    const { report: r, stdout } = await work(dir, ["fork", "100", "1"], { limits: { pids: 16 } });
    const m = /^forked (\d+) (\d+)\n$/.exec(stdout);
    assert.ok(m, `output ${JSON.stringify(stdout)}`);
    const [ok, failed] = [Number(m[1]), Number(m[2])];
    assert.equal(ok + failed, 100);
    inRange(ok, 9, 15, "children forked under pids=16 (the command counts too)");
    assert.equal(r.status, "ok");
    inRange(r.peakPids, 10, 16, "peakPids under pids=16");
    assert.ok(r.limitsHit?.includes("pids"), `limitsHit ${r.limitsHit}`);
  });

  it("cpu=1s ends a 5 s busy loop as a timeout after about 1 s of cpu", async (t) => {
    const dir = libState(t);
    const { report: r } = await work(dir, ["busy", "5"], { limits: { cpu: "1s" } });
    assert.equal(r.status, "timeout");
    assert.equal(r.reason, "cpu time limit 1 s reached");
    assert.deepEqual(r.limitsHit, ["cpu"]);
    inRange(r.cpuSeconds, 0.9, 1.5, "cpuSeconds under cpu=1s");
  });

  it("wall=1s ends a 30 s sleep as a timeout after about 1 s", async (t) => {
    const dir = libState(t);
    const { report: r } = await work(dir, ["sleep", "30"], { limits: { wall: "1s" } });
    assert.equal(r.status, "timeout");
    assert.equal(r.reason, "wall-clock limit 1 s reached");
    assert.deepEqual(r.limitsHit, ["wall"]);
    inRange(r.wallSeconds, 0.9, 3, "wallSeconds under wall=1s");
    inRange(r.cpuSeconds, 0, 0.2, "a sleeping jail's cpu time");
  });

  it("cores=0.5 caps bandwidth: 1 s of cpu needs at least about 2 s of wall time", async (t) => {
    const dir = libState(t);
    const { report: r } = await work(dir, ["busy", "1"], { limits: { cores: 0.5 } });
    assert.equal(r.status, "ok");
    inRange(r.cpuUserSeconds, 0.9, 1.4, "cpuUserSeconds");
    assert.ok(r.wallSeconds >= 1.7, `1 s of cpu at half a core took only ${r.wallSeconds} s of wall time`);
  });

  it("openFiles, fileSize, tmp and shm sizes reach the command", async (t) => {
    const dir = libState(t);
    const nofile = await work(dir, ["files", "100"], { limits: { openFiles: 20 } });
    assert.equal(nofile.stdout, "opened 17\n", "20 descriptors: 0, 1, 2 and 17 more");
    const fsize = await work(dir, ["fsize", "1000000", "/tmp/big"], { limits: { fileSize: "64K" } });
    assert.equal(fsize.report.status, "signaled");
    assert.equal(fsize.report.signalName, "SIGXFSZ");
    assert.deepEqual(fsize.report.limitsHit, ["fileSize"]);
    const df = await work(dir, ["df", "/tmp", "--", "df", "/dev/shm"], { limits: { tmpSize: "8M", shmSize: "4M" } });
    assert.equal(df.stdout, `${8 * MiB}\n${4 * MiB}\n`);
    const shm = await work(dir, ["df", "/dev/shm"]);
    assert.equal(shm.stdout, `${64 * MiB}\n`, "/dev/shm is 64 MiB by default");
  });

  it("exit N is runtime-error with exitCode N; a clean exit is ok with every figure present", async (t) => {
    const dir = libState(t);
    const { report: r } = await work(dir, ["exit", "3"], { limits: { memory: "64M" } });
    assert.equal(r.status, "runtime-error");
    assert.equal(r.exitCode, 3);
    assert.equal(r.reason, "exited with status 3");
    const { report: ok } = await work(dir, ["exit", "0"], { limits: { memory: "64M" } });
    for (const k of ["status", "reason", "exitCode", "signal", "cpuUserSeconds", "cpuSystemSeconds", "wallSeconds", "peakMemoryBytes", "peakPids"]) {
      assert.ok(k in ok, `report key ${k}`);
    }
    assert.equal(ok.status, "ok");
    assert.equal(ok.halt, null);
    assert.deepEqual(ok.unenforced, []);
  });

  it("writes the cgroup files the limits stand for; swap is off by default", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "cg", stateDir: dir, limits: { memory: "64M", pids: 16, cores: 0.5, cpuShares: 512 } });
    let snap;
    try {
      snap = snapshot(jail.entry);
      const cg = jail.entry.cgroups;
      if (cg.memory && cgFile(cg.memory, "memory.limit_in_bytes")) {
        // cgroup v1
        assert.equal(cgFile(cg.memory, "memory.limit_in_bytes"), String(64 * MiB));
        const memsw = cgFile(cg.memory, "memory.memsw.limit_in_bytes");
        if (memsw) assert.equal(memsw, String(64 * MiB), "memory+swap = memory: no swap");
        assert.equal(cgFile(cg.memory, "memory.swappiness"), "0");
        assert.equal(cgFile(cg.cpu, "cpu.cfs_quota_us"), "50000");
        assert.equal(cgFile(cg.cpu, "cpu.cfs_period_us"), "100000");
        assert.equal(cgFile(cg.cpu, "cpu.shares"), "512");
      } else {
        // cgroup v2
        assert.equal(cgFile(cg.memory, "memory.max"), String(64 * MiB));
        const swapMax = cgFile(cg.memory, "memory.swap.max");
        if (swapMax) assert.equal(swapMax, "0");
        assert.equal(cgFile(cg.cpu, "cpu.max"), "50000 100000");
        assert.equal(cgFile(cg.cpu, "cpu.weight"), "50");
      }
      assert.equal(cgFile(cg.pids, "pids.max"), "17", "pids + the jail's init");
      // with no swap, 100 MB cannot fit in 64M even where the host has swap
      const x = await jail.exec(["/work", "alloc", "100"]);
      assert.equal(x.code, 137);
      assert.equal(x.signal, 9);
    } finally {
      await jail.remove();
    }
    assertNothingLeft(dir, snap, "after remove()");
  });
});
