// The registry under concurrency and decay: distinct jids, whole entries only, stale entries pruned,
// and never a host process taken for a jail.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { alive, killLostJails, makeRoot, pidsWithCmdline, requireBuilt, run, runAsync, Scope, sjlsEntry, start, waitFor } from "./helpers.js";

describe("the registry", () => {
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

  test("50 jails started at once get distinct jids, and jail -r '*' ends them all", async () => {
    const n = 50;
    try {
      const rs = await Promise.all(Array.from({ length: n }, (_, i) => runAsync("sysjail", ["-b", "-i", root, `par${i}.example`, "/mprobe", "sleep", "121"], { ...scope.o, timeoutMs: 120000 })));
      const ids = rs.map((r) => Number(r.stdout.trim()));
      for (const r of rs) assert.equal(r.code, 0, r.stderr);
      assert.equal(new Set(ids).size, n, `jids: ${ids.join(" ")}`);
      assert.ok(ids.every((i) => Number.isInteger(i) && i > 0));
      const listed = run("jls", ["jid"], scope.o).stdout.trim().split("\n").map(Number).sort((a, b) => a - b);
      assert.deepEqual(listed, [...ids].sort((a, b) => a - b), "every started jail is listed");
      assert.equal(pidsWithCmdline("^/mprobe sleep 121$").length, n);
      const r = run("jail", ["-r", "*"], { ...scope.o, timeoutMs: 120000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split("\n").length, n);
      assert.equal(run("jls", ["jid"], scope.o).stdout, "");
      assert.deepEqual(pidsWithCmdline("^/mprobe sleep 121$").filter(alive), []);
    } finally {
      run("jail", ["-R", "*"], { ...scope.o, timeoutMs: 120000 });
      killLostJails("^/mprobe sleep 121$");
    }
  });

  test("jls during starts and removals only ever shows whole entries", async () => {
    let stop = false;
    const seen: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const r = await runAsync("jls", ["-n", "jid", "host.hostname", "path"], scope.o);
        assert.equal(r.code, 0, r.stderr);
        seen.push(r.stdout);
      }
    })();
    try {
      for (let round = 0; round < 3; round++) {
        const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => runAsync("sysjail", ["-b", "-i", root, `churn${i}.example`, "/mprobe", "sleep", "61"], scope.o)));
        for (const r of rs) assert.equal(r.code, 0, r.stderr);
        await runAsync("jail", ["-r", "*"], scope.o);
      }
    } finally {
      stop = true;
      await reader;
      run("jail", ["-R", "*"], scope.o);
      killLostJails("^/mprobe sleep 61$");
    }
    assert.ok(seen.length > 0);
    for (const out of seen) {
      for (const line of out.split("\n").filter(Boolean)) {
        assert.match(line, new RegExp(`^jid=\\d+ host\\.hostname=churn\\d\\.example path=${root}$`), line);
      }
    }
  });

  test("a jail whose init was SIGKILLed from the host is not listed, and its entry goes", async () => {
    const jid = start(scope.o, root, "victim.example", ["/mprobe", "sleep", "120"]);
    const x = sjlsEntry(scope.o, jid)!;
    const init = x.initPid as number;
    // only the jail's own init, verified through sjls, is killed here
    assert.equal(readFileSync(`/proc/${init}/status`, "utf8").match(/^NSpid:\s*\d+\s+1$/m) !== null, true);
    process.kill(init, "SIGKILL");
    assert.ok(await waitFor(() => !alive(init)));
    assert.equal(run("jls", ["-j", String(jid)], scope.o).code, 1);
    assert.ok(await waitFor(() => !existsSync(join(scope.state, "jails", `${jid}.json`))));
  });

  test("an entry whose init pid was reused is stale: not listed, pruned by the next command", () => {
    const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const pid = sleeper.pid!;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const startTicks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
      const base = { name: "", path: root, hostname: "forged.example", ip4: [], ip6: [], initPid: pid, monitorPid: 0, owner: 0, command: ["x"], startedAt: new Date().toISOString(), persist: false, idmap: { uidMap: "0 1879048192 65536\n", gidMap: "0 1879048192 65536\n", rootless: false }, cgroups: {}, spec: { meta: {}, policy: {}, limits: {} } };
      // 901: the pid now belongs to another process (another start time)
      writeFileSync(join(scope.state, "jails", "901.json"), JSON.stringify({ ...base, jid: 901, name: "901", initStart: startTicks + 1 }));
      // 902: the right start time, but a host process, not the first process of a jail's pid namespace
      writeFileSync(join(scope.state, "jails", "902.json"), JSON.stringify({ ...base, jid: 902, name: "902", initStart: startTicks }));
      const out = run("jls", [], scope.o).stdout;
      assert.doesNotMatch(out, /forged/);
      assert.equal(existsSync(join(scope.state, "jails", "901.json")), false, "the stale entry is pruned");
      assert.equal(run("jail", ["-r", "902"], scope.o).stderr, 'jail: "902" not found\n');
      assert.equal(run("jexec", ["902", "/bin/true"], scope.o).code, 1);
      assert.equal(alive(pid), true, "a process that is not a jail's is never signalled");
      rmSync(join(scope.state, "jails", "902.json"), { force: true });
    } finally {
      sleeper.kill("SIGKILL");
    }
  });
});
