// Tests of planLimits: cgroup ops, the wall limit, rlimits, and the rlimit stand-ins without cgroups.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { detectCgroups } from "../../src/cgroup/detect.js";
import { NoCgroupBackend } from "../../src/cgroup/none.js";
import { V1Backend } from "../../src/cgroup/v1.js";
import { V2Backend } from "../../src/cgroup/v2.js";
import { parseLimits } from "../../src/limits/parse.js";
import { planCgroups, planLimits } from "../../src/limits/plan.js";
import { RLIMIT } from "../../src/limits/rlimit.js";
import { argsOf, fakeV1, fakeV2, rmTree, tempDir } from "../cgroup/helpers.js";

const M = 2 ** 20;

describe("planLimits", () => {
  let root = "";
  before(() => {
    root = tempDir();
    fakeV1(join(root, "v1"), ["memory", "pids", "cpuacct", "cpu"]);
    fakeV2(join(root, "v2"), ["memory", "pids", "cpu"]);
  });
  after(() => rmTree(root));

  it("v1: cgroups, wall limit, nofile and fsize rlimits; nothing unenforced", () => {
    const backend = new V1Backend(detectCgroups(join(root, "v1"), undefined, ""));
    const p = planLimits(5, parseLimits("memory=64M,pids=16,cpu=1s,wall=2s,nofile=64,fsize=1M,tmp=8M"), { backend });
    assert.deepEqual(argsOf(p.ops, "wallLimit"), [["2000"]]);
    assert.deepEqual(argsOf(p.ops, "rlimit"), [
      [String(RLIMIT.NOFILE), "64", "64"],
      [String(RLIMIT.FSIZE), String(M), String(M)],
    ]);
    assert.equal(argsOf(p.ops, "cpuLimit").length, 1);
    assert.equal(argsOf(p.ops, "cgroupMkdir").length, 3);
    assert.deepEqual(p.unenforced, []);
    assert.deepEqual(p.stats, p.cgroup.stats);
    assert.deepEqual(p.paths, p.cgroup.paths);
  });
  it("no limits: no ops at all (no cgroup, no cost)", () => {
    const backend = new V1Backend(detectCgroups(join(root, "v1"), undefined, ""));
    assert.deepEqual(planLimits(5, {}, { backend }).ops, []);
    assert.ok(planLimits(5, {}, { backend, accounting: true }).ops.length > 0);
  });
  it("no cgroups: rlimit stand-ins for memory, pids and cpu; the rest unenforced", () => {
    const p = planLimits(1, parseLimits("memory=64M,pids=16,cpu=1500ms,cores=2,cpushares=100,swap=1G,nofile=10"), {
      backend: new NoCgroupBackend("rootless"),
    });
    assert.deepEqual(argsOf(p.ops, "rlimit"), [
      [String(RLIMIT.NOFILE), "10", "10"],
      [String(RLIMIT.DATA), String(64 * M), String(64 * M)],
      [String(RLIMIT.NPROC), "16", "16"],
      [String(RLIMIT.CPU), "2", "3"],
    ]);
    assert.deepEqual(p.unenforced.sort(), ["cores", "cpuShares", "swap"]);
    assert.match(p.notes.join("\n"), /cgroups: rootless/);
    assert.match(p.notes.join("\n"), /RLIMIT_DATA per process/);
    assert.match(p.notes.join("\n"), /SIGXCPU at 2 s, SIGKILL at 3 s/);
  });
  it("v2 polls the cgroup's cpu.stat (issue 23); only cpuStatKey: false leaves cpu to RLIMIT_CPU", () => {
    const d = planLimits(1, { cpu: 1000 }, { backend: new V2Backend(detectCgroups(join(root, "v2"), undefined, "")) });
    assert.deepEqual(argsOf(d.ops, "rlimit"), []);
    assert.deepEqual(argsOf(d.ops, "cpuLimit").map((a) => a.slice(2)), [["usage_usec", "1000"]]);
    const backend = new V2Backend(detectCgroups(join(root, "v2"), undefined, ""), { cpuStatKey: false });
    const p = planLimits(1, { cpu: 1000, memory: M }, { backend });
    assert.deepEqual(argsOf(p.ops, "rlimit"), [[String(RLIMIT.CPU), "1", "2"]]);
    assert.deepEqual(p.unenforced, []);
    const k = planLimits(1, { cpu: 1000 }, { backend: new V2Backend(detectCgroups(join(root, "v2"), undefined, ""), { cpuStatKey: true }) });
    assert.deepEqual(argsOf(k.ops, "rlimit"), []);
    assert.equal(argsOf(k.ops, "cpuLimit").length, 1);
  });
  it("planCgroups: the planner's shape (cgroup ops and rlimit tuples, no wall/nofile/fsize)", () => {
    const backend = new V1Backend(detectCgroups(join(root, "v1"), undefined, ""));
    const c = planCgroups(6, parseLimits("memory=64M,cpu=1s,wall=2s,nofile=5"), { backend });
    assert.deepEqual(c.ops, c.cgroup.ops);
    assert.deepEqual(argsOf(c.ops, "wallLimit"), []);
    assert.deepEqual(argsOf(c.ops, "rlimit"), []);
    assert.deepEqual(c.rlimits, []);
    const paths: Record<string, string> = c.paths; // what PrepareOptions.cgroups.paths takes
    assert.equal(paths.memory, join(root, "v1", "memory", "sysjail", "6"));
    const none = planCgroups(6, parseLimits("memory=64M,pids=3,cpu=1500ms,cores=1"), { backend: new NoCgroupBackend("x") });
    assert.deepEqual(none.ops, []);
    assert.deepEqual(none.rlimits, [
      [RLIMIT.DATA, BigInt(64 * M), BigInt(64 * M)],
      [RLIMIT.NPROC, 3n, 3n],
      [RLIMIT.CPU, 2n, 3n],
    ]);
    assert.deepEqual(none.unenforced, ["cores"]);
  });
});
