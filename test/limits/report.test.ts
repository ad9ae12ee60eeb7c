// Tests of buildReport: statuses, reasons and usage figures from the helper's exit event.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { constants } from "node:os";
import { buildReport, signalName, type ExitEvent } from "../../src/limits/report.js";

const signalNumber = (name: string): number => (constants.signals as Record<string, number>)[name]!;

const M = 2 ** 20;

/** An exit event of a command that exited 0, with overrides. */
function ev(over: Partial<ExitEvent> = {}): ExitEvent {
  return {
    ev: "exit",
    setupFailed: false,
    cmd: true,
    cmdCode: 0,
    cmdSignal: 0,
    initCode: 0,
    initSignal: 0,
    reason: null,
    halt: null,
    utime: 0.5,
    stime: 0.25,
    maxrssKb: 2048,
    wall: 1.2345678,
    stats: {},
    ...over,
  };
}

const v1Stats = (o: { peak?: number; oomKill?: number; pidsPeak?: number; pidsMax?: number; user?: number; sys?: number } = {}) => ({
  memPeak: `${o.peak ?? 10 * M}\n`,
  memFailcnt: "0\n",
  memOomControl: `oom_kill_disable 0\nunder_oom 0\noom_kill ${o.oomKill ?? 0}\n`,
  pidsPeak: `${o.pidsPeak ?? 3}\n`,
  pidsEvents: `max ${o.pidsMax ?? 0}\n`,
  cpuUsageNs: `${Math.round(((o.user ?? 1) + (o.sys ?? 0.1)) * 1e9)}\n`,
  cpuUserNs: `${Math.round((o.user ?? 1) * 1e9)}\n`,
  cpuSysNs: `${Math.round((o.sys ?? 0.1) * 1e9)}\n`,
});

describe("buildReport", () => {
  it("enforcement: how each limit set was enforced (issue 23)", () => {
    const limits = { memory: 64 * M, pids: 8, cpu: 1000, wall: 2000, openFiles: 32, swap: M, tmpSize: M };
    const cg = buildReport(ev(), { limits, unenforced: [] });
    assert.deepEqual(cg.enforcement, { memory: "cgroup", pids: "cgroup", cpu: "monitor", wall: "monitor", openFiles: "rlimit", swap: "cgroup", tmpSize: "mount" });
    assert.deepEqual(cg.limitsHit, [], "with cgroups an OOM kill or a refused fork leaves a trace: none means none");
    const rl = buildReport(ev(), { limits, unenforced: ["swap"], rlimited: ["memory", "pids", "cpu"] });
    assert.deepEqual(rl.enforcement, { memory: "rlimit", pids: "rlimit", cpu: "rlimit", wall: "monitor", openFiles: "rlimit", swap: "none", tmpSize: "mount" });
  });
  it("rlimit stand-ins for memory or pids: limitsHit is null (unknown), never []", () => {
    const mem = buildReport(ev(), { limits: { memory: 64 * M }, rlimited: ["memory"] });
    assert.equal(mem.limitsHit, null);
    const pids = buildReport(ev({ cmdCode: 1 }), { limits: { pids: 8 }, rlimited: ["pids"] });
    assert.equal(pids.limitsHit, null);
    // a cpu stand-in fires visibly (SIGXCPU): known, and reported
    const cpu = buildReport(ev({ cmdCode: -1, cmdSignal: signalNumber("SIGXCPU") }), { limits: { cpu: 1000 }, rlimited: ["cpu"] });
    assert.deepEqual(cpu.limitsHit, ["cpu"]);
    // and a cpu stand-in alone that did not fire: nothing silent was in force
    assert.deepEqual(buildReport(ev(), { limits: { cpu: 1000 }, rlimited: ["cpu"] }).limitsHit, []);
  });
  it("ok: rusage figures without cgroup stats", () => {
    const r = buildReport(ev());
    assert.equal(r.status, "ok");
    assert.equal(r.reason, null);
    assert.equal(r.exitCode, 0);
    assert.equal(r.signal, null);
    assert.equal(r.cpuUserSeconds, 0.5);
    assert.equal(r.cpuSystemSeconds, 0.25);
    assert.equal(r.cpuSeconds, 0.75);
    assert.equal(r.wallSeconds, 1.234568);
    assert.equal(r.peakMemoryBytes, 2048 * 1024);
    assert.equal(r.peakPids, null);
    assert.equal(r.oomKills, null);
    assert.equal(r.accounting, "rusage");
    assert.deepEqual(r.limitsHit, []);
  });
  it("ok: cgroup figures win, the init is not counted in peakPids", () => {
    const r = buildReport(ev({ stats: v1Stats({ peak: 5 * M, pidsPeak: 4, user: 1.0, sys: 0.05 }) }), { limits: { memory: 512 * M } });
    assert.equal(r.status, "ok");
    assert.equal(r.accounting, "cgroup");
    assert.equal(r.peakMemoryBytes, 5 * M);
    assert.equal(r.peakPids, 3);
    assert.equal(r.cpuUserSeconds, 1);
    assert.equal(r.cpuSystemSeconds, 0.05);
    assert.equal(r.oomKills, 0);
    assert.deepEqual(r.limits, { memory: 512 * M });
  });
  it("v2 cpu.stat and memory.events through a stat map", () => {
    const stats = {
      a: "usage_usec 2000000\nuser_usec 1500000\nsystem_usec 500000\n",
      b: "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n",
      c: "67108864\n",
    };
    const r = buildReport(ev({ cmdCode: -1, cmdSignal: 9, stats }), {
      limits: { memory: 64 * M },
      stats: { a: "cpuStat", b: "memEvents", c: "memPeak" },
    });
    assert.equal(r.status, "oom");
    assert.equal(r.reason, "memory limit 64 MiB reached");
    assert.equal(r.cpuUserSeconds, 1.5);
    assert.equal(r.cpuSystemSeconds, 0.5);
    assert.equal(r.peakMemoryBytes, 64 * M);
    assert.deepEqual(r.limitsHit, ["memory"]);
  });
  it("total cpu only: split like rusage", () => {
    const r = buildReport(ev({ utime: 0.3, stime: 0.1, stats: { cpuUsageNs: "2000000000" } }));
    assert.equal(r.cpuUserSeconds, 1.5);
    assert.equal(r.cpuSystemSeconds, 0.5);
  });
  it("runtime-error with the exit code", () => {
    const r = buildReport(ev({ cmdCode: 3 }));
    assert.equal(r.status, "runtime-error");
    assert.equal(r.exitCode, 3);
    assert.equal(r.reason, "exited with status 3");
  });
  it("runtime-error mentions a pids limit that refused forks", () => {
    const r = buildReport(ev({ cmdCode: 1, stats: v1Stats({ pidsPeak: 17, pidsMax: 84 }) }), { limits: { pids: 16 } });
    assert.equal(r.status, "runtime-error");
    assert.equal(r.reason, "exited with status 1; pids limit 16 reached");
    assert.equal(r.peakPids, 16);
    assert.deepEqual(r.limitsHit, ["pids"]);
  });
  it("peakPids falls back to the limit when pids.peak is missing and forks were refused", () => {
    const r = buildReport(ev({ stats: { pidsEvents: "max 3\n" } }), { limits: { pids: 16 } });
    assert.equal(r.peakPids, 16);
    assert.equal(buildReport(ev({ stats: { pidsEvents: "max 0\n" } }), { limits: { pids: 16 } }).peakPids, null);
  });
  it("signaled", () => {
    const r = buildReport(ev({ cmdCode: -1, cmdSignal: 11 }));
    assert.equal(r.status, "signaled");
    assert.equal(r.signal, 11);
    assert.equal(r.signalName, "SIGSEGV");
    assert.equal(r.exitCode, null);
    assert.equal(r.reason, "killed by signal 11 (SIGSEGV)");
  });
  it("oom: an OOM kill and SIGKILL (or a shell's 137)", () => {
    const r = buildReport(ev({ cmdCode: -1, cmdSignal: 9, stats: v1Stats({ peak: 64 * M, oomKill: 1 }) }), { limits: { memory: 64 * M } });
    assert.equal(r.status, "oom");
    assert.equal(r.reason, "memory limit 64 MiB reached");
    assert.equal(r.peakMemoryBytes, 64 * M);
    assert.equal(r.oomKills, 1);
    const sh = buildReport(ev({ cmdCode: 137, stats: v1Stats({ oomKill: 2 }) }), { limits: { memory: 64 * M } });
    assert.equal(sh.status, "oom");
    // an OOM kill of a child the command survived: its own status, the limit listed as hit
    const other = buildReport(ev({ cmdCode: 0, stats: v1Stats({ oomKill: 1 }) }), { limits: { memory: 64 * M } });
    assert.equal(other.status, "ok");
    assert.deepEqual(other.limitsHit, ["memory"]);
    // SIGKILL without an OOM kill is a plain signal
    assert.equal(buildReport(ev({ cmdCode: -1, cmdSignal: 9, stats: v1Stats() })).status, "signaled");
  });
  it("timeout: wall and cpu limits fired by the monitor", () => {
    const w = buildReport(ev({ cmd: false, cmdCode: -1, reason: "wall", initSignal: 9, initCode: -1 }), { limits: { wall: 1000 } });
    assert.equal(w.status, "timeout");
    assert.equal(w.reason, "wall-clock limit 1 s reached");
    assert.deepEqual(w.limitsHit, ["wall"]);
    const c = buildReport(ev({ cmd: false, cmdCode: -1, reason: "cpu" }), { limits: { cpu: 1500 } });
    assert.equal(c.status, "timeout");
    assert.equal(c.reason, "cpu time limit 1.5 s reached");
    assert.equal(buildReport(ev({ reason: "wall" })).reason, "wall-clock limit reached");
    assert.equal(buildReport(ev({ reason: "cpu" })).reason, "cpu time limit reached");
  });
  it("timeout: RLIMIT_CPU's SIGXCPU when a cpu limit is set", () => {
    const r = buildReport(ev({ cmdCode: -1, cmdSignal: 24 }), { limits: { cpu: 2000 }, unenforced: [] });
    assert.equal(r.status, "timeout");
    assert.match(r.reason ?? "", /cpu time limit 2 s reached \(RLIMIT_CPU\)/);
    assert.equal(buildReport(ev({ cmdCode: -1, cmdSignal: 24 })).status, "signaled");
  });
  it("SIGXFSZ under a file size limit says so", () => {
    const r = buildReport(ev({ cmdCode: -1, cmdSignal: 25 }), { limits: { fileSize: 1024 } });
    assert.equal(r.status, "signaled");
    assert.equal(r.reason, "file size limit 1 KiB reached (SIGXFSZ)");
  });
  it("halted", () => {
    const r = buildReport(ev({ cmd: false, cmdCode: -1, halt: "restart", initSignal: 1 }));
    assert.equal(r.status, "halted");
    assert.equal(r.halt, "restart");
    assert.match(r.reason ?? "", /reboot\(2\) \(restart\)/);
  });
  it("internal-error: setup failed, or no status of the command", () => {
    const s = buildReport(ev({ setupFailed: true, cmd: false }), { error: "mount: ENOENT /x" });
    assert.equal(s.status, "internal-error");
    assert.equal(s.reason, "mount: ENOENT /x");
    assert.equal(buildReport(ev({ setupFailed: true })).reason, "the jail could not be set up");
    const n = buildReport(ev({ cmd: false, cmdCode: -1, initCode: 1 }));
    assert.equal(n.status, "internal-error");
    assert.match(n.reason ?? "", /init ended \(status 1\) without the command's status/);
    const k = buildReport(ev({ cmd: false, cmdCode: -1, initCode: -1, initSignal: 9 }));
    assert.match(k.reason ?? "", /signal SIGKILL/);
  });
  it("killed, terminated, caller gone", () => {
    const k = buildReport(ev({ cmd: false, cmdCode: -1, reason: "killed" }));
    assert.equal(k.status, "signaled");
    assert.equal(k.signal, 9);
    assert.equal(k.reason, "the jail was removed");
    const t = buildReport(ev({ cmdCode: -1, cmdSignal: 9, reason: "terminated" }));
    assert.equal(t.reason, "sysjail was terminated by a signal");
    assert.equal(buildReport(ev({ cmd: false, reason: "caller-gone" })).reason, "the caller went away");
    // the command had already finished: its own status stands
    assert.equal(buildReport(ev({ cmdCode: 0, reason: "killed" })).status, "ok");
  });
  it("jails without a command", () => {
    assert.equal(buildReport(ev({ cmd: false, cmdCode: -1 }), { command: false }).status, "ok");
    const bad = buildReport(ev({ cmd: false, cmdCode: -1, initCode: 2 }), { command: false });
    assert.equal(bad.status, "internal-error");
    assert.equal(buildReport(ev({ cmd: false, stats: v1Stats({ oomKill: 1 }) }), { command: false }).status, "oom");
  });
  it("keeps the unenforced list and names signals", () => {
    assert.deepEqual(buildReport(ev(), { unenforced: ["cores"] }).unenforced, ["cores"]);
    assert.equal(signalName(9), "SIGKILL");
    assert.equal(signalName(99), "SIG99");
  });
  it("is plain JSON", () => {
    const r = buildReport(ev({ stats: v1Stats() }), { limits: { memory: M } });
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  });
});
