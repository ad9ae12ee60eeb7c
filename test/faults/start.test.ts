// Issue 23: a killed sysjail leaves nothing behind. The helper stops dead (SYSJAIL_TEST_FAULT) at
// every step of the start table of docs/ARCHITECTURE.md, alone or with its caller; then one
// ordinary start (or `sjls --gc`) collects whatever the fault left: no cgroup directory of this
// registry's jails, no registry file, no process, no host link of a vnet jail.
import assert from "node:assert/strict";
import { describe, it, before, after, type TestContext } from "node:test";
import { leftovers } from "./helpers.js";
import { coreSuite, makeJailRoot, runCli, show, stateDir, tokenProcesses, waitUntil, type JailRoot } from "../helpers/index.js";

const env = coreSuite();
let root: JailRoot;
before(() => {
  root = makeJailRoot(env.probe);
});
after(() => root?.remove());

const KINDS = {
  // a shared-stack jail with addresses: cgroup v1 limits and the cgroup2 directory of its programs
  shared: { args: ["-4", "127.0.0.73", "--limit", "memory=64M,pids=32"], steps: ["2", "2b", "3", "4", "6", "7", "8", "9", "10", "11", "12", "13"] },
  // a vnet jail: its own network namespace and a veth pair
  vnet: { args: ["--vnet", "-4", "10.213.78.2", "--limit", "pids=16,cpu=5s"], steps: ["2", "3", "3b", "4", "5b", "6", "7", "8", "9", "10", "11", "12", "13"] },
} as const;

async function faultThenStart(t: TestContext, kind: keyof typeof KINDS, step: string, caller: boolean, next: "start" | "gc", via: "node" | "front" = "node"): Promise<void> {
  const j = stateDir(t);
  const k = KINDS[kind];
  // via node, Node spawns the helper: the test waits for the caller's own exit, so what it
  // removes itself is done by then and the rest is left for the next run. Via the native
  // command, the front is the monitor: when it dies, its Node child (which carries the run's
  // token) cleans up on its own; the test waits for every process of the run to be gone.
  const faulted = await runCli(["-j", j, ...k.args, root.path, "f", "/probe", "pid"], { via, env: { SYSJAIL_TEST_FAULT: caller ? `${step}+caller` : step } });
  await waitUntil(() => tokenProcesses(faulted.token).length === 0 || undefined, "the faulted run's processes to end", 20_000);
  assert.ok(faulted.code !== 0 || faulted.signal !== null || step === "11" || step === "12", `the faulted run failed (${show(faulted)})`);
  if (next === "start") {
    // the native command: its monitor is the process, so its own cleanup is done when it returns
    const r = await runCli(["-j", j, ...k.args, root.path, "n", "/probe", "pid"]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^ok 2 1$/m, show(r));
  } else {
    const r = await runCli(["--gc"], { tool: "sjls", via: "node", env: { SYSJAIL_STATE_DIR: j } });
    assert.equal(r.code, 0, show(r));
  }
  assert.deepEqual(leftovers(j), [], `left after a fault at step ${step} (${kind}${caller ? ", caller killed too" : ""}) and then ${next}`);
  assert.deepEqual(tokenProcesses(faulted.token), [], "processes of the faulted jail are left");
}

describe("a fault at any start step leaves nothing after the next start", { concurrency: 1 }, () => {
  for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) {
    for (const step of KINDS[kind].steps) {
      it(`${kind} jail, helper stops dead at step ${step}`, (t) => faultThenStart(t, kind, step, false, "start"));
      it(`${kind} jail, helper and caller stop dead at step ${step}`, (t) => faultThenStart(t, kind, step, true, "start"));
      it(`${kind} jail, the native sysjail (the monitor) stops dead at step ${step}`, (t) => faultThenStart(t, kind, step, false, "start", "front"));
    }
  }
  it("sjls --gc collects what a killed helper and caller left, and says what it removed", async (t) => {
    const j = stateDir(t);
    const f = await runCli(["-j", j, ...KINDS.shared.args, root.path, "f", "/probe", "pid"], { via: "node", env: { SYSJAIL_TEST_FAULT: "6+caller" } });
    assert.equal(f.signal, "SIGKILL", show(f));
    const before = leftovers(j);
    assert.ok(before.length > 0, "the killed helper and caller left something to collect");
    const r = await runCli(["--gc"], { tool: "sjls", via: "node", env: { SYSJAIL_STATE_DIR: j } });
    assert.equal(r.code, 0, show(r));
    for (const d of before.filter((x) => x.startsWith("/"))) assert.ok(r.stdout.includes(`removed cgroup ${d}\n`), show(r));
    assert.match(r.stdout, /^removed registry files of jail \d+$/m, show(r));
    assert.deepEqual(leftovers(j), []);
    const again = await runCli(["--gc"], { tool: "sjls", via: "node", env: { SYSJAIL_STATE_DIR: j } });
    assert.equal(again.stdout, "nothing to remove\n", show(again));
  });
  it("sjls --gc takes only --json: one line, exit 64", async () => {
    const r = await runCli(["--gc", "-v"], { tool: "sjls", via: "node" });
    assert.equal(r.code, 64, show(r));
    assert.match(r.stderr, /^sjls: --gc takes only --json\n$/, show(r));
  });
});
