// planUpdate (src/cgroup/update.ts) on trees made to look like a container's v1 hierarchies and
// its v2 directory: which files get which values, in which order, and every refusal before a write.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, removeTree } from "../helpers/index.js";
import { blkioToIoWeight, planUpdate, sharesToWeightV2, type UpdateTarget } from "../../src/cgroup/update.js";

const fail = (m: string) => new Error(m);
/** Makes DIR with FILES (name -> content). */
const tree = (dir: string, files: Record<string, string>) => {
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
  return dir;
};
const refused = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: Error) => re.test(e.message) && !e.message.includes("\n"), String(re));

describe("cgroup update: v1 hierarchies (unit, fake tree)", () => {
  let root: string;
  let t: UpdateTarget;
  const d = (c: string) => join(root, c, "top", "c1");
  before(() => {
    root = makeTempDir("sysjail-cgupd-v1-");
    tree(d("memory"), { "memory.limit_in_bytes": "67108864\n", "memory.memsw.limit_in_bytes": "67108864\n", "memory.soft_limit_in_bytes": "9223372036854771712\n", "memory.swappiness": "60\n" });
    tree(d("cpu"), { "cpu.shares": "1024\n", "cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n", "cpu.rt_period_us": "1000000\n", "cpu.rt_runtime_us": "0\n" });
    tree(join(root, "cpuset", "top"), { "cpuset.cpus": "0-1\n", "cpuset.mems": "0\n" });
    tree(d("cpuset"), { "cpuset.cpus": "0-1\n", "cpuset.mems": "0\n" });
    tree(d("pids"), { "pids.max": "max\n" });
    tree(d("blkio"), { "blkio.throttle.read_bps_device": "", "blkio.throttle.write_iops_device": "" });
    tree(d("devices"), { "devices.allow": "", "devices.deny": "" });
    t = { dirs: { memory: d("memory"), cpu: d("cpu"), cpuset: d("cpuset"), pids: d("pids"), blkio: d("blkio"), devices: d("devices") }, pidsOverhead: 0 };
  });
  after(() => removeTree(root));

  it("memory: a container without swap keeps none; raising writes memory+swap first, lowering the limit first", () => {
    const up = planUpdate(t, { memory: { limit: 128 << 20 } }, fail);
    assert.deepEqual(up.writes, [[join(d("memory"), "memory.memsw.limit_in_bytes"), String(128 << 20)], [join(d("memory"), "memory.limit_in_bytes"), String(128 << 20)]]);
    const down = planUpdate(t, { memory: { limit: 32 << 20, swap: 48 << 20, reservation: 16 << 20, swappiness: 0 } }, fail);
    assert.deepEqual(down.writes.map(([f, v]) => [f.split("/").pop(), v]), [
      ["memory.limit_in_bytes", String(32 << 20)], ["memory.memsw.limit_in_bytes", String(48 << 20)], ["memory.soft_limit_in_bytes", String(16 << 20)], ["memory.swappiness", "0"]]);
    const none = planUpdate(t, { memory: { limit: -1, kernel: 1 << 20 } }, fail);
    assert.deepEqual(none.writes.map(([f, v]) => [f.split("/").pop(), v]), [["memory.memsw.limit_in_bytes", "-1"], ["memory.limit_in_bytes", "-1"]]);
    assert.match(none.warnings.join("\n"), /kernel memory limits .*not enforced/);
    refused(() => planUpdate(t, { memory: { limit: 64 << 20, swap: 32 << 20 } }, fail), /memory\.swap 33554432: memory plus swap cannot be below the memory limit/);
  });

  it("cpu: shares, the period before its quota, real-time period and runtime, a missing burst file warned; pids plus the overhead", () => {
    const p = planUpdate({ ...t, pidsOverhead: 1 }, { cpu: { shares: 512, quota: 20000, period: 50000, realtimePeriod: 900000, realtimeRuntime: 1000, burst: 0 }, pids: { limit: 9 } }, fail);
    assert.deepEqual(p.writes.map(([f, v]) => [f.split("/").pop(), v]), [
      ["pids.max", "10"], ["cpu.shares", "512"], ["cpu.cfs_period_us", "50000"], ["cpu.cfs_quota_us", "20000"], ["cpu.rt_period_us", "900000"], ["cpu.rt_runtime_us", "1000"]]);
    assert.match(p.warnings.join("\n"), /cpu\.burst: accepted, not enforced \(this kernel has no cpu\.cfs_burst_us\)/);
    assert.deepEqual(planUpdate(t, { cpu: { quota: -1 }, pids: { limit: -1 } }, fail).writes.map(([, v]) => v), ["max", "-1"]);
    assert.deepEqual(planUpdate(t, { cpu: { shares: 0, quota: 0 }, pids: { limit: 0 } }, fail).writes, [], "0 leaves a limit as it is");
  });

  it("cpuset: within the parent's CPUs and nodes, else refused naming them", () => {
    assert.deepEqual(planUpdate(t, { cpu: { cpus: "1", mems: "0" } }, fail).writes.map(([f, v]) => [f.split("/").pop(), v]), [["cpuset.cpus", "1"], ["cpuset.mems", "0"]]);
    refused(() => planUpdate(t, { cpu: { cpus: "0-3" } }, fail), /^cpu\.cpus "0-3": CPUs 2,3 are not in the parent cgroup's \(0-1\)$/);
    refused(() => planUpdate(t, { cpu: { mems: "1" } }, fail), /^cpu\.mems "1": memory nodes 1 are not in the parent cgroup's \(0\)$/);
  });

  it("block I/O: weights warned as unenforced without the scheduler's files, throttles written where the files are", () => {
    const p = planUpdate(t, { blockIO: { weight: 500, leafWeight: 300, throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 254, minor: 0, rate: 0 }] } }, fail);
    assert.deepEqual(p.writes.map(([f, v]) => [f.split("/").pop(), v]), [["blkio.throttle.read_bps_device", "254:0 1048576"], ["blkio.throttle.write_iops_device", "254:0 0"]]);
    assert.match(p.warnings[0]!, /^blockIO\.weight: accepted, not enforced \(no blkio\.weight or blkio\.bfq\.weight here/);
    assert.match(p.warnings[1]!, /^blockIO\.leafWeight: accepted, not enforced/);
    tree(d("blkio"), { "blkio.bfq.weight": "100\n" });
    assert.deepEqual(planUpdate(t, { blockIO: { weight: 700 } }, fail).writes.map(([f, v]) => [f.split("/").pop(), v]), [["blkio.bfq.weight", "700"]]);
  });

  it("devices: no device first, then the new rules in order; no v2 program", () => {
    const p = planUpdate(t, { devices: [{ allow: true, type: "c", major: 1, minor: 5, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 5, access: "w" }] }, fail);
    assert.deepEqual(p.writes.map(([f, v]) => [f.split("/").pop(), v]), [["devices.deny", "a"], ["devices.allow", "c 1:5 rwm"], ["devices.deny", "c 1:5 w"]]);
    assert.equal(p.deviceProgram, undefined);
  });

  it("refuses, before any write, a controller the container has no cgroup of, unified on v1, a missing huge page size", () => {
    const some = { memory: t.dirs.memory, cpu: t.dirs.cpu };
    refused(() => planUpdate({ dirs: some, pidsOverhead: 1 }, { memory: { limit: 1 << 30 }, cpu: { cpus: "0" } }, fail), /^cpuset: the container has no cpuset cgroup, so it cannot change/);
    refused(() => planUpdate({ dirs: some, pidsOverhead: 1 }, { pids: { limit: 3 } }, fail), /^pids\.limit: the container has no pids cgroup/);
    refused(() => planUpdate({ dirs: some, pidsOverhead: 1 }, { devices: [] }, fail), /^devices: the container has no device cgroup/);
    refused(() => planUpdate(t, { unified: { "memory.high": "1000000" } }, fail), /^unified: only on cgroup v2/);
    refused(() => planUpdate({ ...t, dirs: { ...t.dirs, hugetlb: d("memory") } }, { hugepageLimits: [{ pageSize: "2MB", limit: 0 }] }, fail), /hugepageLimits pageSize "2MB": this host has no huge pages of that size/);
  });

  it("huge page limits for a container without a hugetlb cgroup: a warning, as at create (kubelet sends one per page size)", () => {
    const p = planUpdate({ dirs: { memory: t.dirs.memory }, pidsOverhead: 1 }, { hugepageLimits: [{ pageSize: "2MB", limit: 0 }, { pageSize: "1GB", limit: 0 }] }, fail);
    assert.deepEqual(p.writes, []);
    assert.deepEqual(p.warnings, ["hugepageLimits: accepted, not enforced (the container has no hugetlb cgroup)"]);
  });
});

describe("cgroup update: the v2 directory (unit, fake tree)", () => {
  let root: string;
  let t: UpdateTarget;
  const dir = () => join(root, "top", "c1");
  before(() => {
    root = makeTempDir("sysjail-cgupd-v2-");
    tree(join(root, "top"), { "cpuset.cpus.effective": "0-3\n", "cpuset.mems.effective": "0\n" });
    tree(dir(), {
      "cgroup.controllers": "cpuset cpu io memory hugetlb pids\n", "memory.max": "67108864\n", "memory.swap.max": "0\n", "memory.low": "0\n",
      "cpu.max": "50000 100000\n", "cpu.weight": "100\n", "cpu.max.burst": "0\n", "cpuset.cpus": "", "cpuset.mems": "", "pids.max": "max\n",
      "io.max": "", "hugetlb.2MB.max": "max\n", "memory.high": "max\n",
    });
    t = { dirs: { memory: dir(), pids: dir(), cpu: dir(), cpuacct: dir(), devices: dir() }, pidsOverhead: 1 };
  });
  after(() => removeTree(root));

  it("memory.max, memory.swap.max as swap alone (OCI's is memory plus swap), memory.low; swappiness warned", () => {
    const p = planUpdate(t, { memory: { limit: 128 << 20, swap: 192 << 20, reservation: -1, swappiness: 10 } }, fail);
    assert.deepEqual(p.writes.map(([f, v]) => [f.split("/").pop(), v]), [["memory.max", String(128 << 20)], ["memory.swap.max", String(64 << 20)], ["memory.low", "max"]]);
    assert.match(p.warnings.join("\n"), /memory\.swappiness: accepted, not enforced/);
    assert.deepEqual(planUpdate(t, { memory: { swap: 96 << 20 } }, fail).writes.map(([, v]) => v), [String(32 << 20)], "swap alone: against the memory.max in force");
    refused(() => planUpdate(t, { memory: { limit: -1, swap: 96 << 20 } }, fail), /^memory\.swap 100663296: on cgroup v2 a memory plus swap limit needs a memory limit$/);
  });

  it("cpu.weight from shares and cpu.max with the value not given kept, as runc converts", () => {
    assert.equal(sharesToWeightV2(1024), 39);
    assert.equal(sharesToWeightV2(2), 1);
    assert.equal(sharesToWeightV2(262144), 10000);
    const p = planUpdate(t, { cpu: { shares: 1024, period: 200000, burst: 1000, realtimeRuntime: 5 } }, fail);
    assert.deepEqual(p.writes.map(([f, v]) => [f.split("/").pop(), v]), [["cpu.weight", "39"], ["cpu.max", "50000 200000"], ["cpu.max.burst", "1000"]]);
    assert.match(p.warnings.join("\n"), /cgroup v2 has no real-time bandwidth/);
    assert.deepEqual(planUpdate(t, { cpu: { quota: -1 } }, fail).writes.map(([, v]) => v), ["max 100000"]);
  });

  it("cpuset against the parent's effective CPUs; io weight warned without BFQ, io.max rates; huge pages; unified files", () => {
    assert.deepEqual(planUpdate(t, { cpu: { cpus: "2-3" } }, fail).writes.map(([f, v]) => [f.split("/").pop(), v]), [["cpuset.cpus", "2-3"]]);
    refused(() => planUpdate(t, { cpu: { cpus: "4" } }, fail), /CPUs 4 are not in the parent cgroup's \(0-3\)/);
    const io = planUpdate(t, { blockIO: { weight: 1000, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 0 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 4096 }] } }, fail);
    assert.deepEqual(io.writes.map(([, v]) => v), ["8:0 rbps=max", "8:0 wbps=4096"]);
    assert.match(io.warnings[0]!, /blockIO\.weight: accepted, not enforced \(no io\.bfq\.weight or io\.weight here/);
    assert.equal(blkioToIoWeight(10), 1);
    assert.equal(blkioToIoWeight(1000), 10000);
    assert.deepEqual(planUpdate(t, { hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }], unified: { "memory.high": "100000000" } }, fail).writes.map(([f, v]) => [f.split("/").pop(), v]), [["hugetlb.2MB.max", String(4 << 20)], ["memory.high", "100000000"]]);
    refused(() => planUpdate(t, { unified: { "memory.nosuch": "1" } }, fail), /^unified\.memory\.nosuch: the container's cgroup has no such file/);
  });

  it("devices: a new program for the directory, no file written", () => {
    const rules = [{ allow: true, type: "c" as const, major: 1, minor: 3, access: "rwm" }];
    const p = planUpdate(t, { devices: rules }, fail);
    assert.deepEqual(p.writes, []);
    assert.deepEqual(p.deviceProgram, { dir: dir(), rules });
  });
});
