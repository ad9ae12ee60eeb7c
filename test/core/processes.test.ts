// Issue 3, lines 3 and 5: the jail's processes (what it sees, what the host sees, signals in and
// out, kill(-1), pid 1) and the jail's lifetime (the last process, SIGTERM, exit statuses, halt).
// Signals that could hurt a host are only ever sent by the probe after it proved, inside the
// same process, that it is in its own pid and user namespaces (probe.c guard()).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Registry } from "../../src/registry/store.js";
import { landlockFacts } from "../../src/host/landlock.js";
import {
  assertStateEmpty, defer, isRunning, jailRootSuite, killIfSame, makeJailRoot, procComm, procDescendants, procId, procStatus,
  probeLine, show, startCli, stateDir, stateFiles, sysjail, waitUntil, type CliRun, type ProcId,
} from "../helpers/index.js";

const { env, root } = jailRootSuite();

/** The one running jail recorded in state directory DIR (waits for its entry). */
async function entryOf(dir: string) {
  return waitUntil(() => {
    const all = new Registry(dir).list();
    return all.length === 1 ? all[0] : undefined;
  }, `the jail's registry entry in ${dir}`);
}

/** Starts a jail whose probe holds until its stdin ends; resolves once it runs. */
async function holdingJail(t: import("node:test").TestContext, dir: string, name: string): Promise<CliRun> {
  const run = startCli(["-j", dir, root.path, name, "/probe", "hold"], { stdin: "pipe" });
  defer(t, () => run.stop());
  await run.waitOutput(/^ready 2$/m);
  return run;
}

/** A host process (`sleep`) started by this test as host uid UID: a bystander; killed afterwards. */
async function bystander(t: import("node:test").TestContext, uid: number): Promise<ProcId> {
  const c = spawn("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "sleep", "120"], { stdio: "ignore" });
  defer(t, () => { c.kill("SIGKILL"); });
  // setpriv execs sleep in place: same pid; take its identity once it is sleep
  await waitUntil(() => procComm(c.pid!) === "sleep", "the bystander to run sleep");
  return procId(c.pid!);
}

/** The host uid jail root maps onto, from a running jail's init (as the host reads it). */
function jailRootHostUid(initPid: number): number {
  const line = readFileSync(`/proc/${initPid}/uid_map`, "utf8").trim().split(/\s+/);
  assert.equal(line[0], "0", `uid_map of the jail: ${line.join(" ")}`);
  return Number(line[1]);
}

describe("processes: the jail sees its own, the host sees them all", { concurrency: 2 }, () => {
  it("the host sees a running jail's processes in its /proc (with their jail pids)", async (t) => {
    const j = stateDir(t);
    const run = await holdingJail(t, j, "seen");
    const e = await entryOf(j);
    assert.equal(procStatus(e.initPid, "NSpid")?.split(/\s+/).at(-1), "1", "the init is pid 1 of its namespace");
    const kids = procDescendants(e.initPid);
    assert.equal(kids.length, 1, `one process under the jail's init: ${kids.join(" ")}`);
    const cmd = kids[0]!;
    assert.equal(procComm(cmd), "probe");
    assert.deepEqual(procStatus(cmd, "NSpid")?.split(/\s+/), [String(cmd), "2"], "host pid and jail pid 2");
    assert.match(readFileSync(`/proc/${cmd}/cmdline`, "latin1"), /^\/probe\0hold\0$/);
    run.closeStdin();
    const r = await run.done;
    assert.equal(r.code, 0, show(r));
    await assertStateEmpty(j);
  });

  it("kill() of a host pid from inside fails with ESRCH, also for a process of jail root's own host uid", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "kill", "/probe", "kill", String(process.pid), "0"]);
    assert.equal(probeLine(r), "err ESRCH", show(r));
    // a host process that runs as the very host uid jail root maps onto: permission would allow
    // the signal, only the pid namespace stops it
    const hold = await holdingJail(t, j, "uidsrc");
    const uid = jailRootHostUid((await entryOf(j)).initPid);
    assert.notEqual(uid, 0);
    const b = await bystander(t, uid);
    const r2 = await sysjail(["-j", j, root.path, "kill2", "/probe", "kill", String(b.pid), "0"]);
    assert.equal(probeLine(r2), "err ESRCH", show(r2));
    assert.ok(isRunning(b));
    hold.closeStdin();
    assert.equal((await hold.done).code, 0);
  });

  it("signals to the jail's pid 1 from inside are refused: init survives, the jail goes on", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "init", "/probe", "signal-init", env.ns.pid, env.ns.user]);
    assert.doesNotMatch(r.stdout, /^refused/m, `the probe's namespace guard refused: ${show(r)}`);
    // Landlock's signal scope (6.12+): the init is outside the command's domain (docs/JAILS.md,
    // Security); without it the kernel takes the signals and drops them (no handlers in the init)
    if (landlockFacts().abi >= 6) assert.match(r.stdout, /^sent TERM=EPERM INT=EPERM HUP=EPERM QUIT=EPERM USR1=EPERM KILL=EPERM$/m, show(r));
    else assert.match(r.stdout, /^sent TERM=0 INT=0 HUP=0 QUIT=0 USR1=0 KILL=0$/m, show(r));
    assert.match(r.stdout, /^ok alive=1 ppid=1$/m, show(r));
    assert.equal(r.code, 0, `a jail whose init took the signals would end with 129, 130 or 143: ${show(r)}`);
    assert.doesNotMatch(r.stderr, /halted|rebooted/, show(r));
    await assertStateEmpty(j);
  });

  it("kill(-1) from jailed root reaches every jail process but the caller, and nothing outside", async (t) => {
    const j = stateDir(t);
    // outside: another jail (same host uid range) and a host process of jail root's own host uid
    const other = await holdingJail(t, j, "other");
    const otherEntry = await entryOf(j);
    const otherInit = procId(otherEntry.initPid);
    const otherCmd = procId(procDescendants(otherEntry.initPid)[0]!);
    const b = await bystander(t, jailRootHostUid(otherEntry.initPid));
    const r = await sysjail(["-j", j, root.path, "killer", "/probe", "killall", "3", env.ns.pid, env.ns.user]);
    assert.doesNotMatch(r.stdout, /^refused/m, `the probe's namespace guard refused: ${show(r)}`);
    assert.match(r.stdout, /^children \d+ \d+ \d+$/m, show(r));
    assert.match(r.stdout, /^ok sent=0 killed=3 of 3$/m, `every jail process but the caller got the signal: ${show(r)}`);
    assert.equal(r.code, 0, `the caller survived and the jail ended normally: ${show(r)}`);
    assert.ok(isRunning(b), "the host process of the same uid was killed");
    assert.ok(isRunning(otherInit) && isRunning(otherCmd), "the other jail was hit");
    other.closeStdin();
    const o = await other.done;
    assert.equal(o.code, 0, show(o));
    await assertStateEmpty(j);
  });
});

describe("lifetime", { concurrency: 2 }, () => {
  it("the jail lasts until its last process exits; sysjail then exits with the command's status", async (t) => {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    const run = startCli(["-j", j, r.path, "orphan", "/probe", "orphan", "/tmp"]);
    defer(t, () => run.stop());
    await run.waitOutput(/^ok \d+$/m);
    // the command has exited and its child, reparented to the jail's init, is alive
    await waitUntil(() => existsSync(r.at("tmp/orphaned")) || run.exited, "the orphan to report");
    assert.ok(existsSync(r.at("tmp/orphaned")), `the orphan never saw its parent exit: ${run.stdout} ${run.stderr}`);
    assert.ok(!run.exited, "sysjail exited while a process of the jail was still running");
    // sysjail records the jail when the monitor reports its start, while the command already
    // runs: under load the record may trail the command's first output by some milliseconds
    const listed = await waitUntil(() => new Registry(j).list().length === 1 || run.exited, "the jail to be listed").then(() => new Registry(j).list().length);
    assert.equal(listed, 1, "the jail is still registered");
    // the orphan can still do its work: the jail was not torn down under it
    writeFileSync(r.at("tmp/go"), "");
    await waitUntil(() => existsSync(r.at("tmp/done")) || run.exited, "the orphan to finish");
    assert.ok(existsSync(r.at("tmp/done")), `the orphan was killed before it finished: ${run.stdout} ${run.stderr}`);
    const res = await run.done;
    assert.equal(res.code, 0, show(res));
    await assertStateEmpty(j);
    assert.deepEqual(run.leftovers(), []);
  });

  it("SIGTERM to sysjail ends every process of the jail (exit 143)", async (t) => {
    const j = stateDir(t);
    const run = startCli(["-j", j, root.path, "term", "/probe", "forks", "3"]);
    defer(t, () => run.stop());
    await run.waitOutput(/^ok \d+ \d+ \d+$/m);
    const e = await entryOf(j);
    const init = procId(e.initPid);
    const monitor = procId(e.monitorPid);
    const procs = procDescendants(e.initPid).map(procId);
    assert.equal(procs.length, 4, "the command and its 3 children");
    run.signal("SIGTERM");
    const res = await run.done;
    assert.equal(res.code, 143, show(res));
    await waitUntil(() => ![init, monitor, ...procs].some(isRunning), "every process of the jail to end", 10_000);
    await assertStateEmpty(j);
    assert.deepEqual(run.leftovers(), []);
  });

  for (const via of ["front", "node"] as const) {
    it(`SIGKILL to sysjail ends the jail and leaves nothing (run ${via === "front" ? "as the installed command" : "by node bin/sysjail.js"})`, async (t) => {
      // under the front, sysjail is the monitor itself: its Node child removes what it left; run
      // by node, the helper sees its caller die and ends the jail itself
      const j = stateDir(t);
      const run = startCli(["-j", j, root.path, "kill9", "/probe", "forks", "2"], { via });
      defer(t, () => run.stop());
      await run.waitOutput(/^ok \d+ \d+$/m);
      const e = await entryOf(j);
      const all = [procId(e.initPid), procId(e.monitorPid), ...procDescendants(e.initPid).map(procId)];
      run.signal("SIGKILL");
      const res = await run.done;
      assert.equal(res.signal, "SIGKILL");
      await waitUntil(() => !all.some(isRunning), "every process of the jail to end", 10_000);
      await waitUntil(() => stateFiles(j).length === 0, "the jail's state files to go", 10_000);
      await waitUntil(() => run.leftovers().length === 0, "the run's processes to end", 10_000);
    });
  }

  it("a jail does not outlive its monitor (SIGKILL to the helper ends the jail; its caller removes what it left)", async (t) => {
    const j = stateDir(t);
    const run = startCli(["-j", j, root.path, "orphaned", "/probe", "forks", "2"], { via: "node" });
    defer(t, () => run.stop());
    await run.waitOutput(/^ok \d+ \d+$/m);
    const e = await entryOf(j);
    const init = procId(e.initPid);
    const jailProcs = [init, ...procDescendants(e.initPid).map(procId)];
    defer(t, () => { for (const p of jailProcs) killIfSame(p); });
    assert.equal(procComm(e.monitorPid), "sysjail-helper");
    killIfSame(procId(e.monitorPid));
    const res = await run.done;
    // the helper's init asks for SIGKILL when its parent (the monitor) dies (native/src/run.c,
    // init_main: prctl(PR_SET_PDEATHSIG, SIGKILL))
    const gone = await waitUntil(() => !jailProcs.some(isRunning), "the jail to end with its monitor", 5_000).then(() => true, () => false);
    assert.ok(gone, `the jail's processes outlived the monitor: ${jailProcs.filter(isRunning).map((p) => p.pid).join(" ")} (pdeath signal lost?)`);
    assert.equal(res.code, 70, show(res));
    assert.match(res.stderr, /^sysjail: the helper ended without a report$/m, show(res));
    assert.deepEqual(stateFiles(j), [], "the caller removes the files of a jail whose monitor was killed");
  });
});

describe("exit status", { concurrency: 3 }, () => {
  const cases: [string, string[], number][] = [
    ["exit 0", ["exit", "0"], 0],
    ["exit 7", ["exit", "7"], 7],
    ["exit 255", ["exit", "255"], 255],
    ["killed by SIGKILL: 128+9", ["selfkill", "9"], 137],
    ["killed by SIGTERM: 128+15", ["selfkill", "15"], 143],
    ["killed by SIGSEGV: 128+11", ["selfkill", "11"], 139],
  ];
  for (const [name, args, code] of cases) {
    it(`the foreground status is the command's: ${name} -> ${code}`, async (t) => {
      const j = stateDir(t);
      const r = await sysjail(["-j", j, root.path, "status", "/probe", ...args]);
      assert.equal(r.code, code, show(r));
      await assertStateEmpty(j);
    });
  }

  it("a shell command in a jail on `/`: exit 42", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, "/", "status", "/bin/sh", "-c", "exit 42"]);
    assert.equal(r.code, 42, show(r));
  });
});

describe("halt from jailed root", () => {
  it("reboot(RB_HALT_SYSTEM) ends that jail only, with status 130", async (t) => {
    const j = stateDir(t);
    const other = await holdingJail(t, j, "bystander");
    const otherEntry = await entryOf(j);
    const otherProcs = [procId(otherEntry.initPid), ...procDescendants(otherEntry.initPid).map(procId)];
    const r = await sysjail(["-j", j, root.path, "halter", "/probe", "halt", env.ns.pid, env.ns.user]);
    assert.doesNotMatch(r.stdout, /^refused/m, `the probe's namespace guard refused: ${show(r)}`);
    assert.match(r.stdout, /^halting$/m, show(r));
    assert.doesNotMatch(r.stdout, /still-alive|^err/m, show(r));
    assert.equal(r.code, 130, show(r));
    assert.match(r.stderr, /halted/, show(r));
    assert.ok(otherProcs.every(isRunning), "another jail was halted too");
    other.closeStdin();
    assert.equal((await other.done).code, 0);
    await assertStateEmpty(j);
  });
});
