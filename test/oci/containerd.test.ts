// sysjail-oci under containerd: a containerd of the test's own (its own root, state and socket
// under a temp dir), an image imported from a tar the test builds, and ctr driving the runc shim
// with --runc-binary pointed at sysjail-oci: run, run -d + task exec, kill, delete.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { ociImageTar, pidsMentioning, startContainerd, type Containerd } from "../helpers/containerd.js";
import { buildProbe, hostMountsMentioning, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
const JLS = join(REPO, "native", "build", "jls");
const IMAGE = "localhost/sysjail-ctr-test:1";
const NS = "sysjail-test";
/** The cgroup directories named for containerd's namespace NS, one per hierarchy. */
const cgroupParents = () => [join("/sys/fs/cgroup", NS), ...readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h, NS))].filter((d) => existsSync(d));
const hadCgroupParents = cgroupParents();

describe("sysjail-oci under containerd (ctr, the runc shim with --runc-binary)", () => {
  let dir: string;
  let jr: JailRoot;
  let cd: Containerd | undefined;
  let sock: string;
  let runcRoot: string;
  let fifos: string;
  const hadRunContainerd = existsSync("/run/containerd");
  const ids: string[] = [];
  const ctr = (args: string[], timeout = 60_000) =>
    cd!.ctr(NS, args, timeout);
  const runtime = () => ["--runc-binary", OCI, "--runc-root", runcRoot, "--fifo-dir", fifos];
  const never = `/never-${process.pid}`;
  const id = (s: string) => { const v = `ctrtest-${process.pid}-${s}`; ids.push(v); return v; };
  const taskStatus = (c: string) => ctr(["task", "ls"]).stdout.split("\n").find((l) => l.startsWith(`${c} `))?.trim().split(/\s+/)[2];

  before(async () => {
    requireRoot("sysjail-oci's containerd tests");
    for (const cmd of ["containerd", "ctr", "containerd-shim-runc-v2"]) {
      assert.equal(spawnSync("sh", ["-c", `command -v ${cmd}`]).status, 0, `${cmd} is missing: apt-get install containerd (.ci/run does)`);
    }
    // a short path: containerd's socket path must fit a sockaddr_un
    dir = makeTempDir("sjctr-", 0o711, "/tmp");
    runcRoot = join(dir, "sj");
    fifos = join(dir, "fifo");
    jr = makeJailRoot(buildProbe());
    const tar = join(dir, "image.tar");
    const scratch = join(dir, "image");
    mkdirSync(scratch);
    ociImageTar(jr.path, scratch, tar, IMAGE, ["/probe", "pid"]);
    // nothing of the host's containerd: its own root, state, sockets and opt dir; no CRI
    cd = startContainerd(dir);
    sock = cd.sock;
    const imp = ctr(["image", "import", tar]);
    assert.equal(imp.status, 0, imp.stderr);
  });

  after(async () => {
    if (cd) {
      for (const c of ids) {
        ctr(["task", "kill", "-s", "KILL", c], 20_000);
        ctr(["task", "delete", c], 20_000);
        ctr(["container", "delete", c], 20_000);
      }
      ctr(["image", "rm", IMAGE], 20_000);
      // shims this containerd started (they name its socket) and sysjail-oci containers left in our runtime root
      await cd.stop();
      if (existsSync(runcRoot)) {
        for (const ns of readdirSync(runcRoot)) for (const c of readdirSync(join(runcRoot, ns))) {
          spawnSync(OCI, ["--root", join(runcRoot, ns), "delete", "--force", c], { stdio: "ignore", timeout: 30_000 });
        }
      }
    }
    jr?.remove();
    if (dir) removeTree(dir);
    // ctr and the shim make /run/containerd/{fifo,s}: removed again when this test made them and they are empty
    if (!hadRunContainerd) for (const d of ["/run/containerd/fifo", "/run/containerd/s", "/run/containerd"]) try { rmdirSync(d); } catch { /* in use or not ours */ }
    // containerd puts a namespace's containers below a cgroup named for it (cgroupsPath /NS/ID):
    // the parents this test's containers made go again, when empty (runtimes leave parents)
    for (const d of cgroupParents()) if (!hadCgroupParents.includes(d)) try { rmdirSync(d); } catch { /* in use */ }
  });

  it("ctr run: the container is a jail named by its id, pid 1 of its own namespace; its status is ctr's", () => {
    const c = id("run");
    const r = ctr(["run", "--rm", ...runtime(), IMAGE, c, "/probe", "hostname"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `ok ${c.slice(0, 12)}\n`, "with no hostname in config.json the jail's is its id's first 12 characters");
    const p = ctr(["run", "--rm", ...runtime(), IMAGE, id("pid"), "/probe", "pid"]);
    assert.match(p.stdout, /^ok 1 0$/m, p.stderr);
    const st = ctr(["run", "--rm", ...runtime(), IMAGE, id("seven"), "/probe", "exit", "7"]);
    assert.equal(st.status, 7, st.stderr);
    const e = ctr(["run", "--rm", ...runtime(), "--env", "SJ_X=seen", IMAGE, id("env"), "/probe", "env"]);
    assert.match(e.stdout, /^env SJ_X=seen$/m, e.stderr);
    assert.deepEqual(existsSync(join(runcRoot, NS)) ? readdirSync(join(runcRoot, NS)) : [], [], "nothing left in the runtime root");
  });

  it("ctr run -d, task exec, task ps, task kill, task delete: the jail is listed while it runs, nothing left after", () => {
    const c = id("detached");
    const r = ctr(["run", "-d", ...runtime(), IMAGE, c, "/probe", "waitfile", never]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(taskStatus(c), "RUNNING");
    // the task's pid (the pid file's) is the container's pid 1, the shim's child (it reaps it)
    const pid = Number(ctr(["task", "ls"]).stdout.split("\n").find((l) => l.startsWith(`${c} `))?.trim().split(/\s+/)[1]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    assert.match(status, /^NSpid:\s+\d+\s+1$/m, "the task's pid is pid 1 of the container");
    const parent = status.match(/^PPid:\s+(\d+)$/m)?.[1];
    assert.match(readFileSync(`/proc/${parent}/cmdline`, "utf8"), /containerd-shim/, "the shim is its parent");
    assert.match(spawnSync(JLS, ["-N"], { encoding: "utf8" }).stdout, new RegExp(`\\b${c}\\b`), "jls lists the container as a jail");
    const e = ctr(["task", "exec", "--exec-id", "e1", "--fifo-dir", fifos, c, "/probe", "hostname"]);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(e.stdout, `ok ${c.slice(0, 12)}\n`, "exec runs in the container's UTS namespace");
    assert.equal(ctr(["task", "exec", "--exec-id", "e2", "--fifo-dir", fifos, c, "/probe", "exit", "5"]).status, 5);
    const ps = ctr(["task", "ps", c]);
    assert.equal(ps.status, 0, ps.stderr);
    assert.ok(ps.stdout.trim().split("\n").length >= 2, `task ps lists the container's processes: ${ps.stdout}`);
    // pid 1 of a pid namespace ignores TERM it has no handler for (as under runc): KILL ends it
    const k = ctr(["task", "kill", "-s", "KILL", c]);
    assert.equal(k.status, 0, k.stderr);
    let st: string | undefined;
    for (let i = 0; i < 3000 && (st = taskStatus(c)) !== "STOPPED"; i++) spawnSync("sleep", ["0.01"]);
    assert.equal(st, "STOPPED");
    const d = ctr(["task", "delete", c]);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout + d.stderr, /exit code 137|^$/);
    assert.equal(ctr(["container", "delete", c]).status, 0);
    assert.deepEqual(existsSync(join(runcRoot, NS)) ? readdirSync(join(runcRoot, NS)) : [], [], "the runtime root is empty");
    assert.deepEqual(hostMountsMentioning(c), [], "no mount of the container is left");
    assert.doesNotMatch(spawnSync(JLS, ["-N"], { encoding: "utf8" }).stdout, new RegExp(`\\b${c}\\b`), "the jail is gone");
    assert.deepEqual(pidsMentioning(`/probe\0waitfile\0${never}\0`), [], "no process of the container is left");
  });

  it("ctr run -t and task exec -t: the pty master reaches the shim at create, before start; the command's stdio is the slave", () => {
    // script(1) gives ctr the terminal -t needs; the shim takes the master before it calls start
    const quote = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
    const viaScript = (args: string[]) => spawnSync("script", ["-qec", ["ctr", "--address", sock, "--namespace", NS, ...args].map(quote).join(" "), "/dev/null"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    const r = viaScript(["run", "--rm", "-t", ...runtime(), IMAGE, id("tty"), "/probe", "fds"]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /fds 0 1 2\r$/m, "the command's fds 0-2 are the terminal (CR-LF: onlcr)");
    const c = id("ttyexec");
    assert.equal(ctr(["run", "-d", ...runtime(), IMAGE, c, "/probe", "waitfile", never]).status, 0);
    const e = viaScript(["task", "exec", "-t", "--exec-id", "t1", "--fifo-dir", fifos, c, "/probe", "fds"]);
    assert.equal(e.status, 0, e.stderr + e.stdout);
    assert.match(e.stdout, /fds 0 1 2\r$/m);
    assert.equal(ctr(["task", "kill", "-s", "KILL", c]).status, 0);
    for (let i = 0; i < 3000 && taskStatus(c) !== "STOPPED"; i++) spawnSync("sleep", ["0.01"]);
    assert.equal(ctr(["task", "delete", c]).status, 0);
    assert.equal(ctr(["container", "delete", c]).status, 0);
  });

  it("delete --force of a container that does not exist is done (the shim's cleanup calls it after delete)", () => {
    const root = join(dir, "empty-root");
    const r = spawnSync(OCI, ["--root", root, "delete", "--force", "ctrtest-none"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const plain = spawnSync(OCI, ["--root", root, "delete", "ctrtest-none"], { encoding: "utf8" });
    assert.equal(plain.status, 1);
    assert.equal(plain.stderr, "sysjail-oci: container ctrtest-none does not exist\n");
  });
});
