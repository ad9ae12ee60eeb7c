// A hybrid host's unified (cgroup2) hierarchy: a root jail with cgroups of its own is in an empty
// leaf of its own there, its cgroup namespace rooted at it, jexec'd processes in it too, the leaf
// gone with the jail; a rootless jail keeps its runtime's unified cgroup and never fails for it.
// Real jails on the real kernel, as root and as 65534; unit checks of the plan.
import assert from "node:assert/strict";
import { chownSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { detectCgroups } from "../../src/cgroup/detect.js";
import { procsOf } from "../../src/cgroup/fsutil.js";
import { V1Backend, uniqueDirs } from "../../src/cgroup/v1.js";
import { instanceName } from "../../src/registry/instance.js";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, type JailRoot } from "../helpers/index.js";
import { command, makeRoot, requireBuilt, run, Scope, start, tempDir, waitFor } from "../manage/helpers.js";

const layout = detectCgroups();
/** The unified hierarchy's mount point on a hybrid host (this test machine's /sys/fs/cgroup/unified). */
const hybrid = layout.mode === "hybrid" && layout.v2 ? layout.v2.path : undefined;

/** The registry entry of JID in a state directory. */
const entryOf = (state: string, jid: number): { initPid: number; cgroups?: Record<string, string> } => JSON.parse(readFileSync(join(state, "jails", `${jid}.json`), "utf8"));

/** The "0::" line of a /proc/PID/cgroup text: the process's unified cgroup as its reader sees it. */
const unifiedLine = (text: string): string | undefined => text.split("\n").find((l) => l.startsWith("0::"))?.slice(3);

describe("the unified leaf in the v1 backend's plan (unit)", () => {
  const b = new V1Backend(layout, { bases: { pids: "/cg/pids/sysjail" }, unified: "/cg/unified/sysjail" });

  it("plans the leaf with the jail's cgroups: made, attached by the monitor (also in join mode), recorded, removed last-made-first", () => {
    for (const join of [false, true]) {
      const p = b.plan("j7", { pids: 5 }, { join });
      assert.equal(p.paths.unified, "/cg/unified/sysjail/j7");
      assert.ok(p.ops.some((o) => o.op === "cgroupMkdir" && o.args[0] === "/cg/unified/sysjail/j7"));
      // attach mode: the monitor writes the init's pid (after the v1 attaches: no further RCU wait);
      // join mode: the init is born there (clone3 CLONE_INTO_CGROUP: no migration at all)
      if (join) assert.ok(p.ops.some((o) => o.op === "cgroupInto" && o.args[0] === "/cg/unified/sysjail/j7"));
      else assert.ok(p.ops.some((o) => o.op === "cgroupAttach" && o.args[0] === "/cg/unified/sysjail/j7/cgroup.procs"), "the monitor writes the init's pid (no `tasks` file in cgroup2)");
      assert.ok(!p.ops.some((o) => o.op === "cgroupJoin" && String(o.args[0]).startsWith("/cg/unified/")));
      assert.ok(p.parents.includes("/cg/unified/sysjail"));
      assert.deepEqual(uniqueDirs(p.paths), ["/cg/pids/sysjail/j7", "/cg/unified/sysjail/j7"]);
      assert.deepEqual(b.attachOps(p.paths).map((o) => o.args[0]), ["/cg/pids/sysjail/j7/cgroup.procs", "/cg/unified/sysjail/j7/cgroup.procs"]);
    }
  });

  it("plans no leaf for a jail without cgroups, nor without a unified parent (v1-only host, rootless)", () => {
    assert.deepEqual(b.plan("j8", {}).paths, {});
    assert.equal(new V1Backend(layout, { bases: { pids: "/cg/pids/sysjail" } }).plan("j9", { pids: 5 }).paths.unified, undefined);
  });
});

describe("the unified cgroup tree of a hybrid host, real jails", { timeout: 120_000 }, () => {
  let scope: Scope;
  let nobodyScope: Scope;
  let xdg: string;
  let root: string;
  let nobodyRoot: string;
  before(() => {
    requireBuilt();
    scope = new Scope();
    xdg = tempDir("sysjail-ulxdg-", 0o700);
    chownSync(xdg, 65534, 65534);
    nobodyScope = new Scope(xdg);
    root = makeRoot();
    nobodyRoot = makeRoot(65534);
  });
  after(() => {
    scope?.cleanup();
    nobodyScope?.cleanup();
    for (const d of [xdg, root, nobodyRoot]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("root: the jail's init and a jexec'd process are in the jail's own leaf, which holds nothing else and is gone with the jail", async () => {
    const jid = start(scope.o, root, "ul.example", ["/mprobe", "sleep", "60"], ["--limit", "pids=32"]);
    const e = entryOf(scope.state, jid);
    if (!hybrid) {
      // a v1-only or v2-only host: no separate unified leaf (v2's jail cgroup is the leaf itself)
      assert.equal(e.cgroups?.unified, undefined);
    } else {
      const leaf = e.cgroups?.unified ?? "";
      assert.match(leaf, new RegExp(`^${hybrid}/sysjail/[^/]+$`), JSON.stringify(e.cgroups));
      // the host's view: the init is in the leaf, and every process there is the jail's (pid namespace)
      assert.equal(unifiedLine(readFileSync(`/proc/${e.initPid}/cgroup`, "utf8")), leaf.slice(hybrid.length));
      const procs = procsOf(leaf);
      assert.ok(procs.includes(e.initPid), `${leaf}: ${procs.join(" ")}`);
      const pidNs = (pid: number) => { try { return readlinkSync(`/proc/${pid}/ns/pid`); } catch { return "gone"; } };
      for (const pid of procs) assert.equal(pidNs(pid), pidNs(e.initPid), `${pid} in ${leaf} is not in the jail's pid namespace`);
      // a jexec'd process joins the leaf: it sees itself at its cgroup namespace's root ("/"),
      // which it would see as "/.." had it stayed in the host's root cgroup
      const inside = run("jexec", [String(jid), "/mprobe", "cat", "/proc/self/cgroup"], scope.o);
      assert.equal(inside.code, 0, inside.stderr);
      assert.equal(unifiedLine(inside.stdout), "/", inside.stdout);
      // the jail's own processes: the init's view of its namespace root
      const initView = run("jexec", [String(jid), "/mprobe", "cat", "/proc/1/cgroup"], scope.o);
      assert.equal(initView.code, 0, initView.stderr);
      assert.equal(unifiedLine(initView.stdout), "/", initView.stdout);
      // jexec returns once its helper (in the leaf, of the host's pid namespace) has ended, also
      // when it lingers after its exit report (SYSJAIL_TEST_FAULT=slow:enter-exit, 300 ms); no
      // pipe is given, which would make spawnSync wait for the helper itself
      const c = command("jexec", [String(jid), "/mprobe", "exit", "3"], scope.o);
      const slow = spawnSync(c.file, c.argv, { env: { ...c.env, SYSJAIL_TEST_FAULT: "slow:enter-exit" }, stdio: "ignore", timeout: 60_000 });
      assert.equal(slow.status, 3);
      for (const pid of procsOf(leaf)) assert.equal(pidNs(pid), pidNs(e.initPid), `${pid} in ${leaf} right after jexec`);
      assert.equal(run("jail", ["-r", String(jid)], scope.o).code, 0);
      assert.ok(await waitFor(() => !existsSync(leaf), 10_000), `${leaf} is removed with the jail`);
    }
  });

  it("root: a start that fails after the leaf was made (the init's cgroup attach) leaves no leaf behind", () => {
    const mine = () => (hybrid ? readdirSync(join(hybrid, "sysjail")).filter((n) => n.startsWith(`${instanceName(scope.state, 0).slice(0, -1)}`)) : []);
    const had = mine();
    const r = run("sysjail", ["--limit", "pids=32", root, "ul.example", "/mprobe", "sleep", "0"], { ...scope.o, env: { SYSJAIL_TEST_FAULT: "fail:cgroup-attach" } });
    assert.equal(r.code, 71, r.stderr);
    assert.match(r.stderr, /^sysjail: setting up the jail failed at cgroup-attach \S+: ENOSPC/);
    assert.deepEqual(mine().filter((n) => !had.includes(n)), [], "the failed start's unified leaf is left");
  });

  it("65534: a rootless jail with limits runs as before, with no unified leaf recorded", () => {
    const jid = start(nobodyScope.o, nobodyRoot, "ulr.example", ["/mprobe", "sleep", "60"], ["--limit", "pids=32"]);
    const e = entryOf(nobodyScope.state, jid);
    assert.equal(e.cgroups?.unified, undefined, JSON.stringify(e.cgroups));
    const inside = run("jexec", [String(jid), "/mprobe", "cat", "/proc/self/cgroup"], nobodyScope.o);
    assert.equal(inside.code, 0, inside.stderr);
    assert.ok(unifiedLine(inside.stdout) !== undefined, inside.stdout);
    assert.equal(run("jail", ["-r", String(jid)], nobodyScope.o).code, 0);
  });
});

describe("a sysjail-oci container without linux.cgroupsPath that mounts cgroup (root)", { timeout: 120_000 }, () => {
  const OCI = join(REPO, "native", "build", "sysjail-oci");
  let jr: JailRoot;
  let state: string;
  let work: string;
  const ids: string[] = [];
  const oci = (args: string[], out: "pipe" | number = "pipe") => spawnSync(OCI, ["--root", state, ...args], { encoding: "utf8", stdio: ["ignore", out, out], timeout: 60_000 });
  before(() => {
    requireBuilt();
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("sysjail-ulstate-", 0o700);
    work = makeTempDir("sysjail-ulwork-");
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    jr?.remove();
    for (const d of [state, work]) if (d) removeTree(d);
  });

  it("sees only its own leaf at /sys/fs/cgroup: no other cgroup's name, only its own processes; pause/resume freeze the leaf; the leaf is gone after delete", () => {
    const c = `unifiedleaf-${process.pid}-oci`;
    ids.push(c);
    writeFileSync(join(work, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "ulbox",
      process: { args: ["/probe", "waitfile", "/never"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, capabilities: { bounding: ["CAP_KILL"] } },
      mounts: [{ destination: "/proc", type: "proc", source: "proc" }, { destination: "/sys", type: "sysfs", source: "sysfs" }, { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro"] }],
      linux: { namespaces: ["pid", "network", "ipc", "uts", "mount", "cgroup"].map((type) => ({ type })), resources: { pids: { limit: 16 } } },
    }));
    const fd = openSync("/dev/null", "w");
    try {
      assert.equal(oci(["create", "--bundle", work, c], fd).status, 0);
      assert.equal(oci(["start", c]).status, 0);
      const pid = (JSON.parse(oci(["state", c]).stdout) as { pid: number }).pid;
      const own = unifiedLine(readFileSync(`/proc/${pid}/cgroup`, "utf8")) ?? "";
      const ls = oci(["exec", c, "/probe", "ls", "/sys/fs/cgroup"]);
      assert.equal(ls.status, 0, ls.stderr);
      const names = ls.stdout.trim().split(" ").slice(1);
      if (!hybrid) return;
      // the container's own leaf (cgroup.type is in every cgroup but a hierarchy's root), no
      // directory below it: not the host's tree with its other jails' and containers' names
      assert.match(own, /^\/sysjail\/[^/]+$/, "the init's unified cgroup, seen from the host");
      assert.ok(names.includes("cgroup.type"), `the container's own cgroup: ${names.join(" ")}`);
      assert.deepEqual(names.filter((n) => !/^[a-z]+\.[a-z_.]+$/.test(n)), [], "no cgroup directory below it");
      // its cgroup.procs: its own processes, each with a pid of its pid namespace (another's would read 0)
      const procs = oci(["exec", c, "/probe", "cat", "/sys/fs/cgroup/cgroup.procs"]);
      assert.equal(procs.status, 0, procs.stderr);
      const pids = procs.stdout.trim().split("\n");
      assert.ok(pids.includes("1"), procs.stdout);
      // one 0 at most: the exec's own entering helper (native/src/enter.c joins the container's
      // cgroups, then its pid namespace's child runs the command), which reads as 0 there
      assert.ok(pids.filter((p) => p === "0").length <= 1, `a process of another pid namespace in the container's cgroup: ${procs.stdout}`);
      // the host's view once the exec is over: every process in the leaf is in the container's pid namespace
      const pidNs = (p: number) => { try { return readlinkSync(`/proc/${p}/ns/pid`); } catch { return "gone"; } };
      const hostView = procsOf(join(hybrid, own));
      assert.ok(hostView.includes(pid), hostView.join(" "));
      for (const p of hostView) assert.equal(pidNs(p), pidNs(pid), `${p} in the container's leaf`);
      // pause and resume through the leaf's cgroup.freeze (no cgroupsPath, no v1 freezer of its own)
      const status = () => (JSON.parse(oci(["state", c]).stdout) as { status: string }).status;
      const events = () => readFileSync(join(hybrid, own, "cgroup.events"), "utf8");
      assert.equal(oci(["pause", c]).status, 0);
      assert.equal(status(), "paused");
      assert.match(events(), /^frozen 1$/m);
      assert.equal(oci(["resume", c]).status, 0);
      assert.equal(status(), "running");
      assert.match(events(), /^frozen 0$/m);
      assert.equal(oci(["delete", "--force", c]).status, 0);
      assert.equal(existsSync(join(hybrid, own)), false, "the leaf is removed with the container");
    } finally {
      closeSync(fd);
      oci(["delete", "--force", c]);
    }
  });

  it("a create that fails at putting the init into its leaf (ENOSPC injected) fails in one line and leaves no leaf", () => {
    const c = `unifiedleaf-${process.pid}-into`;
    ids.push(c);
    const r = spawnSync(OCI, ["--root", state, "create", "--bundle", work, c], { encoding: "utf8", env: { ...process.env, SYSJAIL_TEST_FAULT: "fail:cgroup-into" }, timeout: 60_000 });
    if (!hybrid) { assert.equal(r.status, 0, r.stderr); return; }
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^sysjail-oci: setting up the jail failed at cgroup-into (\S+): ENOSPC\n$/);
    // the init is cloned into the leaf, or (made ahead by the front while Node loaded) moved in
    // through its cgroup.procs: the line names the leaf or that file
    const leaf = / at cgroup-into (\S+): /.exec(r.stderr)![1]!.replace(/\/cgroup\.procs$/, "");
    assert.match(leaf, new RegExp(`^${hybrid}/sysjail/[^/]+$`));
    assert.equal(existsSync(leaf), false, "the failed create's unified leaf is left");
    assert.equal(existsSync(join(state, c)), false, "the failed create's directory is left");
  });
});
