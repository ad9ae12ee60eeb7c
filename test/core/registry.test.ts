// Issue 3, line 10: the registry. Entries under the state directory while a jail runs (jid, name,
// path, hostname, initPid, initStart, owner, command, startedAt), gone at exit; distinct jids for
// concurrent starts; dead entries never reported and cleaned. Read through the registry module
// itself: `new Registry(dir).list()` (build/src/registry/store.js).
import assert from "node:assert/strict";
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Registry } from "../../src/registry/store.js";
import {
  assertOneLineError, assertStateEmpty, assertStateEmptyNow, defer, isRunning, jailRootSuite, killIfSame, killTokenProcesses, makeJailRoot, makeNobody,
  procComm, procId, procPpid, procStart, procStatus, runAsNobody, show, startCli, stateDir, stateFiles, sysjail, tokenProcesses,
  waitUntil,
} from "../helpers/index.js";

const { env, root } = jailRootSuite();

describe("registry entries", { concurrency: 2 }, () => {
  it("a running jail has an entry with jid, name, path, hostname, initPid, initStart, owner, command, startedAt; gone when sysjail returns", async (t) => {
    const j = stateDir(t);
    const t0 = Date.now();
    const run = startCli(["-j", j, "-n", "regname", "-i", root.path, "reghost", "/probe", "hold"], { stdin: "pipe" });
    defer(t, () => run.stop());
    await run.waitOutput(/^ready 2$/m);
    const jid = Number((await run.waitOutput(/^(\d+)$/m))[1]);
    const list = new Registry(j).list();
    assert.equal(list.length, 1, JSON.stringify(list));
    const e = list[0]!;
    assert.equal(e.jid, jid, "the entry's jid is the one -i printed");
    assert.ok(Number.isInteger(e.jid) && e.jid >= 1);
    assert.equal(e.name, "regname");
    assert.equal(e.path, realpathSync(root.path));
    assert.equal(e.hostname, "reghost");
    assert.equal(e.owner, 0);
    assert.deepEqual(e.command, ["/probe", "hold"]);
    const started = Date.parse(e.startedAt);
    assert.ok(Number.isFinite(started) && started >= t0 - 1000 && started <= Date.now(), `startedAt ${e.startedAt}`);
    // initPid/initStart identify the jail's init: pid 1 of its namespace, a child of the monitor
    assert.equal(procStart(e.initPid), e.initStart, "initStart is the init's start time");
    assert.equal(procStatus(e.initPid, "NSpid")?.split(/\s+/).at(-1), "1");
    assert.equal(procPpid(e.initPid), e.monitorPid);
    // the installed command is the helper's native front: sysjail itself is the jail's monitor
    assert.equal(procComm(e.monitorPid), "sysjail");
    assert.equal(e.monitorPid, run.pid);
    const file = join(j, "jails", `${e.jid}.json`);
    assert.ok(existsSync(file), `the entry lives in ${file}`);
    run.closeStdin();
    assert.equal((await run.done).code, 0);
    // when sysjail has returned, its jail is gone from the registry (before any list() pruning)
    assertStateEmptyNow(j, "when sysjail returned (the jail's entry outlives it)");
    assert.deepEqual(new Registry(j).list(), []);
  });

  it("no entry outlives its jail, also when the command exits at once", async (t) => {
    const j = stateDir(t);
    const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => sysjail(["-j", j, root.path, `quick${i}`, "/probe", "exit", "0"])));
    for (const r of runs) assert.equal(r.code, 0, show(r));
    // what is on disk right after the jails ended (list() would prune dead entries)
    await assertStateEmpty(j, "after 12 jails whose command exited at once");
    assert.deepEqual(new Registry(j).list(), []);
  });

  it("a second running jail cannot take a name in use (exit 64, one line, nothing left)", async (t) => {
    const j = stateDir(t);
    const first = startCli(["-j", j, "-n", "taken", root.path, "one", "/probe", "hold"], { stdin: "pipe" });
    defer(t, () => first.stop());
    await first.waitOutput(/^ready 2$/m);
    const second = await sysjail(["-j", j, "-n", "taken", root.path, "two", "/probe", "hostname"]);
    assertOneLineError(second, 64, /taken/);
    assert.deepEqual(tokenProcesses(second.token), []);
    const list = new Registry(j).list();
    assert.deepEqual(list.map((e) => e.hostname), ["one"]);
    first.closeStdin();
    assert.equal((await first.done).code, 0);
    await assertStateEmpty(j);
  });

  it("an entry does not let other users read the caller's environment", async (t) => {
    // the default state directory (/run/sysjail) is created by sysjail, mode 0755; do the same
    // with a fresh -j directory in a world-readable parent
    const parent = stateDir(t);
    const j = join(parent, "state");
    // the registry makes the directory, as it made the default /run/sysjail (0755)
    new Registry(j).reserve().release();
    const secret = `secret-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const run = startCli(["-j", j, root.path, "envleak", "/probe", "hold"], { stdin: "pipe", env: { SYSJAIL_TEST_SECRET: secret } });
    defer(t, () => run.stop());
    await run.waitOutput(/^ready 2$/m);
    const e = await waitUntil(() => new Registry(j).list()[0], "the entry");
    const nobody = makeNobody();
    defer(t, () => nobody.remove());
    const r = runAsNobody(nobody, "cat", [join(j, "jails", `${e.jid}.json`)]);
    assert.ok(!r.stdout.includes(secret), `uid 65534 reads the caller's environment (SYSJAIL_TEST_SECRET) in ${join(j, "jails", `${e.jid}.json`)}`);
    run.closeStdin();
    await run.done;
  });
});

describe("the id counter", () => {
  it("ids grow past the last one handed out; the counter is a link, and an old counter file still counts", (t) => {
    const j = join(stateDir(t), "state");
    const reg = new Registry(j);
    const a = reg.reserve();
    a.release();
    const b = reg.reserve();
    b.release();
    assert.equal(b.jid, a.jid + 1, "a freed id is not handed out again at once");
    assert.equal(lstatSync(join(j, "lastjid")).isSymbolicLink(), true);
    assert.equal(readlinkSync(join(j, "lastjid")), String(b.jid));
    // a counter written by an older version: a regular file
    rmSync(join(j, "lastjid"));
    writeFileSync(join(j, "lastjid"), "41\n");
    const c = reg.reserve();
    c.release();
    assert.equal(c.jid, 42);
    assert.equal(readlinkSync(join(j, "lastjid")), "42");
    assert.deepEqual(readdirSync(j).filter((f) => f.includes(".tmp")), [], "no temporary link left");
  });
});

describe("concurrent starts", () => {
  it("50 concurrent starts get 50 distinct jids, all listed while they run", { timeout: 120_000 }, async (t) => {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    const N = 50;
    const tokens: string[] = [];
    defer(t, () => { for (const tk of tokens) killTokenProcesses(tk); });
    const results = await Promise.all(Array.from({ length: N }, (_, i) =>
      sysjail(["-j", j, "-b", "-i", "-n", `c${i}`, r.path, `c${i}`, "/probe", "waitfile", "/tmp/stop"], { timeoutMs: 90_000 }).then((res) => {
        tokens.push(res.token);
        return res;
      })));
    const failed = results.filter((x) => x.code !== 0);
    assert.deepEqual(failed.map(show), [], "every start succeeded");
    const jids = results.map((x) => Number(x.stdout.trim()));
    assert.ok(jids.every((x) => Number.isInteger(x) && x > 0), `-i printed jids: ${jids.join(" ")}`);
    assert.equal(new Set(jids).size, N, `distinct jids: ${[...jids].sort((a, b) => a - b).join(" ")}`);
    const inits = new Registry(j).list();
    const listed = new Set(inits.map((e) => e.jid));
    const missing = jids.filter((x) => !listed.has(x));
    // every jail is still running (they wait for /tmp/stop)...
    const running = results.filter((x) => tokenProcesses(x.token).length > 0).length;
    assert.equal(running, N, "all jails run");
    // ...so every one of them must be in the registry
    assert.deepEqual(missing.sort((a, b) => a - b), [], `${missing.length} running jails are missing from the registry`);
    for (const e of inits) assert.equal(e.name, e.hostname);
    // end them all
    writeFileSync(r.at("tmp/stop"), "");
    await waitUntil(() => results.every((x) => tokenProcesses(x.token).length === 0), "all 50 jails to end", 60_000);
    await waitUntil(() => stateFiles(j).length === 0, "the state directory to empty", 20_000).catch(() => undefined);
    await assertStateEmpty(j);
  });
});

describe("dead entries", () => {
  it("an entry whose init was SIGKILLed is never reported, and list() removes it", async (t) => {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    const dead = await sysjail(["-j", j, "-b", "-i", "-n", "victim", r.path, "victim", "/probe", "waitfile", "/tmp/stop"]);
    defer(t, () => killTokenProcesses(dead.token));
    const live = await sysjail(["-j", j, "-b", "-i", "-n", "survivor", r.path, "survivor", "/probe", "waitfile", "/tmp/stop"]);
    defer(t, () => killTokenProcesses(live.token));
    defer(t, () => writeFileSync(r.at("tmp/stop"), ""));
    assert.equal(dead.code, 0, show(dead));
    assert.equal(live.code, 0, show(live));
    const jid = Number(dead.stdout.trim());
    const e = new Registry(j).list().find((x) => x.jid === jid);
    assert.ok(e, "the victim is listed while it runs");
    // verify it is the init we started: its identity matches the entry, it is pid 1 of its
    // namespace and its parent is the recorded monitor, which carries our token (the init clears
    // its own environment: docs/JAILS.md, "What a jail sees of its pid 1")
    const init = procId(e.initPid);
    assert.equal(init.start, e.initStart);
    assert.equal(procPpid(e.initPid), e.monitorPid);
    assert.equal(procStatus(e.initPid, "NSpid")?.split(/\s+/).at(-1), "1");
    assert.ok(tokenProcesses(dead.token).includes(e.monitorPid), "the init's monitor carries this test's token");
    // the monitor would remove the entry when the init dies: stop it first (SIGKILL, verified),
    // so that only the registry's own pruning can clean up
    const monitor = procId(e.monitorPid);
    assert.equal(procComm(monitor.pid), "sysjail-helper");
    killIfSame(monitor);
    await waitUntil(() => !isRunning(monitor), "the monitor to go");
    killIfSame(init);
    await waitUntil(() => procStart(init.pid) !== init.start, "the init to be gone (reaped)");
    const files = [join(j, "jails", `${jid}.json`), join(j, "jails", `${jid}.jid`), join(j, "names", "victim")];
    assert.ok(existsSync(files[0]!), "precondition: the dead jail's entry is still on disk");
    const listed = new Registry(j).list();
    assert.deepEqual(listed.map((x) => x.name), ["survivor"], "a dead jail is reported");
    for (const f of files) assert.ok(!existsSync(f), `list() left ${f} behind`);
    assert.equal(new Registry(j).find("victim"), undefined);
    assert.equal(new Registry(j).find(String(jid)), undefined);
  });
});
