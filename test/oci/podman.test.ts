// sysjail-oci under a real engine (podman from Debian, with conmon): the config.json features
// podman turns its own options into: namespaces of another container joined by path, namespaced
// sysctls, devices, and the host's network namespace (left out of config.json).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO, buildProbe, makeJailRoot, podmanFixture } from "../helpers/index.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");

describe("sysjail-oci under podman (root)", () => {
  const { tag, names, podman, run, name, setup, teardown } = podmanFixture("ocitest");
  before(setup);
  after(teardown);

  it("--network/--uts/--ipc/--pid container:X join X's namespaces; --sysctl and --device apply (node and device rule); --network=host is the host's network", () => {
    // X run by runc
    const infra = name("infra");
    const d = podman(["--runtime", "runc", "run", "-d", "--name", infra, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--network=none", "--hostname", "infrahost", tag, "/probe", "waitfile", "/never"]);
    assert.equal(d.status, 0, d.stderr);
    // X run by sysjail-oci: podman names its namespaces by the pid file's pid, the container's
    // pid 1 (an older sysjail-oci's pid file named the monitor: still mapped to its pid 1's)
    const ours = name("ours");
    assert.equal(run(["-d", "--name", ours, "--network=none", "--hostname", "ourhost", tag, "/probe", "waitfile", "/never"]).status, 0);
    const viaOurs = run(["--rm", "--name", name("viaours"), "--network", `container:${ours}`, "--uts", `container:${ours}`, "--ipc", `container:${ours}`, tag, "/probe", "hostname"]);
    assert.equal(viaOurs.status, 0, viaOurs.stderr);
    assert.equal(viaOurs.stdout, "ok ourhost\n", "the sysjail-oci container's uts namespace, not the host's");
    const join_ = run(["--rm", "--name", name("member"), "--network", `container:${infra}`, "--uts", `container:${infra}`, "--ipc", `container:${infra}`, tag, "/probe", "hostname"]);
    assert.equal(join_.status, 0, join_.stderr);
    assert.equal(join_.stdout, "ok infrahost\n", "the other container's uts namespace");
    const sc = run(["--rm", "--name", name("sysctl"), "--network=none", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmni=999", tag, "/probe", "read", "/proc/sys/kernel/shmmni"]);
    assert.equal(sc.status, 0, sc.stderr);
    assert.equal(sc.stdout, "ok 999\n");
    const dev = run(["--rm", "--name", name("dev"), "--network=none", "--device", "/dev/net/tun", tag, "/probe", "stat", "/dev/net/tun"]);
    assert.equal(dev.status, 0, dev.stderr);
    assert.match(dev.stdout, /^ok 20\d+/, "a character device node");
    // podman allows the device it adds in the device cgroup: it opens (for reading only)
    const tun = run(["--rm", "--name", name("devread"), "--network=none", "--device", "/dev/net/tun", tag, "/probe", "read", "/dev/net/tun"]);
    assert.equal(tun.status, 0, tun.stderr);
    assert.match(tun.stdout, /^ok/, "podman's rule for the device it adds lets it open");
    // --pid container:X (X ours, or runc's): X's pid namespace, its procfs
    for (const x of [ours, infra]) {
      const pid = run(["--rm", "--name", name(`pid-${x === ours ? "ours" : "runc"}`), "--network=none", "--pid", `container:${x}`, tag, "/probe", "cat", "/proc/1/cmdline"]);
      assert.equal(pid.status, 0, pid.stderr);
      assert.equal(pid.stdout, "/probe\0waitfile\0/never\0", "X's pid 1, in X's pid namespace");
    }
    // --network=host: the runtime's network namespace (its interfaces), which the container cannot reconfigure
    const host = run(["--rm", "--name", name("hostnet"), "--network=host", tag, "/probe", "cat", "/proc/net/dev"]);
    assert.equal(host.status, 0, host.stderr);
    const ifaces = (t: string) => t.split("\n").slice(2).map((l) => l.split(":")[0]!.trim()).filter(Boolean).sort();
    assert.deepEqual(ifaces(host.stdout), ifaces(readFileSync("/proc/net/dev", "utf8")), "the host's interfaces");
    for (const n of [infra, ours]) assert.equal(podman(["rm", "-f", "-t", "0", n]).status, 0);
    const left = podman(["ps", "-a", "--format", "{{.Names}}"]).stdout;
    for (const n of names) assert.doesNotMatch(left, new RegExp(`^${n}$`, "m"), `${n} is gone`);
  });
  it("--network ns:PATH (a network namespace podman did not make, as its default network's): podman's ping_group_range default is set in it, as runc sets it; the host's is unchanged", () => {
    // the stand-in for podman's own network (bridge, slirp4netns), which it passes by path with
    // containers.conf's default_sysctls: a namespace of this test's, never the host's addresses
    const netns = `ocitest-${process.pid}-sysctl`;
    const ping = "/proc/sys/net/ipv4/ping_group_range";
    const hostPing = readFileSync(ping, "utf8");
    assert.equal(spawnSync("ip", ["netns", "add", netns]).status, 0);
    try {
      const args = ["--network", `ns:/run/netns/${netns}`, "--sysctl", "net.ipv4.ip_unprivileged_port_start=444", tag, "/probe", "read", ping];
      const ours = run(["--rm", "--name", name("netns"), ...args]);
      assert.equal(ours.status, 0, ours.stderr);
      const theirs = podman(["--runtime", "runc", "run", "--rm", "--name", name("netns-runc"), "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", ...args]);
      assert.equal(theirs.status, 0, theirs.stderr);
      assert.equal(ours.stdout, theirs.stdout, "the container reads what it reads under runc");
      assert.equal(ours.stdout, "ok 0\t0\n");
      const inNs = (p: string) => spawnSync("ip", ["netns", "exec", netns, "cat", p], { encoding: "utf8" }).stdout;
      assert.equal(inNs("/proc/sys/net/ipv4/ip_unprivileged_port_start"), "444\n", "--sysctl: set in that namespace");
      assert.equal(readFileSync(ping, "utf8"), hostPing, "the host's own value is unchanged");
    } finally {
      spawnSync("ip", ["netns", "del", netns]);
    }
  });
  it("the pid podman sees is the container's pid 1 (conmon's child): top lists the container's processes, stats counts them; statuses and cleanup hold", () => {
    const c = name("pid");
    const d = run(["-d", "--name", c, "--network=none", tag, "/probe", "forks", "3"]);
    assert.equal(d.status, 0, d.stderr);
    const id = d.stdout.trim();
    const [pid, conmon] = podman(["inspect", "-f", "{{.State.Pid}} {{.State.ConmonPid}}", c]).stdout.trim().split(" ").map(Number);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    assert.match(status, /^NSpid:\s+\d+\s+1$/m, ".State.Pid is the container's pid 1");
    assert.equal(status.match(/^PPid:\s+(\d+)$/m)?.[1], String(conmon), "conmon is its parent, which reaps it");
    // the runtime's own record: the monitor is another process, also conmon's after create
    const [monitor, , initPid] = readFileSync(`/run/sysjail-oci/${id}/procs`, "utf8").split(" ").map(Number);
    assert.equal(initPid, pid);
    assert.notEqual(monitor, pid);
    // forks 3 prints once its children exist: wait for that line in the container's log
    for (let i = 0; i < 3000 && !/^ok( \d+){3}$/m.test(podman(["logs", c]).stdout); i++) spawnSync("sleep", ["0.01"]);
    const top = podman(["top", c, "pid", "args"]);
    assert.equal(top.status, 0, top.stderr);
    const rows = top.stdout.trim().split("\n").slice(1);
    assert.deepEqual(rows.map((r) => r.trim().split(/\s+/)[0]).sort(), ["1", "2", "3", "4"], top.stdout);
    for (const r of rows) assert.match(r, /\/probe forks 3/, "the container's processes only, never the host's");
    const stats = podman(["stats", "--no-stream", "--format", "{{.PIDs}}", c]);
    assert.equal(stats.status, 0, stats.stderr);
    assert.equal(stats.stdout.trim(), "4", "the container's cgroup: its pid 1 and the 3 children");
    // SIGKILL: the pid 1 of a pid namespace ignores a TERM it has no handler for
    assert.equal(podman(["kill", "-s", "KILL", c]).status, 0);
    for (let i = 0; i < 3000 && podman(["inspect", "-f", "{{.State.Status}}", c]).stdout.trim() !== "exited"; i++) spawnSync("sleep", ["0.01"]);
    assert.equal(podman(["inspect", "-f", "{{.State.ExitCode}}", c]).stdout.trim(), "137", "the init's own status, taken by conmon");
    assert.equal(podman(["rm", c]).status, 0);
    // nothing left: no runtime state, no monitor, no cgroup, no mount
    assert.equal(existsSync(`/run/sysjail-oci/${id}`), false);
    let mstat = "";
    try { mstat = readFileSync(`/proc/${monitor}/stat`, "utf8"); } catch { /* reaped */ }
    assert.ok(mstat === "" || /\) [ZX] /.test(mstat), `the monitor is gone: ${mstat}`);
    for (const ctl of readdirSync("/sys/fs/cgroup")) assert.equal(existsSync(`/sys/fs/cgroup/${ctl}/libpod_parent/libpod-${id}`), false, ctl);
    assert.doesNotMatch(readFileSync("/proc/self/mountinfo", "utf8"), new RegExp(id));
    // exit statuses: the command's, and a memory kill's
    assert.equal(run(["--rm", "--name", name("st7"), "--network=none", tag, "/probe", "exit", "7"]).status, 7);
    const oom = run(["--rm", "--name", name("oom"), "--network=none", "--memory", "64m", "--memory-swap", "64m", tag, "/probe", "alloc", "256"]);
    assert.equal(oom.status, 137, oom.stderr);
  });

  it("the container's cgroups are podman's cgroupsPath (/libpod_parent/libpod-ID) with its limits; pause and unpause freeze it and a podman exec process", () => {
    const c = name("cg");
    const d = run(["-d", "--name", c, "--network=none", "--pids-limit", "16", "--memory", "64m", tag, "/probe", "waitfile", "/never"]);
    assert.equal(d.status, 0, d.stderr);
    const id = d.stdout.trim();
    const v1 = existsSync("/sys/fs/cgroup/pids/tasks");
    const leaf = (ctl: string) => (v1 ? `/sys/fs/cgroup/${ctl}/libpod_parent/libpod-${id}` : `/sys/fs/cgroup/libpod_parent/libpod-${id}`);
    assert.equal(readFileSync(join(leaf("pids"), "pids.max"), "utf8").trim(), "16", "the limit as podman gives it");
    assert.equal(readFileSync(join(leaf("memory"), v1 ? "memory.limit_in_bytes" : "memory.max"), "utf8").trim(), String(64 << 20));
    const procs = readFileSync(join(leaf("pids"), "cgroup.procs"), "utf8").trim().split("\n");
    assert.equal(procs.length, 1, "the container's process, only");
    const state = (pid = procs[0]) => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1];
    // a `podman exec` process: in the container's cgroups, every hierarchy (the freezer's too)
    const ex = podman(["--runtime", OCI, "exec", "-d", c, "/probe", "waitfile", "/never-exec"]);
    assert.equal(ex.status, 0, ex.stderr);
    const execd = readFileSync(join(leaf(v1 ? "freezer" : "pids"), "cgroup.procs"), "utf8").trim().split("\n")
      .filter((p) => p !== procs[0] && readFileSync(`/proc/${p}/cmdline`, "utf8").includes("/never-exec"));
    assert.equal(execd.length, 1, "the exec'd process is in the container's cgroup");
    if (v1) {
      assert.equal(podman(["pause", c]).status, 0);
      assert.equal(readFileSync(join(leaf("freezer"), "freezer.state"), "utf8").trim(), "FROZEN");
      assert.equal(state(), "D", "frozen");
      assert.equal(state(execd[0]), "D", "the exec'd process is frozen too");
      assert.equal(podman(["inspect", "-f", "{{.State.Status}}", c]).stdout.trim(), "paused");
      assert.equal(podman(["unpause", c]).status, 0);
      assert.notEqual(state(), "D");
      assert.notEqual(state(execd[0]), "D");
      // paused again: rm -f thaws, kills and removes it
      assert.equal(podman(["pause", c]).status, 0);
    }
    assert.equal(podman(["rm", "-f", "-t", "0", c]).status, 0);
    assert.equal(existsSync(leaf("pids")), false, "the container's cgroup is gone");
  });
  it("podman's root-owned image and volumes: a named volume is the container root's through an idmapped bind (as under runc), the overlay root cannot be idmapped; writable when podman maps the container onto its own ids (--uidmap)", () => {
    // without mappings the container runs on the jail's pool range; the kernel idmaps no overlayfs
    // mount (docs/OCI.md, "Idmapped image"): the image's root-owned /etc stays nobody's inside
    const own = run(["--rm", "--network=none", tag, "/probe", "write", "/etc/newfile", "x"]);
    assert.match(own.stdout, /^err EACCES/m, own.stdout + own.stderr);
    // a root-owned named volume (ext4) is idmapped: container root writes it, the file is uid 0 on
    // the host, as runc's root makes it
    const vol = name("vol");
    try {
      const v = run(["--rm", "--network=none", "-v", `${vol}:/data`, tag, "/probe", "write", "/data/f", "x"]);
      assert.match(v.stdout, /^ok 1$/m, v.stdout + v.stderr);
      const at = podman(["volume", "inspect", "-f", "{{.Mountpoint}}", vol]).stdout.trim();
      const st = spawnSync("stat", ["-c", "%u:%g", join(at, "f")], { encoding: "utf8" });
      assert.equal(st.stdout.trim(), "0:0", "the volume's file is uid 0 on the host, as under runc");
    } finally {
      podman(["volume", "rm", "-f", vol]);
    }
    // a root directory podman does not mount (--rootfs) is idmapped: the image is container root's
    const rootfs = makeJailRoot(buildProbe());
    try {
      const w = run(["--rm", "--network=none", "--name", name("rootfs"), "--rootfs", rootfs.path, "/probe", "write", "/etc/newfile", "x"]);
      assert.match(w.stdout, /^ok 1$/m, w.stdout + w.stderr);
      const st = lstatSync(rootfs.at("etc/newfile"));
      assert.deepEqual([st.uid, st.gid], [0, 0], "made as runc's root makes it");
    } finally {
      rootfs.remove();
    }
    // podman's /etc/hosts (a root-owned file on /run's tmpfs) too
    assert.match(run(["--rm", "--network=none", tag, "/probe", "rewrite", "/etc/hosts"]).stdout, /^ok\b/m);
    const pool = run(["--rm", "--network=none", tag, "/probe", "read", "/proc/self/uid_map"]);
    const [, inside, outside] = pool.stdout.trim().split(/\s+/);
    assert.equal(inside, "0", pool.stdout);
    assert.notEqual(outside, "0", `container root is a pool id, not host root: ${pool.stdout}`);
    // podman --uidmap: podman gives a root owned by those ids, sysjail-oci applies root's mapping as given
    const map = ["--uidmap", "0:300000:65536", "--gidmap", "0:300000:65536"];
    const mapped = run(["--rm", "--network=none", ...map, tag, "/probe", "write", "/etc/sjtest-mapped", "y"]);
    assert.match(mapped.stdout, /^ok\b/m, mapped.stdout + mapped.stderr);
    const idmap = run(["--rm", "--network=none", ...map, tag, "/probe", "read", "/proc/self/uid_map"]);
    assert.match(idmap.stdout, /^ok\s+0\s+300000\s+65536$/m, `root's mapping as given: ${idmap.stdout}${idmap.stderr}`);
  });
  it("--annotation sysjail.ids=host: the overlay image is container root's (the host's ids one to one, capabilities in its own user namespace); without it still EACCES", () => {
    const host = ["--annotation", "sysjail.ids=host"];
    const w = run(["--rm", "--network=none", ...host, tag, "/probe", "write", "/etc/newfile", "x"]);
    assert.match(w.stdout, /^ok 1$/m, w.stdout + w.stderr);
    const m = run(["--rm", "--network=none", ...host, tag, "/probe", "read", "/proc/self/uid_map"]);
    assert.match(m.stdout, /^ok\s+0\s+0\s+4294967295$/m, m.stdout + m.stderr);
    // still no host privilege: a block device node, the host's sysctls
    assert.match(run(["--rm", "--network=none", ...host, tag, "/probe", "mknod-blk", "/tmp/b"]).stdout, /^err (EPERM|EACCES)/m);
    assert.match(run(["--rm", "--network=none", ...host, tag, "/probe", "rewrite", "/proc/sys/kernel/core_pattern"]).stdout, /^err (EROFS|EACCES|EPERM)/m);
    // the runtime refuses it with podman's --pid=host, in one line that podman passes on
    const hp = run(["--rm", "--network=none", "--pid=host", ...host, tag, "/probe", "ids"]);
    assert.notEqual(hp.status, 0);
    assert.match(hp.stderr, /sysjail\.ids=host needs the container's own pid, ipc and network namespaces/, hp.stderr);
    // the default: the overlay root is not container root's (the warning naming the remedies is not visible here: podman gives a runtime not known to
    // speak JSON no --log and conmon keeps its stderr to itself on success; test/oci/idmapmounts
    // checks its text)
    const own = run(["--rm", "--network=none", tag, "/probe", "write", "/etc/newfile", "x"]);
    assert.match(own.stdout, /^err EACCES/m, own.stdout + own.stderr);
  });
});
