// Issue 23: jail -c and jail -r killed (SIGKILL) after each step of their tables (SYSJAIL_TEST_FAULT
// create:STEP, stop:STEP). Whatever the fault leaves, the next `jail -r` and start collect it:
// no cgroup directory, registry file, host link or process of the registry's jails remains.
import assert from "node:assert/strict";
import { describe, it, before, after, type TestContext } from "node:test";
import { CREATE_SEQUENCE } from "../../src/jailconf/create.js";
import { STOP_SEQUENCE } from "../../src/manage/remove.js";
import { processStart, Registry } from "../../src/registry/store.js";
import { coreSuite, makeJailRoot, runCli, show, stateDir, type JailRoot } from "../helpers/index.js";
import { leftovers } from "./helpers.js";

const env = coreSuite();
let root: JailRoot;
before(() => {
  root = makeJailRoot(env.probe);
});
after(() => root?.remove());

const LIMITS = ["limits.memory=64M", "limits.pids=32"];
const jailTool = (j: string, args: string[], fault?: string) =>
  runCli(args, { tool: "jail", via: "node", env: { SYSJAIL_STATE_DIR: j, ...(fault ? { SYSJAIL_TEST_FAULT: fault } : {}) } });

/** The next runs after a fault: jail -r of every jail, then an ordinary start with limits. */
async function nextRuns(t: TestContext, j: string): Promise<void> {
  await jailTool(j, ["-r", "*"]);
  const r = await runCli(["-j", j, "--limit", "memory=64M", root.path, "n", "/probe", "pid"]);
  assert.equal(r.code, 0, show(r));
  assert.deepEqual(leftovers(j), [], `${t.name}: left on the host`);
}

describe("jail -c killed after each step of its create table", { concurrency: 1 }, () => {
  for (const step of CREATE_SEQUENCE.map((s) => s.name)) {
    it(`killed after ${step}`, async (t) => {
      const j = stateDir(t);
      const c = await jailTool(j, ["-c", "name=fc", `path=${root.path}`, "host.hostname=fc", "persist", ...LIMITS], `create:${step}`);
      assert.equal(c.signal, "SIGKILL", `the fault stopped jail -c after ${step} (${show(c)})`);
      const inits = new Registry(j).list().map((e) => e.initPid);
      await nextRuns(t, j);
      for (const pid of inits) assert.equal(processStart(pid), undefined, `the jail's init ${pid} outlived jail -r`);
    });
  }
});

describe("jail -r killed after each step of its stop table", { concurrency: 1 }, () => {
  for (const step of STOP_SEQUENCE.map((s) => s.name)) {
    it(`killed after ${step}`, async (t) => {
      const j = stateDir(t);
      const c = await jailTool(j, ["-c", "name=fs", `path=${root.path}`, "host.hostname=fs", "persist", ...LIMITS]);
      assert.equal(c.code, 0, show(c));
      const [e] = new Registry(j).list();
      assert.ok(e, "the jail runs");
      const r = await jailTool(j, ["-r", "fs"], `stop:${step}`);
      assert.equal(r.signal, "SIGKILL", `the fault stopped jail -r after ${step} (${show(r)})`);
      await nextRuns(t, j);
      assert.equal(processStart(e.initPid), undefined, "the jail's init outlived the second jail -r");
    });
  }
});
