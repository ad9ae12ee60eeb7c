// The native front (native/src/front.c, src/helper/front.ts): `sysjail` as package.json installs
// it is the helper, running Node as its child to plan. Most of the suite runs sysjail this way
// (test/helpers/cli.ts); these are the cases that only the front has: signals before the plan
// exists, a Node child that dies under a running jail, the channel kept from the jail, and the
// front's own failures.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  assertOneLineError, defer, isRunning, jailRootNobodySuite, makeTempDir, NOBODY_UID, procChildren, procComm,
  procDescendants, procId, procState, REPO, removeTree, runAsNobody, show, startCli, stateDir, stateFiles, sysjail, waitUntil,
} from "../helpers/index.js";
import { Registry } from "../../src/registry/store.js";
import { jail as jailCmd, runCli } from "../helpers/cli.js";

const { root, nobody } = jailRootNobodySuite();

describe("the native front", { concurrency: 2 }, () => {
  it("a jail's status and output pass through it, as root and as 65534", async (t) => {
    for (const as of [undefined, nobody]) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const r = await sysjail(["-j", j, root.path, "fr", "/probe", "exit", "7"], { as });
      assert.equal(r.code, 7, show(r));
      const k = await sysjail(["-j", j, root.path, "fr", "/probe", "selfkill", "9"], { as });
      assert.equal(k.code, 137, show(k));
      const v = await sysjail(["-v"], { as });
      assert.match(v.stdout, /^sysjail \S+ \(helper protocol \d+\)$/m, show(v));
      assert.equal(v.code, 0);
      assert.deepEqual(stateFiles(j), []);
    }
  });

  it("the jail gets no descriptor and no variable of the channel to Node", async (t) => {
    const j = stateDir(t);
    const f = await sysjail(["-j", j, root.path, "fr", "/probe", "fds"]);
    assert.match(f.stdout, /^fds 0 1 2$/m, show(f));
    const e = await sysjail(["-j", j, root.path, "fr", "/probe", "env"]);
    assert.match(e.stdout, /^ok \d+$/m, show(e));
    assert.doesNotMatch(e.stdout, /SYSJAIL_FRONT/, show(e));
  });

  it("Node runs without the caller's NODE_* variables, and the jail gets them unchanged, as root and as 65534", async (t) => {
    // a missing --require would end Node at its start, a missing certificate file makes it warn:
    // an empty stderr shows that sysjail's Node saw neither
    const env = {
      NODE_OPTIONS: "--require /nonexistent/sysjail-test-hook.js",
      NODE_EXTRA_CA_CERTS: "/nonexistent/sysjail-test-ca.pem",
      SYSJAIL_HELD_NODE_MINE: "kept", // a caller's own variable of that form is passed on as it is
      NODE_BOTH: "node-both", SYSJAIL_HELD_NODE_BOTH: "held-both", // and is never overwritten
    };
    for (const as of [undefined, nobody]) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      for (const args of [["/", "nv", "/usr/bin/env"], ["/", "nv", "-", "/usr/bin/env"]]) {
        const r = await (args.length === 3 ? sysjail : jailCmd)(["-j", j, ...args], { as, env });
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stderr, "", show(r));
        const vars = r.stdout.split("\n");
        for (const [k, v] of Object.entries(env)) assert.ok(vars.includes(`${k}=${v}`), `${k} ${show(r)}`);
        assert.deepEqual(vars.filter((l) => /^SYSJAIL_(HELD|FRONT)/.test(l) && !/^SYSJAIL_HELD_NODE_(MINE|BOTH)=/.test(l)), [], show(r));
      }
      assert.deepEqual(stateFiles(j), []);
    }
  });

  it("jls, sjls and jexec as installed run through the front too: their Node without NODE_*, no channel in what jexec starts, statuses passed on, as root and as 65534", async (t) => {
    const env = { NODE_OPTIONS: "--require /nonexistent/sysjail-test-hook.js" }; // ends a Node that sees it
    for (const as of [undefined, nobody]) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const stop = `/tmp/stop-front-tools-${as ? "nobody" : "root"}`;
      defer(t, () => writeFileSync(root.at(stop.slice(1)), "")); // ends the jail, also on failure
      const bg = await sysjail(["-j", j, "-b", "-i", "-n", "tools", root.path, "tools", "/probe", "waitfile", stop], { as, env });
      assert.equal(bg.code, 0, show(bg));
      const o = { as, env: { ...env, SYSJAIL_STATE_DIR: j } };
      const ls = await runCli(["-j", "tools", "name", "host.hostname"], { ...o, tool: "jls" });
      assert.equal(ls.stdout, "tools tools\n", show(ls));
      assert.equal(ls.stderr, "", show(ls));
      const sj = await runCli(["-j", "tools"], { ...o, tool: "sjls" });
      assert.equal(sj.code, 0, show(sj));
      assert.equal(sj.stderr, "", show(sj));
      const fds = await runCli(["tools", "/probe", "fds"], { ...o, tool: "jexec" });
      assert.match(fds.stdout, /^fds 0 1 2$/m, show(fds));
      const vars = await runCli(["tools", "/probe", "env"], { ...o, tool: "jexec" });
      assert.match(vars.stdout, /^ok \d+$/m, show(vars));
      assert.doesNotMatch(vars.stdout, /SYSJAIL_(FRONT|HELD)/, show(vars));
      const st = await runCli(["tools", "/probe", "exit", "7"], { ...o, tool: "jexec" });
      assert.equal(st.code, 7, show(st));
      assert.equal(st.stderr, "", show(st));
      const bad = await runCli(["-Z"], { ...o, tool: "jls" });
      assertOneLineError(bad, 64, /^jls: /);
      assert.match(vars.stdout, /^env NODE_OPTIONS=--require \/nonexistent\/sysjail-test-hook\.js$/m, `jexec passes NODE_OPTIONS on: ${show(vars)}`);
      writeFileSync(root.at(stop.slice(1)), "");
      await waitUntil(() => stateFiles(j).length === 0, "the jail to end");
    }
  });

  it("SIGTERM at once, before any plan: the run ends by it and leaves nothing", async (t) => {
    for (let i = 0; i < 3; i++) {
      const j = stateDir(t);
      const run = startCli(["-j", j, root.path, "early", "/probe", "hold"], { stdin: "pipe" });
      defer(t, () => run.stop());
      run.signal("SIGTERM");
      const res = await run.done;
      // a signal that reached Node while it planned ends it, and the front by the same signal;
      // one that came after the plan ended the jail (status 143)
      assert.ok(res.signal === "SIGTERM" || res.code === 143, show(res));
      await waitUntil(() => run.leftovers().length === 0, "the run's processes to end", 10_000);
      await waitUntil(() => stateFiles(j).length === 0, "its state files to go", 10_000);
    }
  });

  it("a Node child killed under a running jail: the jail ends, nothing is left, the front ends by the same signal", async (t) => {
    const j = stateDir(t);
    const run = startCli(["-j", j, root.path, "nodekill", "/probe", "forks", "2"]);
    defer(t, () => run.stop());
    await run.waitOutput(/^ok \d+ \d+$/m);
    const e = await waitUntil(() => new Registry(j).list()[0], "the jail's registry entry");
    assert.equal(e.monitorPid, run.pid, "the front is the monitor");
    const jailProcs = [procId(e.initPid), ...procDescendants(e.initPid).map(procId)];
    const node = procChildren(run.pid).filter((p) => procComm(p) === "node");
    assert.equal(node.length, 1, `one node child of the front: ${procChildren(run.pid).map((p) => `${p}:${procComm(p)}`).join(" ")}`);
    process.kill(node[0]!, "SIGKILL"); // a process this test started, through the front
    const res = await run.done;
    assert.equal(res.signal, "SIGKILL", show(res));
    await waitUntil(() => !jailProcs.some(isRunning), "the jail's processes to end", 10_000);
    await waitUntil(() => stateFiles(j).length === 0, "its state files to go", 10_000);
  });

  it("after the jail Node says its status, and the front ends and reaps it before exiting: nothing outlives the front", async (t) => {
    for (const as of [undefined, nobody]) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const run = startCli(["-j", j, root.path, "word", "/probe", "hold"], { stdin: "pipe", as });
      defer(t, () => run.stop());
      await run.waitOutput(/^ready 2$/m);
      // setpriv execs in place: the front is the CLI's pid as either user
      const node = procChildren(run.pid).filter((p) => procComm(p) === "node");
      assert.equal(node.length, 1, `one node child of the front: ${procChildren(run.pid).map((p) => `${p}:${procComm(p)}`).join(" ")}`);
      run.closeStdin();
      const res = await run.done;
      assert.equal(res.code, 0, show(res));
      // reaped by the front itself: not even a zombie is left for the front's parent to reap
      assert.equal(existsSync(`/proc/${node[0]}`), false, `Node (${node[0]}) is still there after the front exited: ${show(res)}`);
      assert.deepEqual(stateFiles(j), []);
    }
  });

  it("what Node writes after the jail (--report to standard output or a file) is whole when the front has exited", async (t) => {
    const j = stateDir(t);
    const dir = makeTempDir("sysjail-report-");
    defer(t, () => removeTree(dir));
    const file = join(dir, "report.json");
    const a = await sysjail(["-j", j, "--report", "-", root.path, "rep", "/probe", "hostname"]);
    assert.equal(a.code, 0, show(a));
    // standard output carries the report alone; the command's own output went to standard error
    assert.equal(JSON.parse(a.stdout).exitCode, 0, show(a));
    assert.match(a.stderr, /^ok rep$/m, show(a));
    const b = await sysjail(["-j", j, "--report", file, root.path, "rep", "/probe", "selfkill", "9"]);
    assert.equal(b.code, 137, show(b));
    const r = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(r.signal, 9);
    assert.equal(r.signalName, "SIGKILL");
    assert.deepEqual(stateFiles(j), []);
  });

  it("a default jail runs in the namespaces the front made while Node loaded, as root and as 65534; a jail that asks for others gets its own", async (t) => {
    for (const as of [undefined, nobody]) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const r = await sysjail(["-dd", "-j", j, root.path, "ahead", "/probe", "hostname"], { as });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^ok ahead$/m, show(r));
      assert.match(r.stderr, /^sysjail: step 0 clone \(made ahead by the front\)$/m, show(r));
      assert.deepEqual(stateFiles(j), []);
    }
    // the shared stack: no network namespace, so not the namespaces made ahead; they are ended
    // and reaped before the jail's own are made (no zombie beside its init)
    const j = stateDir(t);
    const run = startCli(["-dd", "-j", j, "-4", "127.0.0.61", root.path, "shared", "/probe", "hold"], { stdin: "pipe" });
    defer(t, () => run.stop());
    await run.waitOutput(/^ready 2$/m);
    const e = await waitUntil(() => new Registry(j).list()[0], "the jail's registry entry");
    const kids = procChildren(run.pid).filter((p) => procComm(p) !== "node");
    assert.deepEqual(kids, [e.initPid], `the front's children besides node: ${kids.map((p) => `${p}:${procComm(p)}:${procState(p)}`).join(" ")}`);
    run.closeStdin();
    const s = await run.done;
    assert.equal(s.code, 0, show(s));
    assert.doesNotMatch(s.stderr, /made ahead/, show(s));
    assert.deepEqual(stateFiles(j), []);
  });

  it("namespaces made ahead of a run that starts no jail end with the run: nothing is left", async (t) => {
    // a stand-in for node that plans nothing: the front's early init exists while it runs
    const dir = makeTempDir("front-ahead");
    defer(t, () => removeTree(dir));
    writeFileSync(join(dir, "node"), "#!/bin/sh\nsleep 1\nexit 3\n", { mode: 0o755 });
    const run = startCli([root.path, "none", "/probe", "exit", "0"], { env: { PATH: `${dir}:/usr/bin:/bin` } });
    defer(t, () => run.stop());
    // once the stand-in runs; the early init names itself sysjail-init (native/src/title.c)
    const early = await waitUntil(() => {
      const kids = procChildren(run.pid);
      return kids.some((p) => procComm(p) === "node") ? kids.find((p) => procComm(p) === "sysjail-init") : undefined;
    }, "the front's early init");
    assert.notEqual(readlinkSync(`/proc/${early}/ns/pid`), readlinkSync("/proc/self/ns/pid"), "the early init has its own pid namespace");
    assert.notEqual(readlinkSync(`/proc/${early}/ns/net`), readlinkSync("/proc/self/ns/net"), "and its own network namespace");
    const res = await run.done;
    assert.equal(res.code, 3, show(res));
    assert.deepEqual(run.leftovers(), [], "the early init was reaped before the front exited");
    // and through Node: help, a dry run, a usage error
    for (const args of [["-h"], ["--dry-run", root.path, "dry", "/probe"], ["-Z", root.path, "bad", "/probe"]]) {
      const r2 = startCli(args);
      defer(t, () => r2.stop());
      const out = await r2.done;
      assert.ok(out.code === 0 || out.code === 64, show(out));
      assert.deepEqual(r2.leftovers(), [], `${args.join(" ")}: nothing left`);
    }
  });

  it("without node on PATH it runs the Node that built it", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "nopath", "/probe", "exit", "3"], { env: { PATH: "/nonexistent" } });
    assert.equal(r.code, 3, show(r));
  });

  it("a setuid copy refuses to run (one line, exit 77), as the front and as the helper", async (t) => {
    const dir = makeTempDir("setuid");
    defer(t, () => removeTree(dir));
    mkdirSync(join(dir, "native", "build"), { recursive: true });
    const helper = join(dir, "native", "build", "sysjail-helper");
    cpSync(join(REPO, "native", "build", "sysjail-helper"), helper);
    chmodSync(helper, 0o4755);
    symlinkSync("sysjail-helper", join(dir, "native", "build", "sysjail"));
    const r = await runCli([root.path, "suid", "/probe", "exit", "0"], { frontPath: join(dir, "native", "build", "sysjail"), as: nobody });
    assertOneLineError(r, 77, /^sysjail: refusing to run setuid, setgid or with file capabilities/);
    const h = runAsNobody(nobody, helper, ["--version"]);
    assert.equal(h.status, 77, `${h.stdout} ${h.stderr}`);
    assert.equal(h.stdout, "");
  });

  it("a front without its package beside it: one line, exit 70", async (t) => {
    const dir = makeTempDir("front");
    defer(t, () => removeTree(dir));
    mkdirSync(join(dir, "native", "build"), { recursive: true });
    cpSync(join(REPO, "native", "build", "sysjail-helper"), join(dir, "native", "build", "sysjail-helper"));
    symlinkSync("sysjail-helper", join(dir, "native", "build", "sysjail"));
    const r = await runCli([root.path, "lost", "/probe", "exit", "0"], { frontPath: join(dir, "native", "build", "sysjail") });
    assertOneLineError(r, 70, /^sysjail: cannot find bin\/run-tool\.js beside the helper \(.*\); reinstall sysjail$/);
  });

  it("`sysjail-helper --front TOOL` is TOOL's front (the packed stand-ins' way in); a name not of its tools: one line, exit 64", () => {
    const helper = join(REPO, "native", "build", "sysjail-helper");
    const ok = spawnSync(helper, ["--front", "sysjail", root.path, "fronted", "/probe", "hostname"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "ok fronted\n");
    const bad = spawnSync(helper, ["--front", "../x"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(bad.status, 64);
    assert.equal(bad.stdout, "");
    assert.equal(bad.stderr, "sysjail-helper: --front: no tool named '../x'\n");
  });
});
