// jail -r: the stop sequence ends every process, and leaves no state file, cgroup or process behind.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { alive, makeRoot, requireBuilt, run, Scope, sjlsEntry, start, tempDir } from "./helpers.js";

/** Adds lifecycle fields to a jail's registry entry, as jail.conf will record them. */
function setLifecycle(state: string, jid: number, lifecycle: Record<string, unknown>): void {
  const file = join(state, "jails", `${jid}.json`);
  const e = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  e.lifecycle = lifecycle;
  writeFileSync(`${file}.t`, JSON.stringify(e));
  renameSync(`${file}.t`, file); // renamed into place, as the registry does
}

describe("jail -r", () => {
  let scope: Scope;
  let root: string;
  before(() => {
    requireBuilt();
    scope = new Scope();
    root = makeRoot();
  });
  after(() => {
    scope?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("removes a jail by jid: every process, its registry files and cgroups are gone", () => {
    const jid = start(scope.o, root, "gone.example", ["/mprobe", "sleep", "120"]);
    const x = sjlsEntry(scope.o, jid)!;
    const procs = run("sjls", ["-p", String(jid), "--json"], scope.o);
    const hostPids = (JSON.parse(procs.stdout) as { hostPid: number }[]).map((p) => p.hostPid);
    assert.equal(hostPids.length, 2);
    const r = run("jail", ["-r", String(jid)], scope.o);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${jid}: removed\n`);
    for (const p of [...hostPids, x.monitorPid as number]) assert.equal(alive(p), false, `pid ${p} still runs`);
    assert.deepEqual(readdirSync(join(scope.state, "jails")).filter((f) => f.startsWith(`${jid}.`)), []);
    assert.equal(existsSync(join(scope.state, "names", String(jid))), false);
    for (const d of Object.values(x.cgroups as Record<string, string>)) assert.equal(existsSync(d), false, d);
    assert.equal(run("jls", ["-j", String(jid)], scope.o).code, 1);
  });

  test("by name; a missing jail is one line on stderr and exit 1; the others are still removed", () => {
    start(scope.o, root, "byname.example", ["/mprobe", "sleep", "120"], ["-n", "byname"]);
    const r = run("jail", ["-r", "nosuch", "byname"], scope.o);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'jail: "nosuch" not found\n');
    assert.equal(r.stdout, "byname: removed\n");
    assert.equal(run("jls", ["-j", "byname"], scope.o).code, 1);
    const again = run("jail", ["-r", "99999"], scope.o);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'jail: "99999" not found\n');
  });

  test("jail -r '*' removes every jail", () => {
    const ids = [1, 2, 3].map((i) => start(scope.o, root, `all${i}.example`, ["/mprobe", "sleep", "120"]));
    const r = run("jail", ["-r", "*"], scope.o);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), ids.map((i) => `${i}: removed`).sort());
    assert.equal(run("jls", [], scope.o).stdout.split("\n").filter(Boolean).length, 1);
  });

  test("SIGTERM first, SIGKILL after stop.timeout for what ignores it", () => {
    const jid = start(scope.o, root, "stubborn.example", ["/mprobe", "stubborn", "120"]);
    setLifecycle(scope.state, jid, { stopTimeout: 1 });
    const t0 = Date.now();
    const r = run("jail", ["-r", String(jid)], scope.o);
    const took = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    // the timeout was waited for: a lower bound, which no load can break (no upper one: run()'s
    // own 60 s deadline catches a removal that hangs)
    assert.ok(took >= 1000, `took ${took} ms`);
    // a process that ends on SIGTERM goes at once, with no wait for the timeout: its stop.timeout
    // is longer than run()'s deadline, so a removal that waited for it would be cut off and fail
    const quick = start(scope.o, root, "quick.example", ["/mprobe", "sleep", "120"]);
    setLifecycle(scope.state, quick, { stopTimeout: 120 });
    const q = run("jail", ["-r", String(quick)], scope.o);
    assert.equal(q.code, 0, `${q.signal ?? ""} ${q.stderr}`);
  });

  test("exec.prestop, exec.stop (inside the jail) and exec.poststop run in order; -R runs none", () => {
    const marks = tempDir("sysjail-mhooks-");
    try {
      const jid = start(scope.o, "/", "hooks.example", ["/bin/sleep", "120"]);
      setLifecycle(scope.state, jid, {
        stopTimeout: 2,
        exec: {
          prestop: [`echo prestop >> ${marks}/log`],
          stop: ["echo stop-in-$(hostname)"],
          poststop: [`echo poststop >> ${marks}/log`],
          release: [`echo release >> ${marks}/log`],
        },
      });
      const r = run("jail", ["-r", String(jid)], scope.o);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `stop-in-hooks.example\n${jid}: removed\n`);
      assert.equal(readFileSync(join(marks, "log"), "utf8"), "prestop\npoststop\nrelease\n");
      const forced = start(scope.o, "/", "forced.example", ["/bin/sleep", "120"]);
      setLifecycle(scope.state, forced, { exec: { prestop: [`echo forced >> ${marks}/log`] } });
      assert.equal(run("jail", ["-R", String(forced)], scope.o).stdout, `${forced}: removed\n`);
      assert.equal(readFileSync(join(marks, "log"), "utf8"), "prestop\npoststop\nrelease\n");
    } finally {
      rmSync(marks, { recursive: true, force: true });
    }
  });
});
