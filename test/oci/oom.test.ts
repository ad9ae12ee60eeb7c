// sysjail-oci: process.oomScoreAdj reaches the container's process; a value out of range is one
// line and nothing of the container stays.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");

describe("sysjail-oci: process.oomScoreAdj", () => {
  let jr: JailRoot;
  let state: string;
  let work: string;
  before(() => {
    requireRoot("sysjail-oci's oomScoreAdj tests");
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("sysjail-oci-oom-state-", 0o700);
    work = makeTempDir("sysjail-oci-oom-work-");
  });
  after(() => {
    jr?.remove();
    if (state) removeTree(state);
    if (work) removeTree(work);
  });

  let n = 0;
  const run = (oomScoreAdj: unknown) => {
    const dir = join(work, `b${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path },
      mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
      process: { args: ["/probe", "cat", "/proc/self/oom_score_adj"], cwd: "/", user: { uid: 0, gid: 0 }, oomScoreAdj },
      linux: { namespaces: [{ type: "pid" }, { type: "mount" }, { type: "network" }, { type: "ipc" }, { type: "uts" }] },
    }));
    return spawnSync(OCI, ["--root", state, "run", "--bundle", dir, `oom-${process.pid}-${n}`], { encoding: "utf8", timeout: 60_000 });
  };

  it("the container's process has a raised value", () => {
    const r = run(500);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "500");
  });

  it("a lowered value only with the caller's CAP_SYS_RESOURCE, else a warning and the caller's value", () => {
    const own = readFileSync("/proc/self/oom_score_adj", "utf8").trim();
    const eff = BigInt(`0x${readFileSync("/proc/self/status", "utf8").match(/^CapEff:\s+([0-9a-f]+)$/m)![1]}`);
    const r = run(-200);
    assert.equal(r.status, 0, r.stderr);
    if ((eff >> 24n) & 1n) assert.equal(r.stdout.trim(), "-200");
    else {
      assert.equal(r.stdout.trim(), own);
      assert.match(r.stderr, /process\.oomScoreAdj -200: not applied \(EACCES\)/);
    }
  });

  it("refuses a value outside -1000..1000 in one line, leaving no container", () => {
    for (const v of [5000, 1.5, "7"]) {
      const r = run(v);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^sysjail-oci: process\.oomScoreAdj: .* must be an integer from -1000 to 1000\n$/m);
      assert.equal(r.stderr.split("\n").filter((l) => l && !l.includes("warning:")).length, 1, "one line");
    }
    assert.deepEqual(readdirSync(state).filter((f) => f.startsWith(`oom-${process.pid}`)), []);
  });
});
