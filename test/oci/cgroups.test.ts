// sysjail-oci's linux.cgroupsPath: the parser and its refusals (unit), the planner on a tree made
// to look like cgroup v1 hierarchies (unit), and real containers at a path of their own (root):
// limits read back, pause and resume through the freezer, delete removing only what it made.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ociFileCli, ociWaitBundle } from "../helpers/ocibundle.js";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { expandSlice, parseCgroupsPath } from "../../src/oci/cgpath.js";
import { ociCgroups, recordable } from "../../src/oci/cgroups.js";
import type { CgroupLayout } from "../../src/cgroup/detect.js";


describe("sysjail-oci: linux.cgroupsPath (unit)", () => {
  it("reads absolute, relative and systemd paths", () => {
    assert.deepEqual(parseCgroupsPath(undefined, false), undefined);
    assert.deepEqual(parseCgroupsPath("", false), undefined);
    assert.deepEqual(parseCgroupsPath("/libpod_parent/libpod-abc", false), { absolute: true, segments: ["libpod_parent", "libpod-abc"] });
    assert.deepEqual(parseCgroupsPath("a//b/c/", false), { absolute: false, segments: ["a", "b", "c"] });
    assert.deepEqual(parseCgroupsPath("machine.slice:libpod:abc", true), { absolute: true, segments: ["machine.slice", "libpod-abc.scope"] });
    assert.deepEqual(parseCgroupsPath("a-b.slice:cri-containerd:x1", true), { absolute: true, segments: ["a.slice", "a-b.slice", "cri-containerd-x1.scope"] });
    assert.deepEqual(parseCgroupsPath(":runc:x", true), { absolute: true, segments: ["system.slice", "runc-x.scope"] });
    assert.deepEqual(parseCgroupsPath("-.slice::x", true), { absolute: true, segments: ["x.scope"] });
    assert.deepEqual(parseCgroupsPath("system.slice:p:kubepods-pod1.slice", true), { absolute: true, segments: ["kubepods.slice", "kubepods-pod1.slice"] });
    assert.deepEqual(expandSlice("v", "a-b-c.slice"), ["a.slice", "a-b.slice", "a-b-c.slice"]);
  });

  it("refuses what is not a container's own cgroup path, in one line naming the value", () => {
    const cases: [unknown, boolean, RegExp][] = [
      ["/", false, /"\/": the root of the cgroup hierarchy/],
      ["//", false, /the root of the cgroup hierarchy/],
      ["/a/../b", false, /"\/a\/..\/b": '.' and '..' are not allowed/],
      ["a/./b", false, /'.' and '..' are not allowed/],
      ["/a\nb", false, /"\/a\\nb": control characters are not allowed/],
      [`/${"x".repeat(256)}`, false, /a directory name has at most 255 bytes/],
      [`/${"a/".repeat(600)}`, false, /at most 1024 bytes/],
      [`/${"a/".repeat(40)}`, false, /at most 32 directories deep/],
      [42, false, /42: must be a string/],
      ["/libpod_parent/x", true, /"slice:prefix:name" is needed/],
      ["machine:libpod:x", true, /the slice "machine" must be a name ending in .slice/],
      ["a--b.slice:p:x", true, /not a valid slice name/],
      ["machine.slice:p/q:x", true, /names without '\/'/],
      ["machine.slice:p:", true, /the name is needed/],
    ];
    for (const [v, systemd, re] of cases) {
      assert.throws(() => parseCgroupsPath(v, systemd), (e: Error) => re.test(e.message) && e.message.startsWith("linux.cgroupsPath ") && !e.message.includes("\n"), String(v).slice(0, 40));
    }
  });
});

describe("sysjail-oci: which cgroupsPath directories the registry records (unit, fake layouts)", () => {
  it("a one-level path on a v2 host, below a v1 or hybrid hierarchy; never a hierarchy's root or outside /sys/fs/cgroup", () => {
    const v2 = "/sys/fs/cgroup"; // a v2 host: "/x" is /sys/fs/cgroup/x, a cgroup below the root
    assert.equal(recordable("/sys/fs/cgroup/x", v2), true);
    assert.equal(recordable("/sys/fs/cgroup/a/b", v2), true);
    assert.equal(recordable("/sys/fs/cgroup", v2), false);
    assert.equal(recordable("/sys/fs/cgroup/pids/x", "/sys/fs/cgroup/pids"), true, "v1");
    assert.equal(recordable("/sys/fs/cgroup/pids", "/sys/fs/cgroup/pids"), false);
    assert.equal(recordable("/sys/fs/cgroup/unified/x", "/sys/fs/cgroup/unified"), true, "hybrid");
    assert.equal(recordable("/sys/fs/cgroup/memory/x", "/sys/fs/cgroup/pids"), false, "another hierarchy's");
    assert.equal(recordable("/tmp/h/x", "/tmp/h"), false, "not a cgroup mount the registry takes");
  });
});

describe("sysjail-oci: cgroupsPath planning on a v1-like tree (unit)", () => {
  let top: string;
  let layout: CgroupLayout;
  before(() => {
    top = makeTempDir("sysjail-cgpath-");
    for (const c of ["cpu", "cpuset", "memory", "pids", "freezer"]) mkdirSync(join(top, c));
    writeFileSync(join(top, "cpuset", "cpuset.cpus"), "0-3\n");
    writeFileSync(join(top, "cpuset", "cpuset.mems"), "0\n");
    layout = {
      mode: "v1", root: top, v1: {}, self: { cpu: "/", cpuset: "/", memory: "/own", pids: "/", freezer: "/" },
      mounts: ["cpu", "cpuset", "memory", "pids", "freezer"].map((c) => ({ path: join(top, c), version: 1 as const, controllers: [c], mountRoot: "/" })),
    };
    mkdirSync(join(top, "memory", "own"));
  });
  after(() => removeTree(top));

  it("makes the parents, plans the leaf, writes resources as given, joins every hierarchy", () => {
    const warn: string[] = [];
    const r = { pids: { limit: 1000 }, cpu: { shares: 2048, period: 500000, quota: 200000, mems: "0" }, memory: { limit: 1 << 26, reservation: 1 << 25 } };
    const abs = ociCgroups("/p/c", { absolute: true, segments: ["p", "c"] }, r, (m) => warn.push(m), layout);
    for (const c of ["cpu", "cpuset", "memory", "pids", "freezer"]) assert.ok(existsSync(join(top, c, "p")), `${c}: the parent is made`);
    assert.equal(existsSync(join(top, "pids", "p", "c")), false, "the leaf is the monitor's to make");
    assert.equal(readFileSync(join(top, "cpuset", "p", "cpuset.cpus"), "utf8"), "0-3", "a new cpuset parent takes its parent's cpus");
    const w = Object.fromEntries(abs.ctx.ops.filter((o) => o.op === "cgroupWrite").map((o) => [String(o.args[0]).slice(top.length + 1), o.args[1]]));
    assert.deepEqual(w, {
      "cpu/p/c/cpu.shares": "2048", "cpu/p/c/cpu.cfs_period_us": "500000", "cpu/p/c/cpu.cfs_quota_us": "200000",
      "cpuset/p/c/cpuset.cpus": "0-3", "cpuset/p/c/cpuset.mems": "0",
      "memory/p/c/memory.limit_in_bytes": String(1 << 26), "memory/p/c/memory.soft_limit_in_bytes": String(1 << 25),
      "pids/p/c/pids.max": "1000",
    });
    assert.deepEqual(abs.ctx.ops.filter((o) => o.op === "cgroupMkdir").map((o) => String(o.args[0]).slice(top.length + 1)), ["cpu/p/c", "cpuset/p/c", "memory/p/c", "pids/p/c", "freezer/p/c"]);
    assert.equal(abs.ctx.ops.filter((o) => o.op === "cgroupJoin").length, 5);
    assert.equal(abs.freezer, join(top, "freezer", "p", "c"));
    // relative: below the runtime's own cgroup of each hierarchy
    const rel = ociCgroups("q", { absolute: false, segments: ["q"] }, undefined, () => undefined, layout);
    assert.ok(rel.made.includes(join(top, "memory", "own", "q")) && rel.made.includes(join(top, "pids", "q")));
    // an existing empty leaf (an engine's) is joined, not made (so never removed)
    for (const c of ["cpu", "cpuset", "memory", "pids", "freezer"]) mkdirSync(join(top, c, "p", "pre"));
    const pre = ociCgroups("/p/pre", { absolute: true, segments: ["p", "pre"] }, undefined, () => undefined, layout);
    assert.deepEqual(pre.made, []);
    assert.equal(pre.ctx.ops.filter((o) => o.op === "cgroupJoin").length, 5);
  });

  it("refuses a cgroup holding processes, one below one that does, sysjail's own tree, a file; makes nothing then", () => {
    mkdirSync(join(top, "pids", "busy"));
    writeFileSync(join(top, "pids", "busy", "cgroup.procs"), "12345\n");
    const tries: [string, string[], RegExp][] = [
      ["/busy", ["busy"], /\/pids\/busy holds processes already \(a container gets an empty cgroup of its own\)/],
      ["/busy/inner", ["busy", "inner"], /\/pids\/busy holds processes \(a container's cgroup is not placed inside another's\)/],
      ["/sysjail/5", ["sysjail", "5"], /is inside the cgroups of sysjail's jails/],
      ["/busy/cgroup.procs/x", ["busy", "cgroup.procs", "x"], /holds processes|is a file, not a cgroup/],
    ];
    for (const [v, segments, re] of tries) {
      assert.throws(() => ociCgroups(v, { absolute: true, segments }, undefined, () => undefined, layout), (e: Error) => re.test(e.message) && e.message.startsWith(`linux.cgroupsPath ${JSON.stringify(v)}: `), v);
    }
    assert.deepEqual(readdirSync(join(top, "cpu")).filter((n) => n === "busy" || n === "sysjail"), [], "nothing made in any hierarchy");
  });
});

describe("sysjail-oci: containers at their cgroupsPath (root)", () => {
  let jr: JailRoot;
  let state: string;
  let work: string;
  const ids: string[] = [];
  const top = `cgpath-test-${process.pid}`;
  const mounts = () => readdirSync("/sys/fs/cgroup").map((d) => join("/sys/fs/cgroup", d)).filter((d) => existsSync(join(d, "tasks")));
  const oci = ociFileCli(() => state, () => work);
  const bundle = ociWaitBundle(() => work, () => jr.path, "cgbox");
  const id = (s: string) => { const v = `cgpath-${process.pid}-${s}`; ids.push(v); return v; };
  const initPid = (c: string) => (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
  const status = (c: string) => (JSON.parse(oci(["state", c]).out) as { status: string }).status;
  let holder: ChildProcess | undefined;
  /** The test's own sleeper back in the root pids cgroup (so its test cgroup can go), then killed. */
  const release = (p: ChildProcess) => {
    try { writeFileSync("/sys/fs/cgroup/pids/cgroup.procs", String(p.pid)); } catch { /* gone */ }
    p.kill("SIGKILL");
  };

  before(() => {
    requireRoot("sysjail-oci's cgroup tests");
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("sysjail-oci-cg-state-", 0o700);
    work = makeTempDir("sysjail-oci-cg-work-");
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    if (holder?.pid) release(holder);
    // the parents the tests made (deepest first), in every hierarchy (a hybrid host's unified one
    // too: the container joins a leaf there); empty ones only
    for (const m of [...mounts(), ...(existsSync("/sys/fs/cgroup/unified/cgroup.procs") ? ["/sys/fs/cgroup/unified"] : [])]) {
      for (const d of [join(m, top, "pre"), join(m, top, "busy"), join(m, top, "nocpus"), join(m, top, "p"), join(m, top)]) {
        try { rmdirSync(d); } catch { /* not there, or (held) busy */ }
      }
    }
    jr?.remove();
    removeTree(state);
    removeTree(work);
  });

  it("limits at the path read back as given; pause and resume freeze the container; delete removes only the leaf", (t) => {
    if (!existsSync("/sys/fs/cgroup/pids/tasks")) return t.skip("a v1 check: this host has no v1 pids hierarchy");
    const c = id("lim");
    const b = bundle("lim", { cgroupsPath: `/${top}/p/${c}`, resources: { pids: { limit: 1000 }, memory: { limit: 64 << 20 }, cpu: { shares: 2048, quota: 50000, period: 500000, cpus: "0", mems: "0" } } });
    const r = oci(["create", "--bundle", b, c]);
    assert.equal(r.status, 0, r.out);
    const leaf = (ctl: string) => join("/sys/fs/cgroup", ctl, top, "p", c);
    const read = (ctl: string, f: string) => readFileSync(join(leaf(ctl), f), "utf8").trim();
    assert.equal(read("pids", "pids.max"), "1000", "as config.json gives it");
    assert.equal(read("memory", "memory.limit_in_bytes"), String(64 << 20));
    assert.deepEqual([read("cpu", "cpu.shares"), read("cpu", "cpu.cfs_quota_us"), read("cpu", "cpu.cfs_period_us")], ["2048", "50000", "500000"]);
    assert.deepEqual([read("cpuset", "cpuset.cpus"), read("cpuset", "cpuset.mems")], ["0", "0"]);
    const pid = initPid(c);
    const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    for (const ctl of ["pids", "memory", "cpu", "cpuset", "freezer"]) assert.match(lines, new RegExp(`:(.*,)?${ctl}(,.*)?:/${top}/p/${c}\\n`), `${ctl}: the container's process is in its cgroup`);
    assert.equal(oci(["start", c]).status, 0);
    const procState = () => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1];
    assert.equal(oci(["pause", c]).status, 0);
    assert.equal(read("freezer", "freezer.state"), "FROZEN");
    assert.equal(procState(), "D", "a frozen task");
    assert.equal(status(c), "paused");
    assert.match(oci(["pause", c]).out, /is already paused/);
    const d = oci(["delete", c]);
    assert.notEqual(d.status, 0);
    assert.match(d.out, /is paused: stop it first, or delete --force/);
    assert.equal(oci(["resume", c]).status, 0);
    assert.equal(read("freezer", "freezer.state"), "THAWED");
    assert.notEqual(procState(), "D");
    assert.equal(status(c), "running");
    // paused again, then delete --force: thawed first, killed, its leaf gone, the parents kept
    assert.equal(oci(["pause", c]).status, 0);
    assert.equal(oci(["delete", "--force", c]).status, 0);
    for (const m of mounts()) {
      assert.equal(existsSync(join(m, top, "p", c)), false, `${m}: the container's cgroup is removed`);
      assert.ok(existsSync(join(m, top, "p")), `${m}: the parent stays (as runc leaves it)`);
    }
  });

  it("an exec'd (and a jexec'd) process joins every hierarchy of the container: pause freezes it, resume thaws it", (t) => {
    if (!existsSync("/sys/fs/cgroup/pids/tasks")) return t.skip("a v1 check: this host has no v1 pids hierarchy");
    const c = id("exec");
    const r = oci(["create", "--bundle", bundle("exec", { cgroupsPath: `/${top}/p/${c}`, resources: { pids: { limit: 100 } } }), c]);
    assert.equal(r.status, 0, r.out);
    assert.equal(oci(["start", c]).status, 0);
    const init = initPid(c);
    const pidFile = join(work, "exec.pid");
    const e = oci(["exec", "--detach", "--pid-file", pidFile, c, "/probe", "waitfile", "/never-exec"]);
    assert.equal(e.status, 0, e.out);
    // the exec'd process: the one in the container's freezer cgroup running the command given
    const tasks = () => readFileSync(join("/sys/fs/cgroup/freezer", top, "p", c, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
    const execd = tasks().filter((p) => p !== init && readFileSync(`/proc/${p}/cmdline`, "utf8").includes("/never-exec"));
    assert.equal(execd.length, 1, `the freezer lists the exec'd process: ${tasks().join(" ")}`);
    const pid = execd[0]!;
    const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    for (const m of mounts()) {
      const name = m.slice("/sys/fs/cgroup/".length);
      const ctl = name === "systemd" ? "name=systemd" : name;
      assert.match(lines, new RegExp(`^\\d+:(.*,)?${ctl}(,.*)?:/${top}/p/${c}$`, "m"), `${ctl}: the exec'd process is in the container's cgroup`);
    }
    const procState = (p: number) => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${p}/status`, "utf8"))![1];
    assert.equal(oci(["pause", c]).status, 0);
    assert.equal(readFileSync(join("/sys/fs/cgroup/freezer", top, "p", c, "freezer.state"), "utf8").trim(), "FROZEN");
    assert.deepEqual([procState(init), procState(pid)], ["D", "D"], "both frozen");
    assert.equal(oci(["resume", c]).status, 0);
    assert.notEqual(procState(init), "D");
    assert.notEqual(procState(pid), "D", "the exec'd process runs again");
    // jexec into the container (root's registry entry): the same hierarchies; it sees them through
    // the container's cgroup namespace, whose root is the init's cgroups (checked above): "/" in
    // each ("/../../.." where it stayed outside)
    const jx = spawnSync(join(REPO, "native", "build", "jexec"), [c, "/probe", "cat", "/proc/self/cgroup"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(jx.status, 0, jx.stderr);
    for (const m of mounts()) {
      const name = m.slice("/sys/fs/cgroup/".length);
      assert.match(jx.stdout, new RegExp(`^\\d+:(.*,)?${name === "systemd" ? "name=systemd" : name}(,.*)?:/$`, "m"), `jexec: ${name}`);
    }
    assert.equal(oci(["delete", "--force", c]).status, 0);
    for (const m of mounts()) assert.equal(existsSync(join(m, top, "p", c)), false, `${m}: the container's cgroup is removed`);
  });

  it("joins an existing empty cgroup without removing it; refuses one holding a process, and '..', in one line, leaving nothing", () => {
    if (!existsSync("/sys/fs/cgroup/pids/tasks")) return;
    for (const m of mounts()) mkdirSync(join(m, top, "pre"), { recursive: true });
    // cpuset: a new v1 directory is empty until given cpus and mems
    for (const f of ["cpuset.cpus", "cpuset.mems"]) {
      for (const d of [join("/sys/fs/cgroup/cpuset", top), join("/sys/fs/cgroup/cpuset", top, "pre")]) {
        if (!readFileSync(join(d, f), "utf8").trim()) writeFileSync(join(d, f), readFileSync(join(d, "..", f), "utf8").trim());
      }
    }
    const c = id("pre");
    assert.equal(oci(["create", "--bundle", bundle("pre", { cgroupsPath: `/${top}/pre`, resources: { pids: { limit: 20 } } }), c]).status, 0);
    assert.equal(readFileSync(`/sys/fs/cgroup/pids/${top}/pre/pids.max`, "utf8").trim(), "20");
    assert.match(readFileSync(`/proc/${initPid(c)}/cgroup`, "utf8"), new RegExp(`:pids:/${top}/pre\\n`));
    assert.equal(oci(["delete", "--force", c]).status, 0);
    assert.ok(existsSync(`/sys/fs/cgroup/pids/${top}/pre`), "an engine's cgroup is not removed");
    // a process of ours in a cgroup: a container may not be put there, nor below it
    mkdirSync(`/sys/fs/cgroup/pids/${top}/busy`);
    holder = spawn("/bin/sleep", ["600"], { stdio: "ignore" });
    writeFileSync(`/sys/fs/cgroup/pids/${top}/busy/cgroup.procs`, String(holder.pid));
    for (const [path, re] of [
      [`/${top}/busy`, /holds processes already/],
      [`/${top}/busy/x`, /holds processes \(a container's cgroup is not placed inside another's\)/],
      [`/${top}/../x`, /'\.' and '\.\.' are not allowed/],
      ["/", /the root of the cgroup hierarchy/],
    ] as const) {
      const bad = id(`bad${ids.length}`);
      const r = oci(["create", "--bundle", bundle(bad, { cgroupsPath: path }), bad]);
      assert.equal(r.status, 1, r.out);
      assert.match(r.out, re);
      assert.equal(r.out.trim().split("\n").length, 1, r.out);
      assert.equal(existsSync(join(state, bad)), false, "nothing left in --root");
    }
    assert.equal(existsSync(`/sys/fs/cgroup/pids/${top}/busy/x`), false, "nothing made below it");
    release(holder);
    holder = undefined;
  });

  it("a hierarchy the init cannot join (a cpuset cgroup without cpus) fails create in one line naming it, leaving nothing", () => {
    if (!existsSync("/sys/fs/cgroup/cpuset/tasks")) return;
    // every v1 hierarchy is handed to the init in one exchange (native/src/run.c join_cgroups):
    // it joins them in order, the ones before cpuset succeed, cpuset's refuses (no cpus: ENOSPC)
    for (const m of mounts()) mkdirSync(join(m, top, "nocpus"), { recursive: true });
    const parent = join("/sys/fs/cgroup/cpuset", top);
    for (const f of ["cpuset.cpus", "cpuset.mems"]) if (!readFileSync(join(parent, f), "utf8").trim()) writeFileSync(join(parent, f), readFileSync(join(parent, "..", f), "utf8").trim());
    writeFileSync(join(parent, "nocpus", "cpuset.mems"), readFileSync(join(parent, "cpuset.mems"), "utf8").trim());
    assert.equal(readFileSync(join(parent, "nocpus", "cpuset.cpus"), "utf8").trim(), "", "the leaf has no cpus");
    const c = id("nocpus");
    const r = oci(["create", "--bundle", bundle(c, { cgroupsPath: `/${top}/nocpus` }), c]);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /cgroup-join/);
    assert.match(r.out, /ENOSPC|no space/i);
    assert.match(r.out, new RegExp(`cpuset/${top}/nocpus/tasks`));
    assert.equal(r.out.trim().split("\n").length, 1, r.out);
    assert.equal(existsSync(join(state, c)), false, "nothing left in --root");
    for (const m of mounts()) assert.equal(readFileSync(join(m, top, "nocpus", "tasks"), "utf8"), "", `no task left in ${m}`);
  });
});
