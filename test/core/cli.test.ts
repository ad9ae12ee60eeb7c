// Issue 3, lines 9 and 11 and "bad input": -b, -i, -d, -v, -h, --dry-run, the legacy jail(8)
// form, and every kind of bad input (one clear line, the right exit status, nothing left behind).
import assert from "node:assert/strict";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Registry } from "../../src/registry/store.js";
import {
  assertOneLineError, assertStateEmpty, defer, isRunning, jail, jailRootSuite, killTokenProcesses, makeJailRoot, probeLine, procComm,
  procId, procPpid, procDescendants, runCli, show, stateDir, stateFiles, sysjail, tokenProcesses, waitUntil,
  type CliResult,
} from "../helpers/index.js";

const { env, root } = jailRootSuite({ passwd: "root:x:0:0::/root:/bin/sh\njailer:x:1234:1234::/:/bin/sh\n" });

/** Nothing of a failed run remains: no state file, no process of it. */
async function assertNothingLeft(r: CliResult, dir: string): Promise<void> {
  await assertStateEmpty(dir, `after: ${show(r)}`);
  await waitUntil(() => tokenProcesses(r.token).length === 0, "the run's processes to be gone", 10_000).catch(() => undefined);
  assert.deepEqual(tokenProcesses(r.token), [], `processes left behind by ${show(r)}`);
}

describe("-b: background jails", () => {
  it("-b returns at once, the jail runs on without a node parent, its stdio is /dev/null", async (t) => {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    const res = await sysjail(["-j", j, "-b", "-i", r.path, "bg", "/probe", "waitfile", "/tmp/stop"]);
    defer(t, () => killTokenProcesses(res.token));
    assert.equal(res.code, 0, show(res));
    const jid = res.stdout.trim();
    assert.match(jid, /^\d+$/, `-i prints the jid: ${show(res)}`);
    // sysjail has exited; the jail has not (its command waits for a file only this test creates)
    const entry = new Registry(j).list().find((e) => String(e.jid) === jid);
    assert.ok(entry, `a registry entry for jid ${jid}`);
    const init = procId(entry.initPid);
    const monitor = procId(entry.monitorPid);
    assert.ok(isRunning(init) && isRunning(monitor), "the jail runs on after sysjail returned");
    assert.equal(procComm(monitor.pid), "sysjail-helper");
    const parent = procPpid(monitor.pid)!;
    assert.notEqual(parent, res.pid);
    assert.notEqual(procComm(parent), "node", `the monitor's parent (${parent}) is a node process`);
    for (const p of [monitor.pid, init.pid]) assert.notEqual(procComm(procPpid(p)!), "node");
    const cmd = procDescendants(init.pid)[0]!;
    assert.equal(procComm(cmd), "probe");
    for (const fd of [0, 1, 2]) {
      const st = statSync(`/proc/${cmd}/fd/${fd}`);
      assert.ok(st.isCharacterDevice() && st.rdev === statSync("/dev/null").rdev, `fd ${fd} of the command is not /dev/null`);
    }
    // end it: the command exits, the monitor cleans up
    writeFileSync(r.at("tmp/stop"), "");
    await waitUntil(() => !isRunning(init) && !isRunning(monitor), "the background jail to end");
    await waitUntil(() => stateFiles(j).length === 0, "its state files to go");
    assert.deepEqual(new Registry(j).list(), []);
  });

  it("a failing -b start reports like a foreground one and leaves nothing", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, "-b", root.path, "bgfail", "/no-such-command"]);
    assertOneLineError(r, 127, new RegExp(root.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    await assertNothingLeft(r, j);
  });
});

describe("-i, -d, -v, -h", { concurrency: 3 }, () => {
  it("-i prints the jail's jid (foreground), every time, also for a command that exits at once", async (t) => {
    const j = stateDir(t);
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => sysjail(["-j", j, "-i", root.path, `jid${i}`, "/probe", "hostname"])));
    const jids: number[] = [];
    runs.forEach((r, i) => {
      assert.equal(r.code, 0, show(r));
      const lines = r.stdout.trim().split("\n");
      assert.ok(lines.includes(`ok jid${i}`), show(r));
      const jid = lines.filter((l) => /^\d+$/.test(l));
      assert.equal(jid.length, 1, `-i printed no jid: ${show(r)}`);
      jids.push(Number(jid[0]));
    });
    assert.equal(new Set(jids).size, jids.length, `distinct jids: ${jids.join(" ")}`);
    await assertStateEmpty(j);
  });

  it("-d once prints no step trace; -d twice prints the plan and a line per setup step on stderr", async (t) => {
    const j = stateDir(t);
    const once = await sysjail(["-j", j, "-d", root.path, "dbg", "/probe", "hostname"]);
    assert.equal(probeLine(once), "ok dbg", show(once));
    assert.doesNotMatch(once.stderr, /step|plan:/, show(once));
    const twice = await sysjail(["-j", j, "-d", "-d", root.path, "dbg", "/probe", "hostname"]);
    assert.equal(probeLine(twice), "ok dbg", show(twice));
    assert.match(twice.stderr, /^sysjail: plan: .*\bpivot\b.*\bexec\b/m, show(twice));
    const steps = twice.stderr.split("\n").filter((l) => /^sysjail: step /.test(l));
    assert.ok(steps.length >= 10, `a line per setup step: ${twice.stderr}`);
    assert.ok(steps.some((l) => / \/proc\//.test(l)) && steps.some((l) => / \/dev\//.test(l)), `steps for /proc and /dev: ${twice.stderr}`);
    const plain = await sysjail(["-j", j, root.path, "dbg", "/probe", "hostname"]);
    assert.equal(plain.stderr, "", show(plain));
    await assertStateEmpty(j);
  });

  it("-v prints the version, -h the usage; neither starts a jail", async (t) => {
    const j = join(stateDir(t), "never");
    const v = await sysjail(["-j", j, "-v"]);
    assert.equal(v.code, 0, show(v));
    assert.match(v.stdout, /^sysjail \d+\.\d+\.\d+/, show(v));
    const h = await sysjail(["-j", j, "-h"]);
    assert.equal(h.code, 0, show(h));
    assert.match(h.stdout, /^usage: sysjail /, show(h));
    assert.match(h.stdout, /path hostname command/, show(h));
    const jh = await jail(["-h"]);
    assert.equal(jh.code, 0, show(jh));
    assert.match(jh.stdout, /^usage: jail /, show(jh));
    assert.ok(!existsSync(j), "the state directory was created");
  });
});

describe("--dry-run", () => {
  it("prints the plan as JSON and runs nothing", async (t) => {
    const parent = stateDir(t);
    const j = join(parent, "state");
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    const res = await sysjail(["-j", j, "--dry-run", r.path, "dry", "/probe", "write", "/tmp/ran", "yes"]);
    assert.equal(res.code, 0, show(res));
    const plan = JSON.parse(res.stdout) as { ops: { op: string; args: unknown[] }[] };
    assert.ok(Array.isArray(plan.ops), show(res));
    const ops = plan.ops.map((o) => o.op);
    for (const o of ["clone", "pivot", "hostname", "exec"]) assert.ok(ops.includes(o), `no ${o} op: ${ops.join(" ")}`);
    assert.ok(JSON.stringify(plan).includes("/tmp/ran"), "the command is in the plan");
    assert.ok(!existsSync(r.at("tmp/ran")), "the command ran");
    assert.deepEqual(stateFiles(j), [], "a dry run made state files");
    await assertNothingLeft(res, j);
  });
});

describe("the legacy form: jail path hostname - command", { concurrency: 2 }, () => {
  it("runs the command in a jail without addresses", async (t) => {
    const j = stateDir(t);
    const r = await jail(["-j", j, root.path, "legacy", "-", "/probe", "hostname"]);
    assert.equal(probeLine(r), "ok legacy", show(r));
    const n = await jail(["-j", j, root.path, "legacy", "-", "/probe", "ifaces"]);
    assert.equal(probeLine(n), "ifaces lo:up", show(n));
    const i = await jail(["-j", j, "-i", root.path, "legacy", "-", "/probe", "hostname"]);
    assert.deepEqual(i.stdout.trim().split("\n").sort(), [i.stdout.trim().split("\n").find((l) => /^\d+$/.test(l)), "ok legacy"].sort(), show(i));
    const u = await jail(["-j", j, "-U", "jailer", root.path, "legacy", "-", "/probe", "ids"]);
    assert.equal(probeLine(u), "ok 1234 1234 1234 1234 1234 1234", show(u));
    await assertStateEmpty(j);
  });
});

describe("bad input: one line, the right status, nothing left behind", { concurrency: 4 }, () => {
  const long = "x".repeat(65);
  const cases: { name: string; tool?: "jail"; args: () => string[]; code: number | number[]; re?: RegExp }[] = [
    { name: "nonexistent path", args: () => ["/nonexistent-sysjail-path", "h", "/probe"], code: 66, re: /nonexistent-sysjail-path/ },
    { name: "path is a file", args: () => [root.at("probe"), "h", "/probe"], code: 66, re: /not a directory/ },
    { name: "empty path", args: () => ["", "h", "/probe"], code: [64, 66] },
    { name: "missing command in the jail: 127, naming the jail path", args: () => [root.path, "h", "/no-such-command"], code: 127, re: new RegExp(`no-such-command.*${root.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`) },
    { name: "empty hostname", args: () => [root.path, "", "/probe"], code: 64, re: /hostname/ },
    { name: "hostname longer than 64 bytes", args: () => [root.path, long, "/probe"], code: 64, re: /hostname/ },
    { name: "hostname of 33 two-byte characters (66 bytes)", args: () => [root.path, "é".repeat(33), "/probe"], code: 64, re: /hostname/ },
    { name: "hostname with a space", args: () => [root.path, "a b", "/probe"], code: 64, re: /hostname/ },
    { name: "hostname with a slash", args: () => [root.path, "a/b", "/probe"], code: 64, re: /hostname/ },
    { name: "hostname with a NUL-free control character", args: () => [root.path, "a\tb", "/probe"], code: 64, re: /hostname/ },
    { name: "unknown flag", args: () => ["-Z", root.path, "h", "/probe"], code: 64, re: /-Z/ },
    { name: "unknown long option", args: () => ["--no-such-option", root.path, "h", "/probe"], code: 64, re: /no-such-option/ },
    { name: "-u and -U together", args: () => ["-u", "root", "-U", "root", root.path, "h", "/probe"], code: 64, re: /-u and -U/ },
    { name: "unknown host user (-u)", args: () => ["-u", "no-such-user-x", root.path, "h", "/probe"], code: 67, re: /no-such-user-x/ },
    { name: "a jail-only user with -u", args: () => ["-u", "jailer", root.path, "h", "/probe"], code: 67, re: /jailer/ },
    { name: "unknown jail user (-U)", args: () => ["-U", "no-such-user-x", root.path, "h", "/probe"], code: 67, re: /no-such-user-x/ },
    { name: "-l without -u or -U", args: () => ["-l", root.path, "h", "/probe"], code: 64, re: /-l/ },
    { name: "no command", args: () => [root.path, "h"], code: 64 },
    { name: "no arguments", args: () => [], code: 64 },
    { name: "-j without a value", args: () => ["-j"], code: 64 },
    { name: "legacy: missing ip-number and command", tool: "jail", args: () => [root.path, "h"], code: 64 },
    { name: "legacy: an ip-number that is no address", tool: "jail", args: () => [root.path, "h", "999.1.2.3", "/probe", "hostname"], code: 64, re: /999\.1\.2\.3/ },
    { name: "legacy: -l without -u", tool: "jail", args: () => ["-l", root.path, "h", "-", "/probe"], code: 64 },
    { name: "legacy: nonexistent path", tool: "jail", args: () => ["/nonexistent-sysjail-path", "h", "-", "/probe"], code: 66 },
    { name: "legacy: missing command in the jail", tool: "jail", args: () => [root.path, "h", "-", "/no-such-command"], code: 127, re: /no-such-command/ },
  ];
  for (const c of cases) {
    it(`${c.tool ?? "sysjail"}: ${c.name}`, async (t) => {
      const j = stateDir(t);
      const args = c.args();
      // -j goes first unless the case is about -j itself
      const full = args[0] === "-j" ? args : ["-j", j, ...args];
      const r = await runCli(full, { tool: c.tool ?? "sysjail" });
      assertOneLineError(r, c.code, c.re);
      await assertNothingLeft(r, j);
    });
  }

  it("a missing command is reported every time, also when several jails start at once", async (t) => {
    const j = stateDir(t);
    const runs = await Promise.all(Array.from({ length: 16 }, () => sysjail(["-j", j, root.path, "many", "/no-such-command"])));
    const silent = runs.filter((r) => !/no-such-command/.test(r.stderr));
    assert.deepEqual(silent.map(show), [], `${silent.length} of ${runs.length} runs exited without a message`);
    for (const r of runs) assertOneLineError(r, 127, /no-such-command/);
    await assertStateEmpty(j);
  });

  it("a hostname of exactly 64 bytes is fine (the control of the length limit)", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "y".repeat(64), "/probe", "hostname"]);
    assert.equal(probeLine(r), `ok ${"y".repeat(64)}`, show(r));
  });
});
