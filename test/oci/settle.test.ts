// sysjail-oci start's settle (native/src/settle.c): before the command is released, the
// supervisor (the init's parent) takes the connections queued on its listening unix sockets, as
// the kernel counts them (sock_diag). The check against sockets of the test's own, as root and as
// 65534; and the bound create records from the annotation sysjail.start-settle.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeNobody, makeTempDir, REPO, removeTree, requireRoot, runAsNobody, type JailRoot, type Nobody } from "../helpers/index.js";
import { OCI_BIN, OCI_NS, ociCli, ociTeardown } from "../helpers/ocibundle.js";

const EXPECTED = ["idle 0", "queued 2", "with-pair 2", "bounded 2", "one-accepted 1", "all-accepted 0", "settled 0", "supervisor-waiting 1", "supervisor 0", "gone 0"].join("\n");

describe("sysjail-oci start: the supervisor's queued connections (settle)", () => {
  let bin: string;
  let dir: string;
  let nobody: Nobody;
  before(() => {
    requireRoot("sysjail-oci settle tests");
    dir = makeTempDir("sysjail-oci-settle-");
    bin = join(dir, "settle");
    const src = [join(REPO, "test", "oci", "fixtures", "settle.c"), join(REPO, "native", "src", "settle.c")];
    const r = spawnSync("gcc", ["-O2", "-Wall", "-I", join(REPO, "native", "src"), "-o", bin, ...src], { encoding: "utf8" });
    assert.equal(r.status, 0, `gcc: ${r.stderr}`);
    chmodSync(bin, 0o755);
    nobody = makeNobody();
  });
  after(() => {
    removeTree(dir);
    nobody?.remove();
  });

  it("counts connections not yet accepted on listening sockets only, and waits for the supervisor's accept (root)", () => {
    const r = spawnSync(bin, [], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), EXPECTED);
  });

  it("the same as 65534: sock_diag and a supervisor's /proc/PID/fd of the caller's own need no privilege", () => {
    const r = runAsNobody(nobody, bin, []);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), EXPECTED);
  });
});

describe("sysjail-oci create: the settle bound (root)", () => {
  let jr: JailRoot;
  let work: string;
  let state: string;
  const ids: string[] = [];
  const oci = ociCli(() => state);
  const bundle = (name: string, annotations?: Record<string, string>, hooks?: Record<string, unknown>) => {
    const d = join(work, name);
    mkdirSync(d);
    writeFileSync(join(d, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "st", ...(annotations ? { annotations } : {}), ...(hooks ? { hooks } : {}),
      process: { args: ["/probe", "exit", "0"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } }, linux: { namespaces: OCI_NS },
    }));
    return d;
  };
  const createOk = (c: string, b: string) => {
    ids.push(c);
    const fd = openSync(join(work, `${c}.out`), "w");
    const r = oci(["create", "--bundle", b, c], fd);
    closeSync(fd);
    assert.equal(r.status, 0, readFileSync(join(work, `${c}.out`), "utf8"));
  };

  before(() => {
    requireRoot("sysjail-oci settle tests");
    jr = makeJailRoot(buildProbe());
    work = makeTempDir("sysjail-oci-settle-b-");
    state = makeTempDir("sysjail-oci-settle-state-", 0o700);
  });
  after(() => ociTeardown(oci, ids, jr, work, state));

  it("50 ms unless the annotation says otherwise; 0 writes no bound; start runs the command either way", () => {
    const cases: [string, Record<string, string> | undefined, string | undefined][] = [
      ["default", undefined, "50\n"], ["ten", { "sysjail.start-settle": "10" }, "10\n"], ["off", { "sysjail.start-settle": "0" }, undefined],
    ];
    for (const [label, ann, want] of cases) {
      const c = `settle-${process.pid}-${label}`;
      createOk(c, bundle(label, ann));
      const f = join(state, c, "settle");
      assert.equal(existsSync(f) ? readFileSync(f, "utf8") : undefined, want, label);
      const r = oci(["start", c]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(existsSync(join(state, c, "started")), `${label}: started`);
    }
  });

  it("a container with a poststart hook (started by Node, settled by the native front first) starts", () => {
    const c = `settle-${process.pid}-hook`;
    createOk(c, bundle("hook", undefined, { poststart: [{ path: "/bin/true" }] }));
    assert.ok(existsSync(join(state, c, "hooks")), "Node's start path");
    assert.equal(readFileSync(join(state, c, "settle"), "utf8"), "50\n");
    const r = oci(["start", c]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(state, c, "started")));
  });

  for (const bad of ["abc", "-1", "1001", "05", ""]) {
    it(`annotation sysjail.start-settle ${JSON.stringify(bad)}: one line naming it and what is allowed, nothing left`, () => {
      const c = `settle-${process.pid}-bad${ids.length}`;
      ids.push(c);
      const before = readdirSync(state);
      const r = oci(["create", "--bundle", bundle(`bad${ids.length}`, { "sysjail.start-settle": bad }), c]);
      assert.equal(r.status, 1);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /sysjail\.start-settle .*whole number of milliseconds from 0 to 1000/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.deepEqual(readdirSync(state), before);
    });
  }
});
