// Issue 3, line 8 (and the rootless side of the other lines): jails started by an unprivileged
// user, uid 65534, through `setpriv --reuid=65534 --regid=65534 --clear-groups env
// XDG_RUNTIME_DIR=<dir owned by 65534> HOME=/`. A rootless jail maps jail root onto the caller.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { Registry } from "../../src/registry/store.js";
import {
  assertOneLineError, assertStateEmpty, BIN, chownTree, defer, hostMountsMentioning, isRunning, jail, jailRootNobodySuite, makeJailRoot,
  makeTempDir, NOBODY_UID, probeLine, procComm, procDescendants, procId, procStatus, removeTree, show, startCli,
  stateDir, stateFiles, sysjail, tokenProcesses, waitUntil,
} from "../helpers/index.js";

const { env, root, nobody } = jailRootNobodySuite();

/** sysjail as 65534 with a private state dir it owns. */
function rl(t: TestContext, args: string[], opts: Parameters<typeof sysjail>[1] = {}) {
  const j = stateDir(t, NOBODY_UID);
  return { j, run: sysjail(["-j", j, ...args], { ...opts, as: nobody }) };
}

describe("rootless jails (uid 65534)", { concurrency: 3 }, () => {
  it("have the given hostname", async (t) => {
    const { j, run } = rl(t, [root.path, "rootless-host", "/probe", "hostname"]);
    const r = await run;
    assert.equal(probeLine(r), "ok rootless-host", show(r));
    await assertStateEmpty(j);
  });

  it("have their own pid namespace and /proc", async (t) => {
    const { j, run } = rl(t, [root.path, "rl", "/probe", "pid"]);
    const r = await run;
    assert.equal(probeLine(r), "ok 2 1", show(r));
    const l = await sysjail(["-j", j, root.path, "rl", "/probe", "ls", "/proc"], { as: nobody });
    const pids = probeLine(l).split(" ").slice(1).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
    assert.deepEqual(pids, [1, 2], show(l));
  });

  it("map jail root onto the caller (uid_map and gid_map: 0 65534 1) and run as jail root", async (t) => {
    const { j, run } = rl(t, [root.path, "rl", "/probe", "read", "/proc/self/uid_map"]);
    const r = await run;
    assert.deepEqual(probeLine(r).replace(/^ok\s+/, "").split(/\s+/), ["0", "65534", "1"], show(r));
    const g = await sysjail(["-j", j, root.path, "rl", "/probe", "read", "/proc/self/gid_map"], { as: nobody });
    assert.deepEqual(probeLine(g).replace(/^ok\s+/, "").split(/\s+/), ["0", "65534", "1"], show(g));
    const i = await sysjail(["-j", j, root.path, "rl", "/probe", "ids"], { as: nobody });
    assert.equal(probeLine(i), "ok 0 0 0 0 0 0", show(i));
  });

  it("keep their state under $XDG_RUNTIME_DIR/sysjail while running, and remove it at exit", async (t) => {
    const xdgState = join(nobody.xdg, "sysjail");
    const run = startCli([root.path, "rl-state", "/probe", "hold"], { as: nobody, stdin: "pipe" });
    defer(t, () => run.stop());
    await run.waitOutput(/^ready 2$/m);
    const entry = await waitUntil(() => new Registry(xdgState).list().find((e) => e.hostname === "rl-state"), `an entry under ${xdgState}`);
    assert.equal(entry.owner, NOBODY_UID);
    const file = join(xdgState, "jails", `${entry.jid}.json`);
    assert.ok(existsSync(file), `no ${file}`);
    assert.equal(statSync(file).uid, NOBODY_UID, "the entry belongs to the caller");
    assert.equal(entry.idmap.rootless, true);
    run.closeStdin();
    const r = await run.done;
    assert.equal(r.code, 0, show(r));
    await assertStateEmpty(xdgState, "after the rootless jail ended");
    assert.ok(!existsSync(file), "the entry outlived the jail");
  });

  it("have no_new_privs and no SYS_MODULE, SYS_RAWIO, SYS_TIME, MKNOD in the bounding set", async (t) => {
    const { run, j } = rl(t, [root.path, "rl", "/probe", "status", "NoNewPrivs"]);
    assert.equal(probeLine(await run), "ok 1");
    const b = await sysjail(["-j", j, root.path, "rl", "/probe", "status", "CapBnd"], { as: nobody });
    const bnd = BigInt(`0x${probeLine(b).slice(3)}`);
    for (const bit of [16, 17, 25, 27]) assert.equal((bnd >> BigInt(bit)) & 1n, 0n, `capability ${bit} in ${probeLine(b)}`);
  });

  it("pass no descriptor but 0, 1, 2 into the jail", async (t) => {
    const fd = openSync("/etc/hostname", "r");
    defer(t, () => closeSync(fd));
    const { run } = rl(t, [root.path, "rl", "/probe", "fds"], { extraFds: [fd, "pipe"] });
    assert.equal(probeLine(await run), "fds 0 1 2");
  });

  it("cannot reach the host: ESRCH for a host process of the caller's own uid, ECONNREFUSED for 127.0.0.1", async (t) => {
    const sleeper = spawn("setpriv", [`--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, "--clear-groups", "sleep", "120"], { stdio: "ignore" });
    defer(t, () => sleeper.kill("SIGKILL"));
    await waitUntil(() => procComm(sleeper.pid!) === "sleep", "the bystander");
    const { run, j } = rl(t, [root.path, "rl", "/probe", "kill", String(sleeper.pid), "0"]);
    assert.equal(probeLine(await run), "err ESRCH");
    const n = await sysjail(["-j", j, root.path, "rl", "/probe", "ifaces"], { as: nobody });
    assert.equal(probeLine(n), "ifaces lo:up", show(n));
    let accepted = 0;
    const srv = createServer((s) => { accepted++; s.destroy(); });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    defer(t, () => srv.close());
    const port = (srv.address() as { port: number }).port;
    const c = await sysjail(["-j", j, root.path, "rl", "/probe", "connect4", "127.0.0.1", String(port)], { as: nobody });
    assert.equal(probeLine(c), "err ECONNREFUSED", show(c));
    assert.equal(accepted, 0);
  });

  it("kill(-1) from rootless jail root reaches only the jail, not a host process of the same uid", async (t) => {
    const sleeper = spawn("setpriv", [`--reuid=${NOBODY_UID}`, `--regid=${NOBODY_UID}`, "--clear-groups", "sleep", "120"], { stdio: "ignore" });
    defer(t, () => sleeper.kill("SIGKILL"));
    await waitUntil(() => procComm(sleeper.pid!) === "sleep", "the bystander");
    const b = procId(sleeper.pid!);
    const { run } = rl(t, [root.path, "rl", "/probe", "killall", "3", env.ns.pid, env.ns.user]);
    const r = await run;
    assert.doesNotMatch(r.stdout, /^refused/m, `the probe's namespace guard refused: ${show(r)}`);
    assert.match(r.stdout, /^ok sent=0 killed=3 of 3$/m, show(r));
    assert.equal(r.code, 0, show(r));
    assert.ok(isRunning(b), "a host process of uid 65534 was killed from the jail");
  });

  it("halt from rootless jail root ends the jail with status 130", async (t) => {
    const { run } = rl(t, [root.path, "rl", "/probe", "halt", env.ns.pid, env.ns.user]);
    const r = await run;
    assert.doesNotMatch(r.stdout, /^refused/m, show(r));
    assert.equal(r.code, 130, show(r));
  });

  it("SIGTERM to a rootless sysjail ends every process of its jail", async (t) => {
    const j = stateDir(t, NOBODY_UID);
    const run = startCli(["-j", j, root.path, "rl-term", "/probe", "forks", "2"], { as: nobody });
    defer(t, () => run.stop());
    await run.waitOutput(/^ok \d+ \d+$/m);
    const e = await waitUntil(() => new Registry(j).list()[0], "the entry");
    const procs = [procId(e.initPid), procId(e.monitorPid), ...procDescendants(e.initPid).map(procId)];
    assert.equal(procs.length, 5);
    run.signal("SIGTERM");
    const r = await run.done;
    assert.equal(r.code, 143, show(r));
    await waitUntil(() => !procs.some(isRunning), "the jail's processes to end", 10_000);
    await assertStateEmpty(j);
  });
});

describe("rootless jails: their own /proc, /dev, /sys, IPC, and the CLI", { concurrency: 3 }, () => {
  it("pivot into the root: one / mount, a chroot escape finds nothing", async (t) => {
    const { run, j } = rl(t, [root.path, "rl", "/probe", "cat", "/proc/self/mountinfo"]);
    const m = await run;
    assert.equal(m.code, 0, show(m));
    const mps = m.stdout.trim().split("\n").map((l) => l.split(" ")[4]);
    assert.equal(mps.filter((x) => x === "/").length, 1, show(m));
    assert.deepEqual(mps.filter((x) => x !== "/" && !/^\/(proc|dev|sys)(\/|$)/.test(x ?? "")), [], show(m));
    assert.ok(!mps.some((x) => x?.startsWith("/sys/")), show(m));
    const e = await sysjail(["-j", j, root.path, "rl", "/probe", "chroot-escape", "/bin/sh"], { as: nobody });
    assert.doesNotMatch(e.stdout, /chroot-denied/, show(e));
    assert.equal(probeLine(e), "err ENOENT", show(e));
  });

  it("/dev holds only the safe nodes, /proc/sys is read-only, /proc's host-wide entries are masked", async (t) => {
    const { run, j } = rl(t, [root.path, "rl", "/probe", "ls", "/dev", "/dev/pts"]);
    const r = await run;
    const [dev, pts] = r.stdout.trim().split("\n");
    const names = (dev ?? "").split(" ").slice(1);
    const allowed = ["null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "fd", "stdin", "stdout", "stderr", "mqueue"];
    assert.deepEqual(names.filter((n) => !allowed.includes(n)), [], show(r));
    for (const n of ["null", "zero", "urandom", "pts", "ptmx", "shm"]) assert.ok(names.includes(n), `no /dev/${n}: ${show(r)}`);
    assert.equal(pts, "ls ptmx", show(r));
    const w = await sysjail(["-j", j, root.path, "rl", "/probe", "rewrite", "/proc/sys/kernel/msgmax"], { as: nobody });
    assert.equal(probeLine(w), "err EROFS", show(w));
    const present = ["/proc/kmsg", "/proc/keys", "/proc/timer_list", "/proc/kpagecount"].filter((f) => existsSync(f));
    assert.ok(present.length > 0, "control: the host has some of the masked entries");
    const s = await sysjail(["-j", j, root.path, "rl", "/probe", "stat", ...present], { as: nobody });
    for (const l of s.stdout.trim().split("\n")) assert.match(l, /^(ok 20\d{3} \d+ \d+ 1:3|err ENOENT)$/, show(s));
    const c = await sysjail(["-j", j, root.path, "rl", "/probe", "write", "/sys/planted", "x"], { as: nobody });
    assert.match(probeLine(c), /^err E(ROFS|ACCES)$/, show(c));
    assert.ok(!existsSync(root.at("sys/planted")));
  });

  it("a POSIX message queue made in a rootless jail is invisible to another jail and to the host", async (t) => {
    const j = stateDir(t, NOBODY_UID);
    const name = `/sysjail-rl-${process.pid}-${Date.now()}`;
    const a = startCli(["-j", j, "--allow-ipc", root.path, "rl-a", "/probe", "mq", name, "hold"], { as: nobody, stdin: "pipe" });
    defer(t, () => a.stop());
    await a.waitOutput(/^ok \d+$/m);
    const b = await sysjail(["-j", j, "--allow-ipc", root.path, "rl-b", "/probe", "mq", name], { as: nobody });
    assert.equal(probeLine(b), "err ENOENT", show(b));
    const h = spawnSync(env.probe, ["mq", name], { encoding: "utf8" }).stdout.trim();
    if (h.startsWith("ok")) spawnSync(env.probe, ["mq", name, "rm"]);
    assert.equal(h, "err ENOENT", "the host sees the jail's queue");
    a.closeStdin();
    assert.equal((await a.done).code, 0);
  });

  it("-b -i: a rootless background jail runs on, registered under its owner's state directory", async (t) => {
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    const j = stateDir(t, NOBODY_UID);
    const res = await sysjail(["-j", j, "-b", "-i", r.path, "rl-bg", "/probe", "waitfile", "/tmp/stop"], { as: nobody });
    defer(t, () => { writeFileSync(r.at("tmp/stop"), ""); });
    assert.equal(res.code, 0, show(res));
    const e = new Registry(j).list().find((x) => String(x.jid) === res.stdout.trim());
    assert.ok(e, show(res));
    assert.equal(e.owner, NOBODY_UID);
    const init = procId(e.initPid);
    assert.ok(isRunning(init));
    assert.equal(procStatus(e.initPid, "Uid")?.split(/\s+/)[0], String(NOBODY_UID));
    writeFileSync(r.at("tmp/stop"), "");
    await waitUntil(() => !isRunning(init), "the background jail to end");
    await waitUntil(() => stateFiles(j).length === 0, "its state to go");
  });

  it("bad input as 65534: one line and the right status (127 missing command, 67 unmapped or unknown user)", async (t) => {
    const j = stateDir(t, NOBODY_UID);
    const m = await sysjail(["-j", j, root.path, "rl", "/no-such-command"], { as: nobody });
    assertOneLineError(m, 127, /no-such-command/);
    // a rootless jail maps only root: any other user is refused before anything starts
    const u = await sysjail(["-j", j, "-u", "daemon", root.path, "rl", "/probe", "ids"], { as: nobody });
    assertOneLineError(u, 67, /daemon/);
    const x = await sysjail(["-j", j, "-u", "no-such-user-x", root.path, "rl", "/probe", "ids"], { as: nobody });
    assertOneLineError(x, 67, /no-such-user-x/);
    const h = await sysjail(["-j", j, root.path, "bad host", "/probe", "ids"], { as: nobody });
    assertOneLineError(h, 64, /hostname/);
    await assertStateEmpty(j);
    for (const r of [m, u, x, h]) assert.deepEqual(tokenProcesses(r.token), []);
  });

  it("the legacy form works rootless too", async (t) => {
    const j = stateDir(t, NOBODY_UID);
    const r = await jail(["-j", j, root.path, "rl-legacy", "-", "/probe", "hostname"], { as: nobody });
    assert.equal(probeLine(r), "ok rl-legacy", show(r));
  });
});

describe("rootless jails and the host's files", { concurrency: 2 }, () => {
  it("a rootless jail on `/` cannot write root-owned host files", async (t) => {
    const dir = makeTempDir("sysjail-hostfile-");
    defer(t, () => removeTree(dir));
    const file = join(dir, "root-owned");
    writeFileSync(file, "host root's\n");
    chmodSync(file, 0o644);
    const mtime = statSync(file).mtimeMs;
    const { run } = rl(t, ["/", "rl", env.probe, "rewrite", file]);
    const r = await run;
    assert.match(probeLine(r), /^err E(ACCES|PERM|ROFS)$/, show(r));
    assert.equal(readFileSync(file, "utf8"), "host root's\n");
    assert.equal(statSync(file).mtimeMs, mtime);
  });

  it("files jail root makes in a root the caller owns belong to the caller on the host, to jail root inside", async (t) => {
    const r = makeJailRoot(env.probe, { owner: { uid: NOBODY_UID, gid: NOBODY_UID } });
    defer(t, () => r.remove());
    const { run, j } = rl(t, [r.path, "rl", "/probe", "write", "/made", "x"]);
    assert.equal(probeLine(await run), "ok 1");
    assert.equal(statSync(r.at("made")).uid, NOBODY_UID);
    const s = await sysjail(["-j", j, r.path, "rl", "/probe", "stat", "/made", "/"], { as: nobody });
    for (const l of s.stdout.trim().split("\n")) assert.match(l, /^ok \d+ 0 0 /, show(s));
  });

  it("a hostile root (dev -> a host directory) changes nothing outside", async (t) => {
    const r = makeJailRoot(env.probe, { owner: { uid: NOBODY_UID, gid: NOBODY_UID } });
    defer(t, () => r.remove());
    const victim = makeTempDir("sysjail-victim-", 0o777, "/var/tmp");
    defer(t, () => removeTree(victim));
    chownTree(victim, NOBODY_UID, NOBODY_UID);
    writeFileSync(join(victim, "marker"), "victim\n");
    removeTree(r.at("dev"));
    symlinkSync(victim, r.at("dev"));
    const { run, j } = rl(t, [r.path, "rl", "/probe", "ls", "/dev"]);
    const res = await run;
    if (res.code !== 0) assert.equal(res.stderr.trim().split("\n").length, 1, show(res));
    assert.deepEqual(readdirSync(victim), ["marker"], `the host directory changed: ${show(res)}`);
    assert.deepEqual(hostMountsMentioning(victim), []);
    await assertStateEmpty(j);
  });
});

describe("when the kernel forbids user namespaces", () => {
  // A user namespace whose own user.max_user_namespaces is 0 (each user namespace has its own
  // limit, so the host's setting is never touched): nothing started in it can make another one.
  for (const [who, prefix, owner] of [
    ["uid 65534 (root of its own user namespace)", () => nobody.prefix.slice(0, 4), NOBODY_UID],
    ["host root (root of its own user namespace)", () => [] as string[], undefined],
  ] as const) {
    it(`${who}: one line says why and which settings fix it (exit 71), and nothing is left`, (t) => {
      const j = stateDir(t, owner);
      const script = `echo 0 > /proc/sys/user/max_user_namespaces && exec "${process.execPath}" "${BIN.sysjail}" -j "${j}" / forbidden /bin/true`;
      const argv = [...prefix(), "unshare", "-U", "-r", "sh", "-c", script];
      const p = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 30_000 });
      const r = { code: p.status, signal: p.signal, stdout: p.stdout, stderr: p.stderr, token: "", pid: p.pid };
      assertOneLineError(r, 71, /^sysjail: .*clone: ENOSPC: cannot create namespaces: unprivileged user namespaces may be disabled \(sysctl kernel\.unprivileged_userns_clone=1, user\.max_user_namespaces > 0/);
      assert.deepEqual(stateFiles(j), [], "no registry file left");
    });
  }
});
