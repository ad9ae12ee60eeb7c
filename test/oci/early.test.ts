// sysjail-oci create with namespaces made ahead by the native front (native/src/early.c): adopted
// only when the container's namespaces are exactly those; a config that asks for others gets
// exactly its own; nothing made ahead outlives a failed create.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { ociCli } from "../helpers/ocibundle.js";

const NS = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));
const TYPES = ["user", "pid", "mnt", "net", "uts", "ipc"];

/** The session id of PID (field 6 of /proc/PID/stat, after the command's closing parenthesis). */
const sessionOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[3]);
const nsOf = (pid: number | "self", t: string) => readlinkSync(`/proc/${pid}/ns/${t}`);

describe("sysjail-oci create: namespaces made ahead by the front (root)", () => {
  let jr: JailRoot;
  let state: string;
  let work: string;
  const ids: string[] = [];
  const oci = ociCli(() => state);
  const bundle = (name: string, args: string[], extra: Record<string, unknown> = {}) => {
    const dir = join(work, name);
    spawnSync("mkdir", ["-p", dir]);
    const config = {
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "earlybox",
      process: { args, env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux: { namespaces: NS, resources: { pids: { limit: 32 } } },
      ...extra,
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    return dir;
  };
  const id = (s: string) => { const v = `ocispeed3-early-${process.pid}-${s}`; ids.push(v); return v; };
  /** create (stdio to a file, never a pipe: the container keeps it), then the init's pid */
  const create = (c: string, dir: string) => {
    const fd = openSync(join(work, `${c}.out`), "w");
    const r = oci(["create", "--bundle", dir, c], fd);
    closeSync(fd);
    assert.equal(r.status, 0, readFileSync(join(work, `${c}.out`), "utf8"));
    return (JSON.parse(oci(["state", c]).stdout) as { pid: number }).pid;
  };

  before(() => {
    requireRoot("sysjail-oci's tests");
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("sysjail-oci-early-state-", 0o700);
    work = makeTempDir("sysjail-oci-early-work-");
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    jr?.remove();
    removeTree(state);
    removeTree(work);
  });

  it("a container with new pid, network, ipc, uts and mount namespaces runs in the ones made ahead: all its own, and it starts as always", () => {
    const c = id("fits");
    const pid = create(c, bundle("fits", ["/probe", "hostname"]));
    // the early init made itself a session leader when adopted (early.c); the monitor's own
    // clone is a member of the monitor's session
    assert.equal(sessionOf(pid), pid, "the init is the one made ahead");
    for (const t of TYPES) assert.notEqual(nsOf(pid, t), nsOf("self", t), `its own ${t} namespace`);
    assert.equal(oci(["start", c]).status, 0);
    for (let i = 0; i < 6000 && JSON.parse(oci(["state", c]).stdout).status !== "stopped"; i++) spawnSync("sleep", ["0.01"]);
    assert.equal(readFileSync(join(work, `${c}.out`), "utf8"), "ok earlybox\n");
    assert.equal(oci(["delete", c]).status, 0);
  });

  it("with a cgroup namespace too: made before create returns, its root the container's cgroup in every hierarchy", () => {
    const c = id("cgns");
    const pid = create(c, bundle("cgns", ["/probe", "cat", "/proc/self/cgroup"], { linux: { namespaces: [...NS, { type: "cgroup" }], resources: { pids: { limit: 32 } } } }));
    assert.equal(sessionOf(pid), pid, "the init is the one made ahead (the cgroup namespace is made by the init itself)");
    // an engine reads /proc/PID/ns at once: the namespace exists when create has returned
    assert.notEqual(nsOf(pid, "cgroup"), nsOf("self", "cgroup"), "its own cgroup namespace before start");
    assert.equal(oci(["start", c]).status, 0);
    for (let i = 0; i < 6000 && JSON.parse(oci(["state", c]).stdout).status !== "stopped"; i++) spawnSync("sleep", ["0.01"]);
    const lines = readFileSync(join(work, `${c}.out`), "utf8").trim().split("\n");
    assert.ok(lines.length > 0 && lines.every((l) => /^\d+:[^:]*:\/$/.test(l)), `every hierarchy's root is the container's cgroup:\n${lines.join("\n")}`);
    assert.equal(oci(["delete", c]).status, 0);
  });

  it("a container in the runtime's network namespace is not put in the one made ahead", () => {
    const c = id("hostnet");
    const pid = create(c, bundle("hostnet", ["/probe", "pid"], { linux: { namespaces: NS.filter((n) => n.type !== "network") } }));
    assert.notEqual(sessionOf(pid), pid, "the monitor's own clone");
    assert.equal(nsOf(pid, "net"), nsOf("self", "net"), "the runtime's network namespace, as the config asks");
    for (const t of ["user", "pid", "mnt", "uts", "ipc"]) assert.notEqual(nsOf(pid, t), nsOf("self", t), `its own ${t} namespace`);
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("a container joining a network namespace by path gets exactly that one, the rest its own", () => {
    const holder = spawn("unshare", ["--net", "sleep", "600"], { stdio: "ignore" });
    try {
      for (let i = 0; i < 6000 && (!existsSync(`/proc/${holder.pid}/cmdline`) || !readFileSync(`/proc/${holder.pid}/cmdline`, "utf8").startsWith("sleep")); i++) spawnSync("sleep", ["0.01"]);
      const netns = `/proc/${holder.pid}/ns/net`;
      const c = id("joinnet");
      const pid = create(c, bundle("joinnet", ["/probe", "pid"], { linux: { namespaces: NS.map((n) => (n.type === "network" ? { ...n, path: netns } : n)) } }));
      assert.notEqual(sessionOf(pid), pid, "the monitor's own clone");
      assert.equal(nsOf(pid, "net"), readlinkSync(netns), "the joined network namespace");
      for (const t of ["user", "pid", "mnt", "uts", "ipc"]) assert.notEqual(nsOf(pid, t), nsOf("self", t), `its own ${t} namespace`);
      assert.equal(oci(["delete", "--force", c]).status, 0);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("a create that fails before any plan (no config.json) leaves no process: the monitor forked ahead ends with it", () => {
    const c = id("noconfig");
    const dir = join(work, "noconfig");
    spawnSync("mkdir", ["-p", dir]);
    const r = oci(["create", "--bundle", dir, c]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    // the monitor forked ahead is a fork of the front: its command line is create's, --root and all
    const ours = () => readdirSync("/proc").filter((f) => /^\d+$/.test(f)).filter((f) => {
      try { return readFileSync(`/proc/${f}/cmdline`, "utf8").includes(state) && !/\) Z /.test(readFileSync(`/proc/${f}/stat`, "utf8")); } catch { return false; }
    });
    // it ends once Node's end of the channel is gone (Node is killed as create returns)
    for (let i = 0; i < 6000 && ours().length > 0; i++) spawnSync("sleep", ["0.01"]);
    assert.deepEqual(ours(), [], "no process of this create is left");
    assert.equal(existsSync(join(state, c)), false, "nothing left in --root");
  });

  it("a create that fails after taking the namespaces made ahead leaves nothing: that init is ended and reaped before create returns", () => {
    const c = id("fail");
    const seen = join(work, "fail.state");
    // a prestart hook runs while the init exists (the state on its stdin names it), then fails create
    const hook = { path: "/bin/sh", args: ["sh", "-c", `cat > "${seen}"; exit 4`] };
    const r = oci(["create", "--bundle", bundle("fail", ["/probe", "pid"], { hooks: { prestart: [hook] } }), c]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^sysjail-oci: hook prestart\[0\] \/bin\/sh: exit status 4\n$/);
    const pid = (JSON.parse(readFileSync(seen, "utf8")) as { pid: number }).pid;
    assert.ok(pid > 0, "the hook saw the init");
    // reaped by create's front, its parent, not left to pid 1
    assert.equal(existsSync(`/proc/${pid}`), false, `the init ${pid} is gone`);
    assert.equal(existsSync(join(state, c)), false, "nothing left in --root");
  });
});
