// The library as an unprivileged user: test/lib/fixtures/rootless.mjs (plain JavaScript importing
// "sysjail") runs as uid 65534 through setpriv with its own XDG_RUNTIME_DIR. Rootless jails get
// no cgroups here (none are delegated): limits fall back to rlimits, and the report says which
// limits nothing enforced.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunReport } from "../../src/index.js";
import { makeNobody, type Nobody } from "../helpers/nobody.js";
import { buildWork, inRange, makeWorkRoot, MiB, REPO, stateLeft, type WorkRoot } from "./helpers.js";

interface Out {
  uid: number;
  runs: Record<string, { report: RunReport; stdout: string; stderr: string }>;
  jail: { hostname: string; code: number; cat: string };
  errors: Record<string, { isSysjailError: boolean; code: string; phase: string }>;
  left: number;
}

let root: WorkRoot;
let nobody: Nobody;
before(() => {
  nobody = makeNobody();
  root = makeWorkRoot(buildWork());
});
after(() => {
  root?.remove();
  nobody?.remove();
});

describe("run() as an unprivileged user (uid 65534)", () => {
  it("runs jails whose limits fall back to rlimits, listing what is not enforced", () => {
    const script = join(REPO, "test", "lib", "fixtures", "rootless.mjs");
    const [cmd, ...pre] = nobody.prefix;
    const r = spawnSync(cmd!, [...pre, process.execPath, script, root.path], { encoding: "utf8", timeout: 60_000, cwd: "/" });
    assert.equal(r.status, 0, `the script failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Out;
    assert.equal(out.uid, 65534);
    const { hostname, all, memory, pids, cpu, wall, stdin } = out.runs;
    // Jail.create + exec: the owner enters a jail whose only process is its init
    assert.deepEqual(out.jail, { hostname: "persistent\n", code: 0, cat: "into a persistent jail\n" });

    assert.equal(hostname!.stdout, "rootless\n");
    assert.equal(hostname!.report.status, "ok");
    assert.equal(hostname!.report.accounting, "rusage", "no cgroups without delegation");

    // every limit given: the cgroup-only ones are reported as unenforced, the rest work
    const a = all!.report;
    assert.equal(a.status, "ok");
    assert.deepEqual([...a.unenforced].sort(), ["cores", "cpuShares", "swap"]);
    assert.equal(all!.stdout, "busy\nalloc 10\nopened 29\n", "openFiles=32 holds: 0, 1, 2 and 29 more");
    inRange(a.cpuUserSeconds, 0.9, 1.5, "cpuUserSeconds of 1 s of work (getrusage)");
    inRange(a.peakMemoryBytes, 10 * MiB, 24 * MiB, "peakMemoryBytes (the largest process's maxrss)");
    assert.equal(a.peakPids, null);
    assert.equal(a.oomKills, null);

    // memory: RLIMIT_DATA, so the allocation fails instead of an OOM kill
    assert.equal(memory!.report.status, "runtime-error");
    assert.equal(memory!.stdout, "alloc failed ENOMEM\n");
    assert.deepEqual(memory!.report.unenforced, []);
    // issue 23: the report says how, and does not claim that no limit fired when it cannot know
    assert.equal(memory!.report.enforcement.memory, "rlimit");
    assert.equal(memory!.report.limitsHit, null);
    assert.deepEqual(a.enforcement.swap, "none");
    // pids: RLIMIT_NPROC in the jail's user namespace
    const m = /^forked (\d+) (\d+)\n$/.exec(pids!.stdout);
    assert.ok(m, pids!.stdout);
    assert.ok(Number(m[1]) <= 8 && Number(m[2]) >= 12, `forks under pids=8: ${pids!.stdout}`);
    // cpu: RLIMIT_CPU, SIGXCPU
    assert.equal(cpu!.report.status, "timeout");
    assert.equal(cpu!.report.signalName, "SIGXCPU");
    assert.deepEqual(cpu!.report.limitsHit, ["cpu"]);
    // wall works the same for everybody
    assert.equal(wall!.report.status, "timeout");
    assert.deepEqual(wall!.report.limitsHit, ["wall"]);
    inRange(wall!.report.wallSeconds, 0.9, 3, "wallSeconds under wall=1s");
    assert.equal(stdin!.stdout, "rootless stdin\n");

    assert.deepEqual(out.errors.enoent, { isSysjailError: true, code: "ENOENT", phase: "usage" });
    assert.equal(out.left, 0, "no jail is left in the user's registry");
    assert.deepEqual(stateLeft(join(nobody.xdg, "sysjail")), []);
  });
});
