// sysjail-oci under a real engine (podman from Debian, with conmon): the config.json features
// podman turns its own options into: namespaces of another container joined by path, namespaced
// sysctls, devices, and the host network refused.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, REPO, requireRoot, type JailRoot } from "../helpers/index.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");

describe("sysjail-oci under podman (root)", () => {
  let jr: JailRoot;
  const tag = `localhost/sysjail-ocitest:${process.pid}`;
  const names: string[] = [];
  const podman = (args: string[]) => spawnSync("podman", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
  // the host's hard limits are below podman's defaults here: explicit ones, as the acceptance check does
  const run = (args: string[]) => podman(["--runtime", OCI, "run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", ...args]);
  const name = (s: string) => { const n = `ocitest-${process.pid}-${s}`; names.push(n); return n; };

  before(() => {
    requireRoot("sysjail-oci's podman tests");
    assert.equal(spawnSync("podman", ["--version"]).status, 0, "these tests need podman (Debian: apt-get install podman)");
    jr = makeJailRoot(buildProbe());
    const tar = spawnSync("tar", ["-C", jr.path, "-c", "."], { maxBuffer: 64 << 20 });
    const imp = spawnSync("podman", ["import", "-", tag], { input: tar.stdout, encoding: "utf8" });
    assert.equal(imp.status, 0, imp.stderr);
  });
  after(() => {
    for (const n of names) podman(["rm", "-f", "-t", "0", n]);
    podman(["rmi", "-f", tag]);
    jr?.remove();
  });

  it("--network/--uts/--ipc container:X join X's namespaces; --sysctl and --device apply (node and device rule); --network=host is refused", () => {
    // X run by runc
    const infra = name("infra");
    const d = podman(["--runtime", "runc", "run", "-d", "--name", infra, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--network=none", "--hostname", "infrahost", tag, "/probe", "waitfile", "/never"]);
    assert.equal(d.status, 0, d.stderr);
    // X run by sysjail-oci: podman names its namespaces by its state pid, the monitor's; the
    // runtime takes its pid 1's instead (never the host's, which the monitor's are)
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
    const host = run(["--rm", "--name", name("hostnet"), "--network=host", tag, "/probe", "hostname"]);
    assert.notEqual(host.status, 0);
    assert.match(host.stderr, /linux\.namespaces has no network namespace \(the host's network\)/);
    for (const n of [infra, ours]) assert.equal(podman(["rm", "-f", "-t", "0", n]).status, 0);
    const left = podman(["ps", "-a", "--format", "{{.Names}}"]).stdout;
    for (const n of names) assert.doesNotMatch(left, new RegExp(`^${n}$`, "m"), `${n} is gone`);
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
});
