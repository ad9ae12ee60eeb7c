// Issue 23: faults of the caller (Node): killed right after it recorded the jail, and a full disk
// when it reserves the jail's id or writes its entry (SYSJAIL_TEST_FAULT started, enospc:reserve,
// enospc:entry). Under the native command the monitor is the process the caller waits for, so
// nothing may be left once `sysjail` has returned; a full disk is one line and exit 73.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertOneLineError, jailRootNobodySuite, NOBODY_UID, runCli, show, stateDir, stateFiles, tokenProcesses } from "../helpers/index.js";
import { leftovers } from "./helpers.js";

const { root, nobody } = jailRootNobodySuite();

const ARGS = ["-4", "127.0.0.75", "--limit", "memory=64M,pids=32"];

describe("faults of the caller", { concurrency: 1 }, () => {
  it("Node killed right after it recorded the jail: the jail ends and nothing is left when sysjail returns", async (t) => {
    const j = stateDir(t);
    const r = await runCli(["-j", j, ...ARGS, root.path, "f", "/probe", "hold"], { stdin: "pipe", env: { SYSJAIL_TEST_FAULT: "started" } });
    assert.equal(r.signal, "SIGKILL", `sysjail ends as its Node did (${show(r)})`);
    assert.deepEqual(leftovers(j), []);
    assert.deepEqual(tokenProcesses(r.token), [], "the jail's processes ended with it");
  });
  for (const what of ["reserve", "entry"]) {
    it(`a full disk when the ${what === "reserve" ? "jail id is reserved" : "entry is written"}: one line, exit 73, nothing left`, async (t) => {
      const j = stateDir(t);
      const r = await runCli(["-j", j, ...ARGS, root.path, "f", "/probe", "hold"], { stdin: "pipe", env: { SYSJAIL_TEST_FAULT: `enospc:${what}` } });
      if (what === "reserve") assertOneLineError(r, 73, /^sysjail: cannot reserve a jail id in .*: ENOSPC$/);
      else {
        // the command starts with "go", before Node records the jail: it may have run a moment
        // (and printed), and is killed with its jail when the record fails
        assert.equal(r.code, 73, show(r));
        assert.match(r.stderr, /^sysjail: cannot record jail \d+ in .*: ENOSPC\n$/, show(r));
      }
      assert.deepEqual(leftovers(j), []);
      assert.deepEqual(tokenProcesses(r.token), []);
    });
  }
  it("rootless (65534): what a killed helper and caller left, sjls --gc of that user collects", async (t) => {
    const j = stateDir(t, NOBODY_UID);
    const f = await runCli(["-j", j, "--limit", "memory=64M", root.path, "f", "/probe", "pid"], { via: "node", as: nobody, env: { SYSJAIL_TEST_FAULT: "6+caller" } });
    assert.equal(f.signal, "SIGKILL", show(f));
    assert.ok(stateFiles(j).length > 0, "the killed run left its registry files");
    const g = await runCli(["--gc"], { tool: "sjls", via: "node", as: nobody, env: { SYSJAIL_STATE_DIR: j } });
    assert.equal(g.code, 0, show(g));
    assert.match(g.stdout, /^removed registry files of jail \d+$/m, show(g));
    assert.deepEqual(leftovers(j), []);
    assert.deepEqual(tokenProcesses(f.token), []);
  });
  it("a jail of / killed before its entry: the ephemeral id lease its reservation noted is released by the next collection", async (t) => {
    const j = stateDir(t);
    const f = await runCli(["-j", j, "--limit", "memory=64M", "/", "eph", "/bin/true"], { via: "node", env: { SYSJAIL_TEST_FAULT: "2+caller" } });
    assert.equal(f.signal, "SIGKILL", show(f));
    const resv = readdirSync(join(j, "jails")).filter((x) => x.endsWith(".jid"));
    assert.equal(resv.length, 1, "the killed start left its reservation");
    const lease = readFileSync(join(j, "jails", resv[0]!), "utf8").trim().split(" ")[2];
    assert.ok(lease && existsSync(lease), `the reservation names the ephemeral lease: ${lease}`);
    const g = await runCli(["--gc"], { tool: "sjls", via: "node", env: { SYSJAIL_STATE_DIR: j } });
    assert.equal(g.code, 0, show(g));
    assert.equal(existsSync(lease), false, "the lease was released");
    assert.deepEqual(leftovers(j), []);
  });
});
