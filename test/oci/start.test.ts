// sysjail-oci start: returns once the container's program was exec'd (as runc's does once its
// init took the exec fifo), so a signal sent right after start meets the program, not its setup.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { ociCli } from "../helpers/ocibundle.js";

const NS = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));

describe("sysjail-oci start (root)", () => {
  let jr: JailRoot;
  let work: string;
  let state: string;
  const ids: string[] = [];
  const oci = ociCli(() => state);
  const bundle = (name: string, args: string[]) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "st",
      process: { args, env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } }, linux: { namespaces: NS },
    }));
    return dir;
  };

  before(() => {
    requireRoot("sysjail-oci start tests");
    jr = makeJailRoot(buildProbe());
    work = makeTempDir("sysjail-oci-start-");
    state = makeTempDir("sysjail-oci-start-state-", 0o700);
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    jr?.remove();
    removeTree(work);
    removeTree(state);
  });

  it("an init that ended before start ran nothing: start fails and nothing is marked started (the engine sees a stopped container, never a lost exit)", () => {
    const c = `rtmisc-start-${process.pid}-dead`;
    ids.push(c);
    const fd = openSync("/dev/null", "w");
    assert.equal(oci(["create", "--bundle", bundle("dead", ["/probe", "exit", "0"]), c], fd).status, 0);
    closeSync(fd);
    const pid = JSON.parse(oci(["state", c]).stdout).pid as number;
    // the init this create made, still waiting for start (its exe is not yet the program)
    assert.notEqual(readlinkSync(`/proc/${pid}/exe`), "/probe");
    process.kill(pid, "SIGKILL");
    // its monitor ends with it (and reports it stopped); this test process is its parent's parent
    // only, so the zombie is reaped by the reaper of this session, not waited for here
    while (JSON.parse(oci(["state", c]).stdout).status !== "stopped") spawnSync("sleep", ["0.05"]);
    const r = oci(["start", c]);
    assert.notEqual(r.status, 0, "start of a container whose init ended before it");
    assert.ok(!existsSync(join(state, c, "started")), "not marked started");
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("the native start returns when the program runs: pid 1 is the program, not the jail's setup", () => {
    for (let n = 0; n < 3; n++) {
      const c = `rtmisc-start-${process.pid}-${n}`;
      ids.push(c);
      const fd = openSync("/dev/null", "w");
      assert.equal(oci(["create", "--bundle", bundle(`b${n}`, ["/probe", "waitfile", "/never"]), c], fd).status, 0);
      closeSync(fd);
      const pid = JSON.parse(oci(["state", c]).stdout).pid as number;
      assert.notEqual(readlinkSync(`/proc/${pid}/exe`), "/probe", "created: the program waits, not yet exec'd");
      const r = oci(["start", c]);
      assert.equal(r.status, 0, r.stderr);
      // the kernel sets a process's exe before it closes its close-on-exec descriptors, which is
      // what the monitor waits for: once start returned, pid 1 is the program
      assert.equal(readlinkSync(`/proc/${pid}/exe`), "/probe");
      assert.ok(existsSync(join(state, c, "started")));
      assert.equal(oci(["delete", "--force", c]).status, 0);
    }
  });

  it("a start whose program ends at once returns; the container is stopped", () => {
    const c = `rtmisc-start-${process.pid}-quick`;
    ids.push(c);
    const out = join(work, "quick.out");
    const fd = openSync(out, "w");
    assert.equal(oci(["create", "--bundle", bundle("quick", ["/probe", "exit", "3"]), c], fd).status, 0);
    closeSync(fd);
    assert.equal(oci(["start", c]).status, 0);
    let s = "";
    for (let i = 0; i < 6000 && s !== "stopped"; i++) { s = JSON.parse(oci(["state", c]).stdout).status; if (s !== "stopped") spawnSync("sleep", ["0.01"]); }
    assert.equal(s, "stopped");
    assert.equal(readFileSync(out, "utf8"), "");
    assert.equal(oci(["delete", c]).status, 0);
  });
});
