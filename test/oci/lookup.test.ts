// sysjail-oci's command lookup before the start gate: a command the container lacks or cannot run
// fails `create` (and `run`) in one line with runc's words, as runc's create does, and leaves
// nothing; a command the exec may run, or a file the lookup must not touch, is left to the exec.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, REPO, requireRoot, type JailRoot } from "../helpers/index.js";
import { OCI_BIN, OCI_NS, ociTeardown } from "../helpers/ocibundle.js";
import { execFailure, lookupCandidates, lookupOp } from "../../src/oci/lookup.js";
import { op, type PlanOp } from "../../src/plan/types.js";
import { leaseDirs } from "../../src/ids/leases.js";
import { stateDir } from "../../src/registry/paths.js";
import { Registry } from "../../src/registry/store.js";


describe("sysjail-oci lookup: the files execvpe would try (unit)", () => {
  const plan = (file: string, env: string[], cwd = "/"): PlanOp[] => [op("cwd", [cwd]), ...env.map((e) => op("env", [e])), op("exec", [file, file, "x"])];
  it("a name with a slash as it is (under the working directory when relative); an empty name: none", () => {
    assert.deepEqual(lookupCandidates(plan("/bin/sh", ["PATH=/x"])), ["/bin/sh"]);
    assert.deepEqual(lookupCandidates(plan("./run", ["PATH=/x"], "/app")), ["/app/./run"]);
    assert.deepEqual(lookupCandidates(plan("sub/run", [], "/")), ["/sub/run"]);
    assert.deepEqual(lookupCandidates(plan("", ["PATH=/x"])), []);
  });
  it("a bare name: each PATH entry in order (an empty one is the working directory); no PATH: execvpe's /bin:/usr/bin", () => {
    assert.deepEqual(lookupCandidates(plan("ls", ["A=1", "PATH=/usr/local/bin:/bin", "PATH=/ignored"])), ["/usr/local/bin/ls", "/bin/ls"]);
    assert.deepEqual(lookupCandidates(plan("ls", ["PATH=:/bin:rel"], "/w/")), ["/w/ls", "/bin/ls", "/w/rel/ls"]);
    assert.deepEqual(lookupCandidates(plan("ls", ["PATH="], "/w")), ["/w/ls"]);
    assert.deepEqual(lookupCandidates(plan("ls", ["NOTPATH=/x"])), ["/bin/ls", "/usr/bin/ls"]);
  });
  it("no exec op, a PATH of thousands of entries or no root of its own (a joined mount namespace): no lookup (the exec decides)", () => {
    const rooted = (ops: PlanOp[]) => [op("pivot", []), ...ops];
    assert.equal(lookupOp(rooted([op("cwd", ["/"])])), undefined);
    assert.equal(lookupOp(rooted(plan("ls", [`PATH=${Array.from({ length: 2000 }, (_, i) => `/d${i}`).join(":")}`]))), undefined);
    assert.deepEqual(lookupOp(rooted(plan("ls", ["PATH=/a"])))?.args, ["/a/ls"]);
    assert.equal(lookupOp(plan("ls", ["PATH=/a"])), undefined, "no pivot op: the container lives in a joined mount table");
  });
  it("runc's words, which podman maps to 127 and 126", () => {
    assert.equal(execFailure("/x", 2), 'exec "/x": no such file or directory');
    assert.equal(execFailure("x", 13), 'exec "x": permission denied');
    assert.equal(execFailure("a\nb\\c\u009b", 2), 'exec "a\\x0ab\\x5cc\\x9b": no such file or directory', "one printable line");
  });
});

describe("sysjail-oci lookup: create and run of a command the container lacks (root)", () => {
  let jr: JailRoot;
  let work: string;
  let state: string;
  const ids: string[] = [];
  const id = (label: string) => { const c = `ocilookup-${process.pid}-${label}`; ids.push(c); return c; };
  /** sysjail-oci ARGS; stdout and stderr through files (create's detached monitor keeps a pipe open) */
  const oci = (args: string[]) => {
    const out = join(work, "out"), err = join(work, "err");
    const o = openSync(out, "w"), e = openSync(err, "w");
    const r = spawnSync(OCI_BIN, ["--root", state, ...args], { stdio: ["ignore", o, e], timeout: 60_000 });
    closeSync(o); closeSync(e);
    return { status: r.status, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
  };
  const bundle = (name: string, args: string[], env: string[] = ["PATH=/nope:/bin"], cwd = "/") => {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "lk",
      process: { args, env, cwd, user: { uid: 0, gid: 0 } }, linux: { namespaces: OCI_NS },
    }));
    return dir;
  };
  /** nothing of container C is left: no state directory, registry entry, id lease or jail */
  const nothingLeft = (c: string) => {
    assert.equal(existsSync(join(state, c)), false, "no state directory");
    const dir = leaseDirs().ephemeral;
    const leasesOf = () => (existsSync(dir) ? readdirSync(dir).filter((f) => { try { return readFileSync(join(dir, f), "utf8").includes(JSON.stringify(c)); } catch { return false; } }) : []);
    // a started container's monitor removes its registry entry and then its id lease itself, after
    // it reported the exit; `run` returns only once that monitor has ended (as runc's run returns
    // once the container is destroyed), `delete` waits on it too: nothing is left by then
    assert.equal(new Registry(stateDir()).find(c), undefined, "no registry entry");
    assert.deepEqual(leasesOf(), [], "no id lease");
    const jls = spawnSync(join(REPO, "native", "build", "jls"), ["-N"], { encoding: "utf8" });
    assert.doesNotMatch(jls.stdout, new RegExp(c), "no jail");
  };

  before(() => {
    requireRoot("sysjail-oci lookup tests");
    jr = makeJailRoot(buildProbe(), { dirs: ["bin/adir", "first/tool", "app"], files: { "bin/plain": "not a program\n" } });
    copyFileSync(jr.at("probe"), jr.at("bin/tool"));
    chmodSync(jr.at("bin/tool"), 0o755);
    chmodSync(jr.at("bin/plain"), 0o644);
    // a FIFO the lookup must not open (an open would block with no writer)
    assert.equal(spawnSync("mkfifo", ["-m", "0755", jr.at("fifo")]).status, 0);
    work = makeTempDir("sysjail-oci-lookup-");
    state = makeTempDir("sysjail-oci-lookup-state-", 0o700);
  });
  after(() => ociTeardown(oci, ids, jr, work, state));

  for (const [label, args, env, why] of [
    ["missing", ["/nonexist"], undefined, "no such file or directory"],
    ["pathmiss", ["nonexist-cmd"], undefined, "no such file or directory"],
    ["defaultpath", ["nonexist-cmd"], [], "no such file or directory"],
    ["notexec", ["/bin/plain"], undefined, "permission denied"],
    ["pathnotexec", ["plain"], undefined, "permission denied"],
    ["dir", ["/tmp"], undefined, "permission denied"],
    ["pathdir", ["adir"], undefined, "permission denied"],
  ] as const) {
    it(`create of ${JSON.stringify(args[0])}${env ? " (no PATH)" : ""}: status 1, one line "exec ...: ${why}", nothing left`, () => {
      const c = id(label);
      const r = oci(["create", "--bundle", bundle(label, [...args, "x"], env ? [...env] : undefined), c]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr, `sysjail-oci: exec "${args[0]}": ${why}\n`);
      assert.equal(r.stdout, "");
      nothingLeft(c);
    });
  }

  it("run of a missing command fails before start as runc's run does (status 1, the line), nothing left; --log-format json gives the engine the same words", () => {
    const c = id("run");
    const r = oci(["run", "--bundle", bundle("run", ["/nonexist"]), c]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, 'sysjail-oci: exec "/nonexist": no such file or directory\n');
    nothingLeft(c);
    const log = join(work, "log.json");
    const c2 = id("log");
    const l = spawnSync(OCI_BIN, ["--root", state, "--log", log, "--log-format", "json", "create", "--bundle", bundle("log", ["nonexist-cmd"]), c2], { stdio: ["ignore", "ignore", "ignore"], timeout: 60_000 });
    assert.equal(l.status, 1);
    const lines = readFileSync(log, "utf8").trim().split("\n").map((x) => JSON.parse(x) as { level: string; msg: string });
    assert.deepEqual(lines.map((x) => [x.level, x.msg]), [["error", 'exec "nonexist-cmd": no such file or directory']]);
    nothingLeft(c2);
  });

  it("a command name from the image with control characters: one line, escaped (stderr's own escaping doubles the backslash)", () => {
    const c = id("ctl");
    const log = join(work, "ctl.json");
    const r = oci(["--log", log, "--log-format", "json", "create", "--bundle", bundle("ctl", ["/no\nsuch\x1b[2J"]), c]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.equal((JSON.parse(readFileSync(log, "utf8")) as { msg: string }).msg, 'exec "/no\\x0asuch\\x1b[2J": no such file or directory');
    const c2 = id("ctl2");
    const t = oci(["create", "--bundle", bundle("ctl2", ["/no\nsuch\x1b[2J"]), c2]);
    assert.equal(t.status, 1, t.stderr);
    assert.equal(t.stderr, 'sysjail-oci: exec "/no\\\\x0asuch\\\\x1b[2J": no such file or directory\n');
    nothingLeft(c);
    nothingLeft(c2);
  });

  it("what the exec may run passes: a directory earlier in PATH does not stop the search, a relative name runs under the working directory, no PATH searches /bin", () => {
    for (const [label, args, env, cwd] of [
      ["later", ["tool", "exit", "3"], ["PATH=/first:/bin"], "/"],
      ["relative", ["./tool", "exit", "3"], ["PATH=/nope"], "/bin"],
      ["nopath", ["tool", "exit", "3"], [], "/"],
    ] as const) {
      const c = id(label);
      const r = oci(["run", "--bundle", bundle(label, [...args], [...env], cwd), c]);
      assert.equal(r.status, 3, `${label}: ${r.stderr}`);
      nothingLeft(c);
    }
  });

  it("a FIFO named as the command is not opened (create returns); the exec then reports it after start (run: status 1 and the one line, as runc's)", () => {
    const c = id("fifo");
    const cr = oci(["create", "--bundle", bundle("fifo", ["/fifo"]), c]);
    assert.equal(cr.status, 0, cr.stderr);
    assert.equal(JSON.parse(oci(["state", c]).stdout).status, "created");
    assert.equal(oci(["delete", "--force", c]).status, 0);
    const c2 = id("fifo-run");
    const r = oci(["run", "--bundle", bundle("fifo-run", ["/fifo"]), c2]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, 'sysjail-oci: exec "/fifo": permission denied\n', "the container's own line, once");
    nothingLeft(c2);
  });
});
