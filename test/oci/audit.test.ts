// sysjail-oci audit (2026-12-07): the host paths an engine names (--pid-file, --log) are written
// without following a symbolic link a non-root user put there, and a --root another user could
// change is refused, for the native and the Node commands; real containers on the real kernel,
// as root (as engines run the runtime).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, buildStatic, makeJailRoot, makeNobody, makeOwnedDir, makeTempDir, REPO, removeTree, requireRoot, runAsNobody, type JailRoot } from "../helpers/index.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
/** A process's start time (field 22 of /proc/PID/stat), or undefined once it is gone or a zombie. */
const liveStart = (pid: number): string | undefined => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return f[0] === "Z" || f[0] === "X" ? undefined : f[19];
  } catch {
    return undefined;
  }
};

describe("sysjail-oci audit: paths the caller names (root)", () => {
  let jr: JailRoot;
  let state: string;
  let work: string;
  /** A directory a non-root user (65534) owns: the pid file's and the log's, here. */
  let userDir: string;
  /** A root-only directory holding the file a symbolic link in userDir points at. */
  let victims: string;
  const ids: string[] = [];
  const id = (s: string) => { const v = `ociaudit-${process.pid}-${s}`; ids.push(v); return v; };
  const oci = (args: string[], out: "pipe" | number = "pipe") =>
    spawnSync(OCI, ["--root", state, ...args], { encoding: "utf8", stdio: ["ignore", out, out], timeout: 60_000 });
  const bundle = (name: string, args: string[]) => {
    const dir = join(work, name);
    spawnSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "ocibox",
      process: { args, env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, capabilities: { bounding: ["CAP_KILL"] } },
      linux: { namespaces: ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type })), resources: { pids: { limit: 16 } } },
    }));
    return dir;
  };
  /** A host file (root's, content CONTENT) and a symbolic link to it at NAME in the user's directory. */
  const trap = (name: string, content: string) => {
    const victim = join(victims, `${name}.victim`);
    writeFileSync(victim, content, { mode: 0o600 });
    const link = join(userDir, name);
    symlinkSync(victim, link);
    spawnSync("chown", ["-h", "65534:65534", link]);
    return { victim, link };
  };

  before(() => {
    requireRoot("sysjail-oci's audit tests");
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("sysjail-ociaudit-state-", 0o700);
    work = makeTempDir("sysjail-ociaudit-work-");
    userDir = makeOwnedDir(65534, 65534, "sysjail-ociaudit-user-", 0o755);
    victims = makeTempDir("sysjail-ociaudit-victims-", 0o700);
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    jr?.remove();
    for (const d of [state, work, userDir, victims]) if (d) removeTree(d);
  });

  it("--pid-file of create and of exec: a symbolic link there is replaced by the pid file, its target is untouched", () => {
    const c = id("pidfile");
    const { victim, link } = trap("create.pid", "host file\n");
    const fd = openSync("/dev/null", "w");
    const r = oci(["create", "--bundle", bundle("pidfile", ["/probe", "waitfile", "/never"]), "--pid-file", link, c], fd);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(victim, "utf8"), "host file\n", "the link's target is not written");
    assert.ok(lstatSync(link).isFile(), "the pid file is a regular file where the link was");
    const st = JSON.parse(oci(["state", c]).stdout) as { pid: number };
    assert.equal(readFileSync(link, "utf8"), String(st.pid));
    assert.equal(oci(["start", c]).status, 0);
    const e = trap("exec.pid", "another host file\n");
    const d = spawnSync(OCI, ["--root", state, "exec", "--detach", "--pid-file", e.link, c, "/probe", "pid"], { encoding: "utf8", stdio: ["ignore", fd, fd], timeout: 60_000 });
    closeSync(fd);
    assert.equal(d.status, 0);
    assert.equal(readFileSync(e.victim, "utf8"), "another host file\n");
    assert.ok(lstatSync(e.link).isFile());
    assert.match(readFileSync(e.link, "utf8"), /^\d+$/);
    assert.deepEqual(readdirSync(userDir).filter((n) => n.startsWith(".")), [], "no temporary file is left");
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("--log: a symbolic link there is not followed, by the native commands (state) nor by Node's (create)", () => {
    const { victim, link } = trap("runtime.log", "host log\n");
    const missing = `ociaudit-${process.pid}-none`;
    // the native state: a container that does not exist is an error line for the log
    const s = spawnSync(OCI, ["--root", state, "--log", link, "state", missing], { encoding: "utf8" });
    assert.equal(s.status, 1);
    assert.match(s.stderr, /does not exist/);
    // Node's create: a bundle that does not exist
    const n = spawnSync(OCI, ["--root", state, "--log", link, "--log-format", "json", "create", "--bundle", join(work, "none"), missing], { encoding: "utf8" });
    assert.equal(n.status, 1);
    assert.equal(readFileSync(victim, "utf8"), "host log\n", "the link's target gets no line");
    assert.ok(lstatSync(link).isSymbolicLink(), "the link stays as it was");
    // a log file that is a regular file still gets its lines
    const plain = join(work, "plain.log");
    spawnSync(OCI, ["--root", state, "--log", plain, "state", missing], { encoding: "utf8" });
    spawnSync(OCI, ["--root", state, "--log", plain, "create", "--bundle", join(work, "none"), missing], { encoding: "utf8" });
    const lines = readFileSync(plain, "utf8").trim().split("\n");
    assert.equal(lines.length, 2, lines.join("\n"));
    for (const l of lines) assert.match(l, /level=error/);
  });

  it("a container without a pid namespace of its own: a sibling its command adds under the engine (CLONE_PARENT) ends with the container", () => {
    const c = id("sibling");
    const sib = buildStatic(join(REPO, "test", "oci", "fixtures", "sibling.c"), "sibling");
    spawnSync("cp", [sib, jr.at("/sibling")]);
    const dir = join(work, "sibling");
    spawnSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "ocibox",
      process: { args: ["/sibling"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, capabilities: { bounding: ["CAP_KILL"] } },
      linux: { namespaces: ["network", "ipc", "uts", "mount"].map((type) => ({ type })), resources: { pids: { limit: 16 } } },
    }));
    const out = join(work, "sibling.out");
    const fd = openSync(out, "w");
    let pid = 0, start: string | undefined;
    try {
      assert.equal(oci(["create", "--bundle", dir, c], fd).status, 0);
      assert.equal(oci(["start", c]).status, 0);
      for (let i = 0; i < 6000 && !/^(ok|err)/.test(readFileSync(out, "utf8")); i++) spawnSync("sleep", ["0.01"]);
      const m = /^ok (\d+)$/m.exec(readFileSync(out, "utf8"));
      assert.ok(m, `the sibling was made: ${readFileSync(out, "utf8")}`);
      pid = Number(m[1]);
      start = liveStart(pid);
      const st = JSON.parse(oci(["state", c]).stdout) as { pid: number };
      assert.ok(start !== undefined, "the sibling runs");
      assert.equal(readlinkSync(`/proc/${pid}/ns/user`), readlinkSync(`/proc/${st.pid}/ns/user`), "the sibling is in the container's user namespace");
      assert.equal(oci(["delete", "--force", c]).status, 0);
      // delete returns once the monitor ended, after its sweep of the container's user namespace
      assert.equal(liveStart(pid) === start ? "alive" : "gone", "gone", "the sibling ended with its container");
    } finally {
      closeSync(fd);
      // a broken runtime left it: it is ours (this test made it), pinned by its start time
      if (pid && start !== undefined && liveStart(pid) === start) process.kill(pid, "SIGKILL");
    }
  });

  it("exec without --process: the container's own user, capabilities and noNewPrivileges, never more; --no-new-privs is applied; --apparmor, --process-label and --cap are named in warnings, never dropped silently", () => {
    const c = id("execopts");
    const fd = openSync("/dev/null", "w");
    assert.equal(oci(["create", "--bundle", bundle("execopts", ["/probe", "waitfile", "/never"]), c], fd).status, 0);
    assert.equal(oci(["start", c]).status, 0);
    const plain = oci(["exec", c, "/probe", "status", "NoNewPrivs"]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout, "ok 0\n");
    // the container holds CAP_KILL alone (bundle()): so does what exec starts in it
    for (const set of ["CapBnd", "CapPrm", "CapEff"]) {
      const caps = oci(["exec", c, "/probe", "status", set]);
      assert.equal(caps.stdout, `ok ${(1 << 5).toString(16).padStart(16, "0")}\n`, set);
    }
    // a container of uid 1000 with noNewPrivileges: exec's process is that user, with no_new_privs
    const c2 = id("execuser");
    const dir2 = bundle("execuser", ["/probe", "waitfile", "/never"]);
    const cfg = JSON.parse(readFileSync(join(dir2, "config.json"), "utf8"));
    cfg.process.user = { uid: 1000, gid: 1000 };
    cfg.process.noNewPrivileges = true;
    cfg.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: 64, hard: 64 }];
    writeFileSync(join(dir2, "config.json"), JSON.stringify(cfg));
    assert.equal(oci(["create", "--bundle", dir2, c2], fd).status, 0);
    closeSync(fd);
    assert.equal(oci(["start", c2]).status, 0);
    assert.equal(oci(["exec", c2, "/probe", "ids"]).stdout, "ok 1000 1000 1000 1000 1000 1000\n");
    assert.equal(oci(["exec", c2, "/probe", "status", "NoNewPrivs"]).stdout, "ok 1\n");
    assert.match(oci(["exec", c2, "/probe", "cat", "/proc/self/limits"]).stdout, /^Max open files\s+64\s+64\s+files/m, "the container's rlimits, not the caller's");
    assert.equal(oci(["exec", "--user", "0:0", c2, "/probe", "ids"]).stdout, "ok 0 0 0 0 0 0\n", "--user still chooses");
    assert.equal(oci(["delete", "--force", c2]).status, 0);
    const nnp = oci(["exec", "--no-new-privs", c, "/probe", "status", "NoNewPrivs"]);
    assert.equal(nnp.status, 0, nnp.stderr);
    assert.equal(nnp.stdout, "ok 1\n");
    const lsm = oci(["exec", "--apparmor", "docker-default", "--process-label", "system_u:system_r:container_t:s0", "--cap", "CAP_SYS_ADMIN", c, "/probe", "pid"]);
    assert.equal(lsm.status, 0, lsm.stderr);
    assert.match(lsm.stderr, /apparmorProfile "docker-default" cannot be applied by sysjail: ignored/);
    assert.match(lsm.stderr, /selinuxLabel "system_u:system_r:container_t:s0" cannot be applied by sysjail: ignored/);
    assert.match(lsm.stderr, /exec --cap: not applied by sysjail-oci/);
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("a container with a cgroupsPath sees its own cgroup only at /sys/fs/cgroup (a hybrid host's unified hierarchy included), removed with it", () => {
    const c = id("cgview");
    const top = `ociaudit-cg-${process.pid}`;
    const dir = bundle("cgview", ["/probe", "waitfile", "/never"]);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    cfg.mounts = [{ destination: "/proc", type: "proc", source: "proc" }, { destination: "/sys", type: "sysfs", source: "sysfs" }, { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro"] }];
    cfg.linux.cgroupsPath = `/${top}/c`;
    cfg.linux.namespaces.push({ type: "cgroup" });
    writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
    const hierarchies = () => ["/sys/fs/cgroup", ...readdirSync("/sys/fs/cgroup").map((d) => join("/sys/fs/cgroup", d))].filter((d) => existsSync(join(d, "cgroup.procs")));
    const fd = openSync("/dev/null", "w");
    try {
      assert.equal(oci(["create", "--bundle", dir, c], fd).status, 0);
      assert.equal(oci(["start", c]).status, 0);
      // cgroup.type is in every cgroup but a hierarchy's root: the view is the container's own
      // cgroup, not the host's tree (its top-level cgroups, a line per host process)
      const ls = oci(["exec", c, "/probe", "ls", "/sys/fs/cgroup"]);
      assert.equal(ls.status, 0, ls.stderr);
      const names = ls.stdout.trim().split(" ").slice(1);
      if (existsSync("/sys/fs/cgroup/cgroup.procs")) {
        assert.ok(names.includes("cgroup.type"), `the container's own cgroup: ${names.join(" ")}`);
        assert.deepEqual(names.filter((n) => !/^[a-z]+\.[a-z_.]+$/.test(n)), [], "no cgroup directory of the host below it");
      } else {
        // a v1 or hybrid host: runc's layout (src/oci/cgroupview.ts), each hierarchy showing
        // exactly the container's own cgroup there (never a hierarchy's root: no release_agent)
        const hosts = readdirSync("/sys/fs/cgroup").filter((d) => existsSync(join("/sys/fs/cgroup", d, "cgroup.procs")));
        assert.deepEqual([...names].sort(), [...hosts].sort(), "the host's hierarchies, each one mounted");
        for (const h of hosts) {
          const view = oci(["exec", c, "/probe", "ls", `/sys/fs/cgroup/${h}`]);
          assert.equal(view.status, 0, view.stderr);
          assert.deepEqual(view.stdout.trim().split(" ").slice(1).sort(), readdirSync(join("/sys/fs/cgroup", h, top, "c")).sort(), `${h}: the container's own cgroup`);
          assert.ok(!view.stdout.includes("release_agent"), `${h}: not the hierarchy's root`);
        }
      }
      if (existsSync("/sys/fs/cgroup/unified/cgroup.procs")) assert.ok(existsSync(join("/sys/fs/cgroup/unified", top, "c")), "a hybrid host: the container's leaf in the unified hierarchy");
      assert.equal(oci(["delete", "--force", c]).status, 0);
      for (const h of hierarchies()) assert.equal(existsSync(join(h, top, "c")), false, `${h}: the container's cgroup is removed`);
    } finally {
      closeSync(fd);
      oci(["delete", "--force", c]);
      for (const h of hierarchies()) for (const d of [join(h, top, "c"), join(h, top)]) { try { rmdirSync(d); } catch { /* not there */ } }
    }
  });

  it("--console-socket another user owns, or in a directory another user owns, is refused in one line; nothing is left", () => {
    const dir = bundle("console", ["/probe", "pid"]);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    cfg.process.terminal = true;
    writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
    // a socket of 65534's in a root-only directory, and one of root's in 65534's directory
    const bind = (path: string) => spawnSync("python3", ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path]);
    const theirs = join(victims, "their.sock");
    bind(theirs);
    spawnSync("chown", ["-h", "65534:65534", theirs]);
    const inTheirDir = join(userDir, "root.sock");
    bind(inTheirDir);
    for (const [sock, re] of [[theirs, /their\.sock is owned by uid 65534/], [inTheirDir, /sysjail-ociaudit-user-\w+ is owned by uid 65534/]] as const) {
      const c = id("console");
      const r = spawnSync(OCI, ["--root", state, "create", "--bundle", dir, "--console-socket", sock, c], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /^sysjail-oci: --console-socket \S+: \S+ is owned by uid 65534 \(the socket and the directories above it must be root's or the caller's, and writable by no one else\)\n$/);
      assert.equal(existsSync(join(state, c)), false, "nothing left");
    }
  });

  it("--root another user could change is refused in one line: no hook of its state.json runs, no process of its procs is signalled", () => {
    // a forged, stopped container with a poststop hook, in a state directory 65534 owns
    const forged = makeOwnedDir(65534, 65534, "sysjail-ociaudit-uroot-", 0o755);
    try {
      const c = `ociaudit-${process.pid}-forged`;
      const mark = join(victims, "hook-ran");
      const dir = join(forged, c);
      mkdirSync(dir);
      const hooks = { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `echo ran > ${mark}`] }] };
      writeFileSync(join(dir, "state.json"), JSON.stringify({ id: c, bundle: "/", pid: 0, pidStart: 0, initPid: 0, initStart: 0, jid: 1, created: "", owner: 0, annotations: {}, hooks }));
      writeFileSync(join(dir, "state.head"), JSON.stringify({ ociVersion: "1.2.0", id: c }) + "\n");
      writeFileSync(join(dir, "procs"), "0 0 0 0\n");
      writeFileSync(join(dir, "hooks"), "poststop\n");
      spawnSync("chown", ["-R", "65534:65534", forged]);
      const refused = /^sysjail-oci: --root \S+: \S+ is owned by (uid 65534|another user) \(the state directory and those above it must be root's or the caller's, and writable by no one else\)\n$/;
      const del = spawnSync(OCI, ["--root", forged, "delete", c], { encoding: "utf8" });
      assert.equal(del.status, 1);
      assert.match(del.stderr, refused);
      assert.equal(existsSync(mark), false, "the forged hook did not run");
      // the native commands
      for (const args of [["state", c], ["kill", c, "TERM"], ["start", c]]) {
        const r = spawnSync(OCI, ["--root", forged, ...args], { encoding: "utf8" });
        assert.equal(r.status, 1, args.join(" "));
        assert.match(r.stderr, refused, args.join(" "));
      }
      // Node's list and ps
      for (const args of [["list"], ["ps", c]]) {
        const r = spawnSync(OCI, ["--root", forged, ...args], { encoding: "utf8" });
        assert.equal(r.status, 1, args.join(" "));
        assert.match(r.stderr, refused, args.join(" "));
      }
      // a link to it, and a group-writable state directory of root's
      const link = join(userDir, "root-link");
      symlinkSync(forged, link);
      assert.match(spawnSync(OCI, ["--root", link, "state", c], { encoding: "utf8" }).stderr, /is owned by/);
      const loose = makeTempDir("sysjail-ociaudit-loose-", 0o770);
      try {
        for (const args of [["state", c], ["list"]]) {
          const r = spawnSync(OCI, ["--root", loose, ...args], { encoding: "utf8" });
          assert.equal(r.status, 1);
          assert.match(r.stderr, /is writable by others/);
        }
        // create refuses it too, and leaves nothing there
        const r = spawnSync(OCI, ["--root", loose, "create", "--bundle", bundle("loose", ["/probe", "pid"]), id("loose")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /is writable by others/);
        assert.deepEqual(readdirSync(loose), []);
        // a root not made yet below another user's directory: refused before anything is made
        const below = join(userDir, "newroot");
        const nr = spawnSync(OCI, ["--root", below, "create", "--bundle", bundle("loose", ["/probe", "pid"]), id("newroot")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        assert.equal(nr.status, 1);
        assert.match(nr.stderr, /sysjail-ociaudit-user-\w+ is owned by uid 65534/);
        assert.equal(existsSync(below), false, "no state directory made there");
      } finally {
        removeTree(loose);
      }
    } finally {
      removeTree(forged);
    }
  });
});

describe("sysjail-oci audit: --root of an unprivileged caller (65534)", () => {
  it("its own --root is used (also in a user namespace of its own); one another user owns, or one others may write, is refused in one line", () => {
    requireRoot("sysjail-oci's audit tests");
    const nobody = makeNobody();
    const own = makeOwnedDir(65534, 65534, "sysjail-ociaudit-own-", 0o700);
    const other = makeOwnedDir(1, 1, "sysjail-ociaudit-other-", 0o755);
    const loose = makeOwnedDir(65534, 65534, "sysjail-ociaudit-loose-", 0o770);
    try {
      const as = (root: string, ...args: string[]) => runAsNobody(nobody, OCI, ["--root", root, ...args]);
      const l = as(own, "list");
      assert.equal(l.status, 0, l.stderr);
      assert.equal(l.stdout, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n");
      const s = as(own, "state", "nothere");
      assert.equal(s.status, 1);
      assert.equal(s.stderr, "sysjail-oci: container nothere does not exist\n");
      for (const args of [["list"], ["state", "nothere"], ["delete", "nothere"]]) {
        const o = as(other, ...args);
        assert.equal(o.status, 1, args.join(" "));
        assert.match(o.stderr, /^sysjail-oci: --root \S+: \S+ is owned by (uid 1|another user) \(/, args.join(" "));
        const w = as(loose, ...args);
        assert.equal(w.status, 1, args.join(" "));
        assert.match(w.stderr, /^sysjail-oci: --root \S+: \S+ is writable by others \(/, args.join(" "));
      }
      // in a user namespace of its own (a rootless engine's): the host's /, /tmp are an unmapped
      // owner's there, accepted above the state directory; the state directory must be its own
      const inNs = (root: string, ...args: string[]) => runAsNobody(nobody, "unshare", ["--user", "--map-root-user", OCI, "--root", root, ...args]);
      const n = inNs(own, "list");
      assert.equal(n.status, 0, n.stderr);
      assert.equal(inNs(own, "state", "nothere").stderr, "sysjail-oci: container nothere does not exist\n");
      for (const args of [["list"], ["state", "nothere"]]) {
        const o = inNs(other, ...args);
        assert.equal(o.status, 1, args.join(" "));
        assert.match(o.stderr, /^sysjail-oci: --root \S+: \S+sysjail-ociaudit-other-\w+ is owned by (uid 65534|another user) \(/, args.join(" "));
      }
    } finally {
      for (const d of [own, other, loose]) removeTree(d);
      nobody.remove();
    }
  });
});
