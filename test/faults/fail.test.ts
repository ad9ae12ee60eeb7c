// Issue 23: a full disk or a failed write at any host-side setup step of the helper. With
// SYSJAIL_TEST_FAULT=fail:OP the monitor's write of that op fails with ENOSPC (native/src/helper.h);
// the start fails with one line and exit 71 (EX_OSERR), and nothing is left: no cgroup directory,
// registry file, process, mount or host link. Then the next start works.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, it, type TestContext } from "node:test";
import { leftovers } from "./helpers.js";
import { privateLeases } from "../ids/helpers.js";
import { leaseDirs } from "../../src/ids/leases.js";
import { assertOneLineError, jailRootNobodySuite, NOBODY_UID, runCli, show, stateDir, tokenProcesses, type Nobody } from "../helpers/index.js";

const { root, nobody } = jailRootNobodySuite();
privateLeases(); // the ephemeral-lease cases compare the lease directory before and after

const MAPS = ["setgroups", "uid-map", "gid-map"];
const KINDS = {
  // cgroup v1 limits, the cgroup2 directory of the address programs, the address map
  shared: { args: ["-4", "127.0.0.76", "--limit", "memory=64M,pids=32"], ops: ["cgroup-mkdir", "cgroup-write", "bpf-map", "bpf-prog", ...MAPS, "cgroup-attach"] },
  // a veth pair, the host's address and route to the jail
  vnet: { args: ["--vnet", "-4", "10.213.76.2", "--limit", "pids=16,cpu=5s"], ops: ["cgroup-mkdir", "cgroup-write", ...MAPS, "cgroup-attach", "vnet-link", "host-addr", "host-route"] },
} as const;

/** Mounts whose source or target lies in the jail's root (there must be none on the host). */
function rootMounts(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(root.path));
}

async function failThenStart(t: TestContext, args: readonly string[], op: string, via: "node" | "front", as?: Nobody): Promise<void> {
  const j = as ? stateDir(t, NOBODY_UID) : stateDir(t);
  const f = await runCli(["-j", j, ...args, root.path, "f", "/probe", "pid"], { via, as, env: { SYSJAIL_TEST_FAULT: `fail:${op}` } });
  assertOneLineError(f, 71, new RegExp(`^sysjail: setting up the jail failed at ${op} \\S+: ENOSPC(: \\S+)?$`));
  assert.deepEqual(tokenProcesses(f.token), [], "processes of the failed start are left");
  assert.deepEqual(leftovers(j), [], `left after a failed ${op}`);
  assert.deepEqual(rootMounts(), [], "mounts of the failed start are left");
  // the native command: its monitor is the process, so its own cleanup is done when it returns
  const r = await runCli(["-j", j, ...args, root.path, "n", "/probe", "pid"], { as });
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^ok 2 1$/m, show(r));
  assert.deepEqual(leftovers(j), []);
}

describe("a failed write at any host-side setup step leaves nothing, and the next start works", { concurrency: 1 }, () => {
  for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) {
    for (const op of KINDS[kind].ops) {
      for (const via of ["front", "node"] as const) {
        it(`${kind} jail, ${op} fails with ENOSPC (${via === "front" ? "native sysjail" : "Node"})`, (t) => failThenStart(t, KINDS[kind].args, op, via));
      }
    }
  }
  for (const op of ["cgroup-write", "uid-map", "cgroup-attach"]) {
    it(`a jail of / (an ephemeral id lease), ${op} fails with ENOSPC: the lease is released`, async (t) => {
      const leases = () => { const d = leaseDirs().ephemeral; return existsSync(d) ? readdirSync(d) : []; };
      const had = leases();
      const j = stateDir(t);
      const f = await runCli(["-j", j, "--limit", "pids=16", "/", "f", `${root.path}/probe`, "pid"], { env: { SYSJAIL_TEST_FAULT: `fail:${op}` } });
      assertOneLineError(f, 71, new RegExp(`^sysjail: setting up the jail failed at ${op} \\S+: ENOSPC(: \\S+)?$`));
      assert.deepEqual(leftovers(j), [], `left after a failed ${op}`);
      assert.deepEqual(leases().filter((l) => !had.includes(l)), [], "the failed start's id lease is left");
      const r = await runCli(["-j", j, "--limit", "pids=16", "/", "n", `${root.path}/probe`, "pid"]);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(leases().filter((l) => !had.includes(l)), []);
    });
  }
  for (const op of [...MAPS, "ns-socket"]) {
    it(`rootless (65534): ${op} fails with ENOSPC`, (t) => failThenStart(t, [], op, "front", nobody));
  }
});
