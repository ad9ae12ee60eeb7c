// sysjail(3) run(): output, stdin, env and cwd, output caps, listeners, errors (SysjailError and
// its fields), unknown keys, and AbortSignal, with nothing left behind after each run.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { run, type RunReport } from "../../src/index.js";
import { requireRoot } from "../helpers/nobody.js";
import {
  assertNothingLeft, buildWork, libState, makeWorkRoot, rejection, snapshot, stateLeft, waitForJail, type JailSnapshot, type WorkRoot,
} from "./helpers.js";

let root: WorkRoot;
before(() => {
  requireRoot("the library tests");
  root = makeWorkRoot(buildWork(), { "etc/motd": "inside the jail\n" });
});
after(() => root?.remove());

describe("run()", { concurrency: 4 }, () => {
  it("runs the command in the jail and resolves to { report, stdout, stderr }", async (t) => {
    const dir = libState(t);
    const r = await run({ path: root.path, hostname: "lib-host", command: ["/work", "hostname", "--", "read", "/etc/motd"], stateDir: dir });
    assert.equal(r.stdout, "lib-host\ninside the jail\n");
    assert.equal(r.stderr, "");
    assert.equal(r.report.status, "ok");
    assert.equal(r.report.reason, null);
    assert.equal(r.report.exitCode, 0);
    assert.equal(r.report.signal, null);
    assert.equal(typeof r.jid, "number");
    assertNothingLeft(dir, undefined, "after run()");
  });

  it("reports a non-zero exit as runtime-error with its exit code, and stderr apart", async (t) => {
    const dir = libState(t);
    const r = await run({ path: root.path, hostname: "h", command: ["/work", "read", "/nonexistent", "--", "exit", "0"], stateDir: dir });
    assert.equal(r.report.status, "runtime-error");
    assert.equal(r.report.exitCode, 2);
    assert.match(r.report.reason ?? "", /status 2/);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "read /nonexistent: ENOENT\n");
    const e = await run({ path: root.path, hostname: "h", command: ["/work", "exit", "3"], stateDir: dir });
    assert.equal(e.report.status, "runtime-error");
    assert.equal(e.report.exitCode, 3);
  });

  it("passes stdin through (string and bytes), and gives EOF without it", async (t) => {
    const dir = libState(t);
    const text = Array.from({ length: 20000 }, (_, i) => `line ${i} ${"x".repeat(i % 17)}`).join("\n");
    const a = await run({ path: root.path, hostname: "h", command: ["/work", "cat"], stdin: text, stateDir: dir });
    assert.equal(a.report.status, "ok");
    assert.equal(a.stdout, text);
    const bytes = new TextEncoder().encode("bytes in\n");
    const b = await run({ path: root.path, hostname: "h", command: ["/work", "cat"], stdin: bytes, stateDir: dir });
    assert.equal(b.stdout, "bytes in\n");
    const c = await run({ path: root.path, hostname: "h", command: ["/work", "cat"], stateDir: dir });
    assert.equal(c.report.status, "ok");
    assert.equal(c.stdout, "");
  });

  it("gives the command exactly env (default: PATH only) and cwd", async (t) => {
    const dir = libState(t);
    const a = await run({ path: root.path, hostname: "h", command: ["/work", "env", "FOO", "PATH", "HOME", "--", "pwd"], env: { FOO: "bar baz" }, cwd: "/tmp", stateDir: dir });
    assert.equal(a.stdout, "FOO=bar baz\nPATH unset\nHOME unset\n/tmp\n");
    const b = await run({ path: root.path, hostname: "h", command: ["/work", "env", "FOO", "PATH", "--", "pwd"], stateDir: dir });
    assert.equal(b.stdout, "FOO unset\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/\n");
    const c = await run({ path: root.path, hostname: "h", command: ["/work", "pwd"], cwd: "/etc", stateDir: dir });
    assert.equal(c.stdout, "/etc\n");
  });

  it("caps stdout and stderr at maxOutputBytes each (default 1 MiB) and still drains the rest", async (t) => {
    const dir = libState(t);
    const a = await run({ path: root.path, hostname: "h", command: ["/work", "out", "3000000", "--", "err", "2500000"], maxOutputBytes: 1000, stateDir: dir });
    assert.equal(a.report.status, "ok", "the writer was not blocked or killed by the cap");
    assert.equal(a.stdout, "o".repeat(1000));
    assert.equal(a.stderr, "e".repeat(1000));
    const b = await run({ path: root.path, hostname: "h", command: ["/work", "out", "1500000", "--", "err", "10"], stateDir: dir });
    assert.equal(b.report.status, "ok");
    assert.equal(b.stdout.length, 1024 * 1024);
    assert.equal(b.stdout, "o".repeat(1024 * 1024));
    assert.equal(b.stderr, "eeeeeeeeee");
  });

  it("calls the on listeners with the report: exit always, limit and oom when they apply", async (t) => {
    const dir = libState(t);
    const calls: [string, RunReport][] = [];
    const on = {
      exit: (r: RunReport) => calls.push(["exit", r]),
      oom: (r: RunReport) => calls.push(["oom", r]),
      limit: (r: RunReport) => calls.push(["limit", r]),
      halt: (r: RunReport) => calls.push(["halt", r]),
    };
    const ok = await run({ path: root.path, hostname: "h", command: ["/work", "exit", "0"], on, stateDir: dir });
    assert.deepEqual(calls.map((c) => c[0]), ["exit"]);
    assert.equal(calls[0]![1], ok.report, "the listener gets the very report run() resolves to");
    calls.length = 0;
    const oom = await run({ path: root.path, hostname: "h", command: ["/work", "alloc", "200"], limits: { memory: "64M" }, on, stateDir: dir });
    assert.equal(oom.report.status, "oom");
    assert.deepEqual(calls.map((c) => c[0]), ["oom", "limit", "exit"]);
    for (const [, r] of calls) assert.equal(r, oom.report);
    calls.length = 0;
    const wall = await run({ path: root.path, hostname: "h", command: ["/work", "sleep", "30"], limits: { wall: "300ms" }, on, stateDir: dir });
    assert.equal(wall.report.status, "timeout");
    assert.deepEqual(calls.map((c) => c[0]), ["limit", "exit"]);
  });

  it("rejects a nonexistent path with SysjailError code ENOENT (never a bare Error), reserving nothing", async (t) => {
    const dir = libState(t);
    const e = await rejection(run({ path: "/nonexistent-sysjail-path", hostname: "h", command: ["/bin/true"], stateDir: dir }));
    assert.equal(e.code, "ENOENT");
    assert.equal(e.name, "SysjailError");
    assert.equal(e.path, "/nonexistent-sysjail-path");
    assert.equal(e.phase, "usage");
    assert.match(e.message, /nonexistent-sysjail-path/);
    assert.deepEqual(stateLeft(dir), []);
    const f = await rejection(run({ path: `${root.path}/work`, hostname: "h", command: ["/bin/true"], stateDir: dir }));
    assert.equal(f.code, "ENOTDIR");
  });

  it("rejects a command missing in the jail with phase exec, step exec, errno 2 and the path", async (t) => {
    const dir = libState(t);
    const e = await rejection(run({ path: root.path, hostname: "h", command: ["/no/such/program", "arg"], stateDir: dir }));
    assert.equal(e.code, "ENOENT");
    assert.equal(e.phase, "exec");
    assert.equal(e.step, "exec");
    assert.equal(e.errno, 2);
    assert.equal(e.path, "/no/such/program");
    assert.equal(e.exitCode, 127);
    assert.match(e.message, /command not found/);
    assertNothingLeft(dir, undefined, "after a failed exec");
    const x = await rejection(run({ path: root.path, hostname: "h", command: ["/etc/motd"], stateDir: dir }));
    assert.equal(x.code, "EACCES");
    assert.equal(x.phase, "exec");
    assert.equal(x.errno, 13);
  });

  it("rejects unknown keys, bad types and bad limits with a usage SysjailError", async (t) => {
    const dir = libState(t);
    const base = { path: root.path, hostname: "h", command: ["/work", "exit", "0"], stateDir: dir };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, bogusKey: 1 }, /unknown option 'bogusKey'/],
      [{ ...base, Hostname: "x" }, /unknown option 'Hostname'/],
      [{ ...base, command: "/work exit 0" }, /command/],
      [{ ...base, command: [] }, /command/],
      [{ ...base, limits: { memroy: "1G" } }, /unknown limit "memroy"/],
      [{ ...base, limits: { memory: "lots" } }, /bad limit memory/],
      [{ ...base, limits: { pids: -1 } }, /bad limit pids/],
      [{ ...base, hostname: "bad host" }, /invalid hostname/],
      [{ ...base, allowIpc: "yes" }, /allowIpc/],
      [{ ...base, env: { "A=B": "c" } }, /environment/],
    ];
    for (const [opts, re] of cases) {
      const e = await rejection(run(opts as unknown as Parameters<typeof run>[0]));
      assert.equal(e.phase, "usage", `${JSON.stringify(opts)}: phase`);
      assert.match(e.message, re);
    }
    for (const bad of [undefined, null, "opts", []]) await rejection(run(bad as unknown as Parameters<typeof run>[0]));
    assert.deepEqual(stateLeft(dir), []);
  });

  it("accepts the policy options and limits in --limit and field spellings", async (t) => {
    const dir = libState(t);
    const r = await run({
      path: root.path, hostname: "h", command: ["/work", "exit", "0"], stateDir: dir,
      allowIpc: true, allowRawSockets: false, allowChflags: false, allowSetHostname: false, allowAllDomains: false, allowRlimit: false,
      limits: { memory: 256 * 1024 * 1024, nofile: 64, fsize: "1M", wall: 10_000, "cpu.weight": 100 },
    });
    assert.equal(r.report.status, "ok");
    assert.deepEqual(r.report.limits, { memory: 256 * 1024 * 1024, openFiles: 64, fileSize: 1024 * 1024, wall: 10_000, cpuShares: 1024 });
  });
});

describe("run() with an AbortSignal", () => {
  it("rejects with ABORT_ERR when aborted, and leaves no registry entry, process or cgroup", async (t) => {
    const dir = libState(t);
    const ac = new AbortController();
    const p = run({ path: root.path, hostname: "abort-me", command: ["/work", "fork", "3", "60", "--", "sleep", "60"], limits: { memory: "64M", pids: 16 }, signal: ac.signal, stateDir: dir });
    let snap: JailSnapshot | undefined;
    try {
      const entry = await waitForJail(dir, (e) => e.hostname === "abort-me");
      snap = snapshot(entry);
      assert.ok(snap.procs.length >= 3, `init, monitor and the command were seen: ${JSON.stringify(snap.procs)}`);
      assert.ok(snap.cgroups.length > 0, "the jail has cgroups");
      ac.abort(new Error("enough"));
      const e = await rejection(p);
      assert.equal(e.code, "ABORT_ERR");
      assert.equal(e.phase, "runtime");
      assert.equal((e.cause as Error | undefined)?.message, "enough", "the signal's reason is the cause");
    } finally {
      ac.abort();
      await p.catch(() => undefined);
    }
    assertNothingLeft(dir, snap, "after the abort");
  });

  it("rejects at once with ABORT_ERR for a signal aborted before the call, starting nothing", async (t) => {
    const dir = libState(t);
    const e = await rejection(run({ path: root.path, hostname: "h", command: ["/work", "sleep", "60"], signal: AbortSignal.abort(), stateDir: dir }));
    assert.equal(e.code, "ABORT_ERR");
    assert.deepEqual(stateLeft(dir), []);
  });

  it("resolves normally when the signal is never aborted", async (t) => {
    const dir = libState(t);
    const ac = new AbortController();
    const r = await run({ path: root.path, hostname: "h", command: ["/work", "hostname"], signal: ac.signal, stateDir: dir });
    assert.equal(r.stdout, "h\n");
    ac.abort(); // after the run: nothing happens
  });
});
