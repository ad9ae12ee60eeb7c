// Issue 17 item 9: nothing a jail reads about its pid 1 names a host path. The init is the helper,
// cloned and never exec'd: it shows "sysjail-init" in /proc/1/cmdline and comm, and its
// environment, executable, maps and auxv stay unreadable (not dumpable). As root and as 65534,
// through the native front, through node, and for a background jail entered with jexec.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertStateEmpty, jail, jailRootNobodySuite, NOBODY_UID, probeLine, REPO, show, stateDir, sysjail, type CliResult,
} from "../helpers/index.js";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const { root, nobody } = jailRootNobodySuite();

/** No host path of the package, the jail root or the caller in OUT. */
function noHostPath(r: CliResult, what: string): void {
  for (const p of [REPO, root.path, "/native/", "node_modules", "sysjail-helper"]) assert.ok(!r.stdout.includes(p), `${what} names ${p}: ${show(r)}`);
}

for (const who of ["root", "nobody"] as const) {
  for (const via of ["front", "node"] as const) {
    describe(`pid 1 of a jail (${who}, via ${via})`, { concurrency: 2 }, () => {
      const as = who === "nobody" ? () => ({ as: nobody }) : () => ({});
      const dir = (t: Parameters<typeof stateDir>[0]) => (who === "nobody" ? stateDir(t, NOBODY_UID) : stateDir(t));

      it("/proc/1/cmdline is exactly 'sysjail-init', /proc/1/comm and status name it too", async (t) => {
        const j = dir(t);
        const r = await sysjail(["-j", j, root.path, "init-name", "/probe", "cat", "/proc/1/cmdline"], { ...as(), via });
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout, "sysjail-init\0", show(r));
        const c = await sysjail(["-j", j, root.path, "init-name", "/probe", "cat", "/proc/1/comm"], { ...as(), via });
        assert.equal(c.stdout, "sysjail-init\n", show(c));
        const s = await sysjail(["-j", j, root.path, "init-name", "/probe", "cat", "/proc/1/status"], { ...as(), via });
        assert.match(s.stdout, /^Name:\tsysjail-init$/m, show(s));
        noHostPath(s, "/proc/1/status");
        await assertStateEmpty(j);
      });

      it("/proc/1/environ, exe, maps, auxv and mem cannot be read (the init is not dumpable)", async (t) => {
        const j = dir(t);
        for (const f of ["environ", "exe", "maps", "auxv", "mem", "cwd/probe"]) {
          const r = await sysjail(["-j", j, root.path, "init-name", "/probe", "read", `/proc/1/${f}`], { ...as(), via });
          assert.equal(probeLine(r), "err EACCES", `/proc/1/${f}: ${show(r)}`);
        }
      });

      it("the command's environment carries none of sysjail's own variables", async (t) => {
        const j = dir(t);
        const r = await sysjail(["-j", j, root.path, "init-name", "/probe", "env"], { ...as(), via });
        assert.equal(r.code, 0, show(r));
        const own = r.stdout.split("\n").filter((l) => l.startsWith("env SYSJAIL_") && !l.startsWith("env SYSJAIL_TEST_TOKEN=") && !l.startsWith("env SYSJAIL_IDS_DIR=")); // both set by the caller (the test runner): passed on as any variable
        assert.deepEqual(own, [], show(r));
      });
    });
  }
}

describe("pid 1 of a background jail, seen by an entered process", () => {
  it("is 'sysjail-init' for jexec (root and 65534)", async (t) => {
    for (const who of ["root", "nobody"] as const) {
      const o = who === "nobody" ? { as: nobody } : {};
      const j = who === "nobody" ? stateDir(t, NOBODY_UID) : stateDir(t);
      const b = await sysjail(["-j", j, "-b", "-n", "initname", root.path, "init-bg", "/probe", "waitfile", "/never-there"], o);
      assert.equal(b.code, 0, show(b));
      try {
        const prefix = who === "nobody" ? nobody.prefix : [];
        const argv = [...prefix, join(REPO, "native", "build", "jexec"), "initname", "/probe", "cat", "/proc/1/cmdline"];
        const e = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", env: { ...process.env, SYSJAIL_STATE_DIR: j }, timeout: 60_000 });
        assert.equal(e.stdout, "sysjail-init\0", `${who}: ${e.stderr}`);
      } finally {
        const r = await jail(["-j", j, "-r", "initname"], o);
        assert.equal(r.code, 0, show(r));
      }
      await assertStateEmpty(j);
    }
  });
});
