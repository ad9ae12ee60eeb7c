// Pinned signals and /proc reads (issue 21, pid reuse): the helper's `signal` (pidfd, then the
// start time), /proc/PID held open (src/host/pinproc.ts), and sysjail-oci's Node paths (kill --
// ID SIG, kill --all, delete of a container with hooks, ps) given a record whose pid now belongs
// to another process (a process of the test's own, recorded with another start time): it is
// never signalled; native delete waits for a monitor only through a pidfd of the pinned process.
// Real processes and real containers (root); the helper as 65534 too.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, buildStatic, makeJailRoot, makeNobody, makeTempDir, REPO, removeTree, requireRoot, runAsNobody, type JailRoot, type Nobody } from "../helpers/index.js";
import { OCI_BIN, ociCli } from "../helpers/ocibundle.js";
import { openProc, pinProc } from "../../src/host/pinproc.js";
import { signalEach, signalPinned } from "../../src/host/signal.js";
import { killAndRemove } from "../../src/cgroup/fsutil.js";

const HELPER = join(REPO, "native", "build", "sysjail-helper");
const NS = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));
const ATPID = join(REPO, "test", "oci", "fixtures", "atpid.c");

/** A process of the test's own at host pid PID (clone3 set_tid, fixtures/atpid.c): the pid of a
 * process the test ended, reused on purpose. It ends when its stdin is closed (HOLDER.stdin). */
async function reuse(pid: number, mine: ChildProcess[]): Promise<ChildProcess> {
  const holder = spawn(buildStatic(ATPID, "atpid"), [String(pid)], { stdio: ["pipe", "pipe", "inherit"] });
  mine.push(holder);
  const line = await new Promise<string>((res) => { let b = ""; holder.stdout!.on("data", (d: Buffer) => { b += d.toString(); if (b.includes("\n")) res(b.trim()); }); holder.once("exit", () => res(b.trim())); });
  assert.equal(line, `ok ${pid}`, `pid ${pid} taken again by the test's own process`);
  return holder;
}
/** Ends a holder of the test's own (its stdin) or a child of ours. */
const end = (c: ChildProcess) => { if (c.stdin) c.stdin.end(); else if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL"); };
/** A process the test started and ended: its pid and start time, and whether it is reaped. */
async function ended(): Promise<{ pid: number; start: number }> {
  const c = spawn("sleep", ["600"], { stdio: "ignore" });
  const pid = c.pid!, start = startOf(pid);
  const gone = new Promise((r) => c.once("exit", r));
  c.kill("SIGKILL");
  await gone;
  pastTick(start);
  return { pid, start };
}

/** The start time of PID (field 22 of /proc/PID/stat). */
const startOf = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[19]);
};
/** Waits until the clock-tick count since boot is past START + 1: a process started from here on
 * has another start time than one that started at START (start times count 10 ms ticks; a pid
 * given again within the same tick is the one case pid and start time cannot tell apart). */
const pastTick = (start: number) => {
  const now = () => Math.floor(Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 100);
  while (now() <= start + 1) spawnSync("sleep", ["0.01"]);
};
/** Whether PID is alive and not a zombie (signal 0 to a process of the test's own). */
const running = (child: ChildProcess) => {
  try {
    return readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]![0] !== "Z" && child.exitCode === null && child.signalCode === null;
  } catch {
    return false;
  }
};

describe("pinned signals and /proc reads (root; the helper as 65534)", () => {
  const mine: ChildProcess[] = [];
  let nobody: Nobody;
  /** A process of the test's own that waits: the stand-in for a stranger that took a pid. */
  const victim = () => { const c = spawn("sleep", ["600"], { stdio: "ignore" }); mine.push(c); return c; };

  before(() => { requireRoot("the pinned-signal tests"); nobody = makeNobody(); });
  after(() => { for (const c of mine) end(c); nobody?.remove(); });

  it("a pid reused for real (clone3 set_tid): neither a pinned signal nor a pinned /proc directory reaches the new process", async () => {
    const c = spawn("sleep", ["600"], { stdio: "ignore" });
    const pid = c.pid!, start = startOf(pid);
    const p = pinProc(pid, start)!;
    try {
      const gone = new Promise((r) => c.once("exit", r));
      c.kill("SIGKILL");
      await gone;
      pastTick(start);
      const holder = await reuse(pid, mine);
      assert.notEqual(startOf(pid), start, "another process holds the pid now");
      assert.equal(p.read("stat"), undefined, "the held directory is the ended process's");
      assert.deepEqual(signalPinned(pid, start, 9), { sent: false, code: "ESRCH" });
      assert.deepEqual(signalEach([{ pid, start }, { pid, start: start + 1 }], 9), [{ sent: false, code: "ESRCH" }, { sent: false, code: "ESRCH" }]);
      assert.equal(pinProc(pid, start), undefined);
      assert.ok(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0] !== "Z", "the new process lives");
      end(holder);
    } finally {
      p.close();
    }
  });

  it("the helper signals a process only with its own start time; another start time is 'gone', it lives on", () => {
    const v = victim();
    const start = startOf(v.pid!);
    // two pairs with another start time (nothing sent), then the right one: our own process ends
    const r = spawnSync(HELPER, ["signal", "9", String(v.pid), String(start + 1), String(v.pid), String(start - 1), String(v.pid), String(start)], { encoding: "utf8" });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, "gone\ngone\nsent\n");
  });

  it("signalPinned / signalEach: a stale start time is never signalled; the right one is", () => {
    const v = victim();
    const start = startOf(v.pid!);
    assert.deepEqual(signalPinned(v.pid!, start + 7, 9), { sent: false, code: "ESRCH" });
    assert.ok(running(v), "the process recorded with another start time lives");
    const out = signalEach([{ pid: v.pid!, start: start + 1 }, { pid: v.pid!, start }, { pid: 0, start }, { pid: -5, start }], 0);
    assert.deepEqual(out, [{ sent: false, code: "ESRCH" }, { sent: true }, { sent: false, code: "ESRCH" }, { sent: false, code: "ESRCH" }]);
    assert.ok(running(v));
  });

  it("as 65534: another user's process is 'err 1' (EPERM), a wrong start time 'gone'; bad arguments exit 64 in one line", () => {
    const v = victim();
    const start = startOf(v.pid!);
    const ok = runAsNobody(nobody, HELPER, ["signal", "0", String(v.pid), String(start), String(v.pid), String(start + 1)]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "err 1\ngone\n");
    for (const args of [["signal"], ["signal", "0", String(v.pid)], ["signal", "99", "1", "1"], ["signal", "0", "-1", "5"], ["signal", "0", "1", "x"]]) {
      const r = runAsNobody(nobody, HELPER, args);
      assert.equal(r.status, 64, args.join(" "));
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.match(r.stderr, /usage: signal SIGNAL PID START-TIME/);
    }
    assert.ok(running(v));
  });

  it("a leftover cgroup's processes are killed pinned (no cgroup.kill: v1's way) and the cgroup removed", async () => {
    const base = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"].find((d) => existsSync(join(d, "cgroup.procs")));
    assert.ok(base, "a pids (v1) or unified hierarchy to make a test cgroup in");
    const dir = join(base, `ocipidfd-test-${process.pid}`);
    mkdirSync(dir);
    try {
      const a = victim(), b = victim();
      const gone = Promise.all([a, b].map((c) => new Promise((r) => c.once("exit", r))));
      for (const c of [a, b]) writeFileSync(join(dir, "cgroup.procs"), String(c.pid));
      assert.deepEqual(await killAndRemove([dir], false), []);
      await gone;
      assert.equal(existsSync(dir), false);
      assert.equal(a.signalCode, "SIGKILL");
    } finally {
      if (existsSync(dir)) spawnSync("rmdir", [dir]);
    }
  });

  it("pinProc: another start time is refused; a pinned /proc directory reads nothing once its process ended", async () => {
    const v = victim();
    const start = startOf(v.pid!);
    assert.equal(pinProc(v.pid!, start + 1), undefined);
    const p = pinProc(v.pid!, start)!;
    assert.ok(p);
    try {
      assert.match(p.read("stat") ?? "", new RegExp(`^${v.pid} `));
      assert.ok(p.ns("pid"));
      const gone = new Promise((r) => v.once("exit", r));
      v.kill("SIGKILL"); // our own child
      await gone; // reaped: its pid may be anyone's from here on
      assert.equal(p.read("stat"), undefined, "the held directory is that process's, never a later one's");
      assert.throws(() => p.write("oom_score_adj", "0"), /ESRCH|ENOENT/);
    } finally {
      p.close();
    }
    const o = openProc(process.pid)!;
    assert.equal(o.start, startOf(process.pid));
    o.close();
  });
});

describe("sysjail-oci's Node paths never signal a stale pid (root)", () => {
  const mine: ChildProcess[] = [];
  let state: string;
  let work: string;
  let probe: string;
  let jr: JailRoot;
  const ids: string[] = [];
  const oci = ociCli(() => state);
  const id = (s: string) => { const v = `ocipidfd-${process.pid}-${s}`; ids.push(v); return v; };
  const victim = () => { const c = spawn("sleep", ["600"], { stdio: "ignore" }); mine.push(c); return c; };
  /** A record of a container whose monitor is MONITOR and whose pid 1 was INIT, but with START
   * (another start time: that process ended and INIT's pid went to the test's own process). */
  const forge = (c: string, monitor: { pid: number; start: number }, init: { pid: number; start: number }, hooks?: Record<string, unknown>) => {
    const dir = join(state, c);
    mkdirSync(dir, { mode: 0o700 });
    const rec = { id: c, bundle: work, pid: monitor.pid, pidStart: monitor.start, initPid: init.pid, initStart: init.start, jid: 999999, created: new Date().toISOString(), owner: 0, annotations: {}, ...(hooks ? { hooks } : {}) };
    writeFileSync(join(dir, "state.json"), JSON.stringify(rec));
    writeFileSync(join(dir, "procs"), `${monitor.pid} ${monitor.start} ${init.pid} ${init.start}\n`);
    writeFileSync(join(dir, "state.head"), JSON.stringify({ ociVersion: "1.2.0", id: c, bundle: work, rootfs: "", created: rec.created, owner: "root", annotations: {} }) + "\n");
    if (hooks) writeFileSync(join(dir, "hooks"), "poststart poststop startContainer\n");
  };

  before(() => {
    requireRoot("sysjail-oci's tests");
    state = makeTempDir("sysjail-oci-pidfd-", 0o700);
    work = makeTempDir("sysjail-oci-pidfd-work-");
    probe = buildProbe();
    jr = makeJailRoot(probe);
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    for (const c of mine) end(c);
    jr?.remove();
    removeTree(state);
    removeTree(work);
  });

  it("a record whose pid 1 and monitor ended, their pid now the test's new process: kill, ps, delete --force (Node) leave it alive", async () => {
    const old = await ended();
    const holder = await reuse(old.pid, mine);
    const mon = victim();
    const c = id("reused");
    forge(c, { pid: mon.pid!, start: startOf(mon.pid!) }, old);
    for (const args of [["kill", "--", c, "KILL"], ["kill", "--all", "--", c, "KILL"], ["kill", c, "KILL"]]) {
      const r = oci(args);
      assert.equal(r.status, 1, args.join(" "));
      assert.match(r.stderr, /container not running/);
    }
    assert.deepEqual(JSON.parse(oci(["ps", "--format", "json", c]).stdout), []);
    const c2 = id("reused2");
    const log = join(work, "reused2.log");
    forge(c2, old, old, { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${log}`] }] });
    const d = oci(["delete", "--force", c2]);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(existsSync(join(state, c2)), false);
    assert.ok(readFileSync(`/proc/${old.pid}/stat`, "utf8").split(") ")[1]![0] !== "Z", "the process at the reused pid lives");
    assert.ok(running(mon));
    end(holder);
  });

  it("delete --force (C) of a stopped record waits for its monitor through a pidfd: a pid now another process's is not waited for, the real one until it ends", async () => {
    const old = await ended();
    // the monitor's pid now names the test's own process, with another start time: not waited for
    const other = victim();
    const c = id("monreused");
    forge(c, { pid: other.pid!, start: startOf(other.pid!) + 2 }, old);
    const r = oci(["delete", "--force", c]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(join(state, c)), false);
    assert.ok(running(other), "the process at the monitor's pid lives");
    // the monitor itself (the test's process, its own start time): delete returns once it ended
    const mon = victim();
    const c2 = id("monwait");
    forge(c2, { pid: mon.pid!, start: startOf(mon.pid!) }, old);
    const d = spawn(OCI_BIN, ["--root", state, "delete", "--force", c2], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    d.stderr!.on("data", (b: Buffer) => { err += b.toString(); });
    const done = new Promise<number | null>((res) => d.once("exit", (code) => res(code)));
    // delete holds a pidfd of the monitor while it waits (the wake-up comes from its end, not from naps)
    const holdsPidfd = () => { try { return spawnSync("ls", ["-l", `/proc/${d.pid}/fd`], { encoding: "utf8" }).stdout.includes("[pidfd]"); } catch { return false; } };
    for (let i = 0; i < 1000 && !holdsPidfd() && d.exitCode === null; i++) spawnSync("sleep", ["0.01"]);
    assert.ok(holdsPidfd(), "delete waits on the monitor's pidfd");
    assert.ok(existsSync(join(state, c2)), "nothing removed while the monitor lives");
    assert.ok(running(mon), "delete signals no monitor");
    mon.kill("SIGKILL");
    assert.equal(await done, 0, err);
    assert.equal(existsSync(join(state, c2)), false);
  });

  it("kill -- ID SIG, kill --all and ps (Node) of a record whose pid 1 is now another process: not running, it lives", () => {
    const mon = victim(), v = victim();
    const c = id("stale");
    forge(c, { pid: mon.pid!, start: startOf(mon.pid!) }, { pid: v.pid!, start: startOf(v.pid!) + 1 });
    for (const args of [["kill", "--", c, "KILL"], ["kill", "--all", "--", c, "KILL"], ["kill", c, "KILL"], ["kill", "--all", c, "TERM"]]) {
      const r = oci(args);
      assert.equal(r.status, 1, args.join(" "));
      assert.match(r.stderr, /container not running/);
    }
    const ps = oci(["ps", "--format", "json", c]);
    assert.equal(ps.status, 0, ps.stderr);
    assert.deepEqual(JSON.parse(ps.stdout), [], "none of the test's processes is listed as the container's");
    assert.equal(JSON.parse(oci(["state", c]).stdout).status, "stopped");
    assert.ok(running(v) && running(mon), "neither process of the test was signalled");
  });

  it("delete (Node: the container has hooks) of such a record signals nothing, runs poststop, removes the record", () => {
    const v = victim();
    const c = id("stalehooks");
    const log = join(work, "poststop.log");
    // the monitor's pid too now belongs to the test's process, with another start time
    forge(c, { pid: v.pid!, start: startOf(v.pid!) + 3 }, { pid: v.pid!, start: startOf(v.pid!) + 1 }, { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${log}`] }] });
    const r = oci(["delete", c]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(join(state, c)), false);
    assert.match(readFileSync(log, "utf8"), /"status":"stopped"/);
    assert.ok(running(v), "the test's process lives");
  });

  it("a real container: kill --all -- (Node) reaches each of its processes, pinned; ps lists them; delete (Node, hooks) removes it", () => {
    const c = id("all");
    const dir = join(work, "all");
    mkdirSync(dir, { recursive: true });
    const log = join(work, "all.poststop");
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "pidfd",
      process: { args: ["/probe", "forks", "3"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, capabilities: { bounding: ["CAP_KILL"] } },
      linux: { namespaces: NS, resources: { pids: { limit: 32 } } },
      hooks: { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${log}`] }] },
    }));
    const out = join(work, "all.out");
    const fd = openSync(out, "w");
    assert.equal(oci(["create", "--bundle", dir, c], fd).status, 0);
    closeSync(fd);
    assert.equal(oci(["start", c]).status, 0);
    const st = JSON.parse(oci(["state", c]).stdout) as { pid: number; status: string };
    assert.equal(st.status, "running");
    // the forks print their pids once all three run
    let ps: number[] = [];
    for (let i = 0; i < 600 && ps.length < 4; i++) {
      ps = JSON.parse(oci(["ps", "--format", "json", c]).stdout) as number[];
      if (ps.length < 4) spawnSync("sleep", ["0.05"]);
    }
    assert.equal(ps.length, 4, "pid 1 and its three children");
    assert.ok(ps.includes(st.pid));
    // TERM to each through Node's path: the children end (pid 1 of its own namespace has no
    // handler and ignores it from here), then pid 1's wait returns and the container stops
    const k = oci(["kill", "--all", "--", c, "TERM"]);
    assert.equal(k.status, 0, k.stderr);
    let status = "running";
    for (let i = 0; i < 600 && status !== "stopped"; i++) {
      status = (JSON.parse(oci(["state", c]).stdout) as { status: string }).status;
      if (status !== "stopped") spawnSync("sleep", ["0.05"]);
    }
    assert.equal(status, "stopped", "every child got the signal; pid 1 then ended");
    const d = oci(["delete", c]);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(existsSync(join(state, c)), false);
    assert.match(readFileSync(log, "utf8"), /"status":"stopped"/);
  });
});
