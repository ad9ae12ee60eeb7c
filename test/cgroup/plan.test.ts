// Tests of v1 and v2 plan generation, prepare() and readUsage() against fake trees in a temp directory.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { detectCgroups } from "../../src/cgroup/detect.js";
import { clearProbeCache } from "../../src/cgroup/fsutil.js";
import { NoCgroupBackend } from "../../src/cgroup/none.js";
import { parseStats } from "../../src/cgroup/stats.js";
import { V1Backend } from "../../src/cgroup/v1.js";
import { V2Backend } from "../../src/cgroup/v2.js";
import { SysjailError } from "../../src/errors.js";
import { parseLimits } from "../../src/limits/parse.js";
import { argsOf, fakeV1, fakeV2, makeFiles, rmTree, tempDir } from "./helpers.js";

const M = 2 ** 20;

describe("v1 plan", () => {
  let root = "";
  let b: V1Backend;
  before(() => {
    root = tempDir();
    clearProbeCache();
    fakeV1(root, ["memory", "pids", "cpuacct", "cpu"]);
    b = new V1Backend(detectCgroups(root, undefined, ""));
  });
  after(() => rmTree(root));

  it("plans every controller in its hierarchy", () => {
    const p = b.plan(42, parseLimits("memory=64M,pids=16,cpu=1s,cores=1.5,cpushares=512"));
    const dir = (c: string) => join(root, c, "sysjail", "42");
    assert.equal(p.backend, "v1");
    assert.deepEqual(p.paths, { memory: dir("memory"), pids: dir("pids"), cpuacct: dir("cpuacct"), cpu: dir("cpu") });
    assert.deepEqual(argsOf(p.ops, "cgroupMkdir"), [[dir("memory")], [dir("pids")], [dir("cpuacct")], [dir("cpu")]]);
    assert.deepEqual(argsOf(p.ops, "cgroupWrite"), [
      [`${dir("memory")}/memory.limit_in_bytes`, String(64 * M)],
      [`${dir("memory")}/memory.memsw.limit_in_bytes`, String(64 * M)],
      [`${dir("memory")}/memory.swappiness`, "0"],
      [`${dir("memory")}/memory.oom_control`, "0"],
      [`${dir("pids")}/pids.max`, "17"],
      [`${dir("cpu")}/cpu.cfs_period_us`, "100000"],
      [`${dir("cpu")}/cpu.cfs_quota_us`, "150000"],
      [`${dir("cpu")}/cpu.shares`, "512"],
    ]);
    assert.deepEqual(argsOf(p.ops, "cgroupAttach").map((a) => a[0]), ["memory", "pids", "cpuacct", "cpu"].map((c) => `${dir(c)}/cgroup.procs`));
    assert.deepEqual(argsOf(p.ops, "cpuLimit"), [["1000000000", `${dir("cpuacct")}/cpuacct.usage`]]);
    assert.deepEqual(Object.values(p.stats).sort(), ["cpuSysNs", "cpuUsageNs", "cpuUserNs", "memFailcnt", "memOomControl", "memPeak", "pidsEvents", "pidsPeak"]);
    for (const [name, file] of argsOf(p.ops, "cgroupStat")) assert.ok(file?.startsWith(root) && p.stats[name!], name);
    assert.deepEqual(p.unenforced, []);
    assert.deepEqual(p.parents.sort(), ["cpu", "cpuacct", "memory", "pids"].map((c) => join(root, c, "sysjail")));
    // writes before attaches: the limits hold before the init runs
    const idx = (name: string) => p.ops.findIndex((o) => o.op === name);
    assert.ok(idx("cgroupMkdir") < idx("cgroupWrite") && idx("cgroupWrite") < idx("cgroupAttach"));
  });
  it("join: the init moves itself, one `tasks` file per hierarchy instead of cgroup.procs", () => {
    const p = b.plan(42, parseLimits("memory=64M,pids=16"), { join: true });
    const dir = (c: string) => join(root, c, "sysjail", "42");
    assert.deepEqual(argsOf(p.ops, "cgroupAttach"), []);
    assert.deepEqual(argsOf(p.ops, "cgroupJoin"), [[`${dir("memory")}/tasks`], [`${dir("pids")}/tasks`]]);
    const idx = (name: string) => p.ops.findIndex((o) => o.op === name);
    assert.ok(idx("cgroupWrite") < idx("cgroupJoin"), "the limits are written before the init joins");
  });
  it("swap: memsw = memory + swap, swappiness left alone", () => {
    const p = b.plan(1, parseLimits("memory=64M,swap=64M"));
    const w = argsOf(p.ops, "cgroupWrite").map((a) => `${a[0]?.split("/").pop()}=${a[1]}`);
    assert.deepEqual(w, [`memory.limit_in_bytes=${64 * M}`, `memory.memsw.limit_in_bytes=${128 * M}`, "memory.oom_control=0"]);
    const s = b.plan(1, { swap: M });
    assert.deepEqual(s.unenforced, ["swap"]);
    assert.match(s.notes[0] ?? "", /only together with a memory limit/);
  });
  it("no limits: nothing, unless accounting is asked for", () => {
    const p = b.plan(1, {});
    assert.deepEqual(p.ops, []);
    assert.deepEqual(p.paths, {});
    const a = b.plan(1, { wall: 1000, openFiles: 5 }, { accounting: true });
    assert.deepEqual(Object.keys(a.paths).sort(), ["cpuacct", "memory", "pids"]);
    assert.deepEqual(argsOf(a.ops, "cgroupWrite"), []);
    assert.equal(argsOf(a.ops, "cgroupStat").length, 8);
  });
  it("co-mounted cpu,cpuacct share one directory", () => {
    const r = join(root, "co");
    fakeV1(r, ["memory", "cpu,cpuacct"]);
    const co = new V1Backend(detectCgroups(r, undefined, ""));
    const p = co.plan("j", { cpu: 500, cores: 1 });
    assert.equal(p.paths.cpu, p.paths.cpuacct);
    assert.equal(argsOf(p.ops, "cgroupMkdir").length, 1);
    assert.equal(argsOf(p.ops, "cgroupAttach").length, 1);
    assert.deepEqual(co.attachOps(p.paths), p.ops.filter((o) => o.op === "cgroupAttach"));
  });
  it("without swap accounting: no memsw write, swap unenforced", () => {
    const r = join(root, "noswap");
    fakeV1(r, ["memory"], ["memory.memsw.limit_in_bytes"]);
    const p = new V1Backend(detectCgroups(r, undefined, "")).plan(1, { memory: M, swap: M });
    assert.ok(!argsOf(p.ops, "cgroupWrite").some((a) => a[0]?.includes("memsw")));
    assert.deepEqual(p.unenforced, ["swap"]);
    assert.match(p.notes[0] ?? "", /swapaccount=1/);
  });
  it("missing hierarchies leave their limits unenforced", () => {
    const r = join(root, "memonly");
    fakeV1(r, ["memory"]);
    const p = new V1Backend(detectCgroups(r, undefined, "")).plan(1, parseLimits("memory=1M,pids=5,cpu=1s,cores=1"));
    assert.deepEqual(p.unenforced.sort(), ["cores", "cpu", "pids"]);
    assert.deepEqual(Object.keys(p.paths), ["memory"]);
  });
  it("rejects jids that are not one path component", () => {
    for (const bad of ["..", ".", "a/b", "", "x y", "a".repeat(65)]) {
      assert.throws(() => b.plan(bad, {}), (e: unknown) => e instanceof SysjailError && e.phase === "plan", bad);
    }
  });
  it("prepare makes the parents and removes a stale empty cgroup", () => {
    const p = b.plan(7, { pids: 3 });
    const stale = p.paths.pids!;
    mkdirSync(stale, { recursive: true });
    b.prepare(p);
    assert.ok(existsSync(join(root, "pids", "sysjail")));
    assert.ok(!existsSync(stale));
    b.prepare(p);
  });
  it("readUsage reads usage, cpuacct and pids.current", () => {
    const p = b.plan(8, {}, { accounting: true });
    makeFiles("/", {
      [`${p.paths.memory}/memory.usage_in_bytes`]: "1048576\n",
      [`${p.paths.cpuacct}/cpuacct.usage`]: "1500000000\n",
      [`${p.paths.pids}/pids.current`]: "3\n",
    });
    assert.deepEqual(b.readUsage(p.paths), { memoryBytes: M, cpuSeconds: 1.5, pids: 3 });
    assert.deepEqual(b.readUsage({}), { memoryBytes: null, cpuSeconds: null, pids: null });
  });
});

describe("v2 plan", () => {
  let root = "";
  before(() => {
    root = tempDir();
    fakeV2(root, ["cpuset", "cpu", "io", "memory", "pids"]);
  });
  after(() => rmTree(root));
  const layout = () => detectCgroups(root, undefined, "0::/\n");

  it("plans one directory with every limit", () => {
    const b = new V2Backend(layout());
    const p = b.plan("web", parseLimits("memory=64M,pids=16,cpu=1s,cores=0.5,cpu.weight=200"));
    const dir = join(root, "sysjail", "web");
    assert.deepEqual(p.paths, { memory: dir, pids: dir, cpuacct: dir, cpu: dir });
    assert.deepEqual(argsOf(p.ops, "cgroupMkdir"), [[dir]]);
    assert.deepEqual(argsOf(p.ops, "cgroupWrite"), [
      [`${dir}/memory.max`, String(64 * M)],
      [`${dir}/memory.swap.max`, "0"],
      [`${dir}/pids.max`, "17"],
      [`${dir}/cpu.max`, "50000 100000"],
      [`${dir}/cpu.weight`, "200"],
    ]);
    assert.deepEqual(argsOf(p.ops, "cgroupAttach"), [[`${dir}/cgroup.procs`]]);
    assert.deepEqual(Object.values(p.stats).sort(), ["cpuStat", "memEvents", "memPeak", "pidsEvents", "pidsPeak"]);
    // issue 23: the helper polls cpu.stat's usage_usec: the cgroup enforces the cpu limit
    assert.deepEqual(argsOf(p.ops, "cpuLimit").map((a) => a.slice(2)), [["usage_usec", "1000"]]);
    assert.deepEqual(p.unenforced, []);
    assert.deepEqual(p.parents, [join(root, "sysjail")]);
  });
  it("with a helper that reads keyed files, cpuLimit polls cpu.stat usage_usec", () => {
    const p = new V2Backend(layout(), { cpuStatKey: true }).plan(1, { cpu: 2000 });
    assert.deepEqual(argsOf(p.ops, "cpuLimit"), [["2000000000", join(root, "sysjail", "1", "cpu.stat"), "usage_usec", "1000"]]);
    assert.deepEqual(p.unenforced, []);
  });
  it("swap alone is capped on v2", () => {
    const p = new V2Backend(layout()).plan(1, { swap: M });
    assert.deepEqual(argsOf(p.ops, "cgroupWrite"), [[join(root, "sysjail", "1", "memory.swap.max"), String(M)]]);
  });
  it("no limits: nothing; accounting: a directory with stats only", () => {
    const b = new V2Backend(layout());
    assert.deepEqual(b.plan(1, { wall: 5 }).ops, []);
    const a = b.plan(1, {}, { accounting: true });
    assert.equal(argsOf(a.ops, "cgroupMkdir").length, 1);
    assert.deepEqual(argsOf(a.ops, "cgroupWrite"), []);
  });
  it("controllers missing from the tree leave limits unenforced", () => {
    const b = new V2Backend(layout(), { controllers: ["pids"] });
    const p = b.plan(1, parseLimits("memory=1M,pids=2,cores=1"));
    assert.deepEqual(p.unenforced.sort(), ["cores", "memory"]);
    assert.equal(p.paths.memory, undefined);
    assert.ok(p.paths.pids);
  });
  it("prepare enables the controllers down to the base", () => {
    const b = new V2Backend(layout());
    const p = b.plan(3, { memory: M });
    b.prepare(p);
    assert.equal(readFileSync(join(root, "cgroup.subtree_control"), "utf8"), "+memory +pids +cpu");
    assert.equal(readFileSync(join(root, "sysjail", "cgroup.subtree_control"), "utf8"), "+memory +pids +cpu");
    // already on: not written again; only what is missing is added
    writeFileSync(join(root, "cgroup.subtree_control"), "memory pids cpu\n");
    writeFileSync(join(root, "sysjail", "cgroup.subtree_control"), "memory\n");
    const again = new V2Backend(layout());
    again.prepare(again.plan(4, { memory: M }));
    assert.equal(readFileSync(join(root, "cgroup.subtree_control"), "utf8"), "memory pids cpu\n");
    assert.equal(readFileSync(join(root, "sysjail", "cgroup.subtree_control"), "utf8"), "+pids +cpu");
  });
  it("memory.swap.max is not written where the kernel has none", () => {
    const r = join(root, "noswap");
    fakeV2(r, ["memory"]);
    makeFiles(r, { "sysjail/memory.current": "0\n" });
    const p = new V2Backend(detectCgroups(r, undefined, "")).plan(1, { memory: M, swap: M });
    assert.deepEqual(argsOf(p.ops, "cgroupWrite").map((a) => a[0]?.split("/").pop()), ["memory.max"]);
    assert.deepEqual(p.unenforced, ["swap"]);
  });
  it("readUsage reads memory.current, cpu.stat and pids.current", () => {
    const b = new V2Backend(layout());
    const p = b.plan(9, {}, { accounting: true });
    makeFiles("/", {
      [`${p.paths.memory}/memory.current`]: "4096\n",
      [`${p.paths.memory}/cpu.stat`]: "usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\n",
      [`${p.paths.memory}/pids.current`]: "2\n",
    });
    assert.deepEqual(b.readUsage(p.paths), { memoryBytes: 4096, cpuSeconds: 0.25, pids: 2 });
  });
});

describe("none backend and stats", () => {
  it("the none backend enforces nothing", async () => {
    const b = new NoCgroupBackend("test");
    const p = b.plan(1, parseLimits("memory=1M,pids=3,cpu=1s,cores=1,cpushares=100,swap=1M,wall=1s,nofile=3"));
    assert.deepEqual(p.unenforced, ["memory", "swap", "pids", "cpu", "cores", "cpuShares"]);
    assert.deepEqual(p.ops, []);
    assert.deepEqual(b.attachOps({}), []);
    assert.deepEqual(await b.cleanup({}), []);
    assert.deepEqual(b.readUsage({}), { memoryBytes: null, cpuSeconds: null, pids: null });
    assert.deepEqual(b.plan(1, { wall: 5 }).notes, []);
  });
  it("parseStats reads every kind and ignores unknown names", () => {
    const s = parseStats(
      {
        m: "100\n",
        o: "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        f: "7\n",
        pp: "9\n",
        pe: "max 4\n",
        cu: "3000000000\n",
        cus: "2000000000\n",
        csy: "1000000000\n",
        junk: "1",
      },
      { m: "memPeak", o: "memOomControl", f: "memFailcnt", pp: "pidsPeak", pe: "pidsEvents", cu: "cpuUsageNs", cus: "cpuUserNs", csy: "cpuSysNs" },
    );
    assert.equal(s.oomKills, 2);
    assert.equal(s.memLimitHits, 7);
    assert.equal(s.pidsPeak, 9);
    assert.equal(s.pidsLimitHits, 4);
    assert.equal(s.cpuSeconds, 3);
    assert.equal(s.cpuUserSeconds, 2);
    assert.equal(s.cpuSystemSeconds, 1);
    assert.equal(s.memPeakBytes, 100);
    assert.deepEqual(parseStats({ memEvents: "low 0\nmax 3\noom 1\noom_kill 1\n", pidsPeak: "garbage" }), { oomKills: 1, memLimitHits: 3 });
    assert.deepEqual(parseStats(undefined), {});
    assert.deepEqual(parseStats({ cpuStat: "usage_usec 3000000\nuser_usec 2500000\nsystem_usec 500000\n" }), { cpuSeconds: 3, cpuUserSeconds: 2.5, cpuSystemSeconds: 0.5 });
    assert.deepEqual(parseStats({ cpuStat: "nr_periods 0\nuser_usec x\n" }), {});
  });
});
