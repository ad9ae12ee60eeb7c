// sysjail-oci under Kubernetes' CRI, without Kubernetes: a containerd of the test's own with the CRI
// plugin on, RuntimeClass handlers "sysjail" (the runc shim with BinaryName = sysjail-oci),
// "sysjail-systemd" (the same with SystemdCgroup) and "runc" (the control), a local image holding
// a static /pause (the sandbox image) and the probe, CNI plugins of the test's own that act only
// inside a pod's network namespace, and the CRI spoken from Node (test/helpers/cri.ts):
// host-network pods and pods with a network of their own, containers joining their namespaces,
// ExecSync, statuses, limits, stop and remove, then nothing left.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { ociImageTar, pidsMentioning, startContainerd, type Containerd } from "../helpers/containerd.js";
import { ContainerState, CriClient, NamespaceMode, PbWriter, pbDecode, pbInt32, pbInt64, pbMap, pbMsg, pbStr, type ContainerConfig, type PodConfig } from "../helpers/cri.js";
import { buildProbe, buildStatic, hostMountsMentioning, makeJailRoot, makeTempDir, procStart, procStatus, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
const JLS = join(REPO, "native", "build", "jls");
const PAUSE_SOURCE = join(REPO, "test", "oci", "fixtures", "pause.c");
const IMAGE = "localhost/sysjail-cri-test:1";
/** containerd's CRI namespace; without a cgroup_parent its containers' cgroupsPath is /k8s.io/ID. */
const K8S = "k8s.io";
/** The pods' cgroup_parent (kubelet's cgroupfs driver gives /kubepods/...): made by the runtime, not beforehand. */
const PARENT = `sjcri-${process.pid}`;
/** The pods' parent slice under kubelet's systemd cgroup driver (no systemd runs: its cgroupfs directory). */
const SLICE = `sjcri${process.pid}.slice`;
const hierarchies = () => ["/sys/fs/cgroup", ...readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h))];
const cgroupDirs = (name: string) => hierarchies().map((h) => join(h, name)).filter((d) => existsSync(d));
const hadK8sCgroups = cgroupDirs(K8S);
const jls = () => spawnSync(JLS, ["-N"], { encoding: "utf8" }).stdout;
const nsOf = (pid: number | "self", type: string) => readlinkSync(`/proc/${pid}/ns/${type}`);
/** The pid in containerd's verbose status JSON (info["info"]). */
const pidOf = (info: Record<string, string>) => Number(JSON.parse(info.info ?? "{}").pid);
/** A cgroup file of PID's CONTROLLER (its v1 hierarchy, else the unified one). */
function cgroupFile(pid: number, controller: string, v1: string, v2: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
  const l1 = lines.find((l) => l.split(":")[1]?.split(",").includes(controller));
  if (l1) return readFileSync(join("/sys/fs/cgroup", controller, l1.split(":")[2]!, v1), "utf8").trim();
  const l2 = lines.find((l) => l.startsWith("0::"))!;
  const base = existsSync("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
  return readFileSync(join(base, l2.slice(3), v2), "utf8").trim();
}
const uids = (pid: number) => procStatus(pid, "Uid")?.trim().split(/\s+/).map(Number) ?? [];
/** A pod's address, inside the network namespace containerd makes for it (nothing on the host). */
const POD_IP = "10.255.0.2";

/** The test's own CNI plugins (containerd 1.6 sets a pod network up only through CNI, and wants
 * an address on eth0): "sjcri-loopback" brings lo up, "sjcri-veth" makes a veth pair with both
 * ends inside the pod's namespace and POD_IP on eth0. Nothing is done outside that namespace. */
function writeCniPlugins(bin: string, conf: string): void {
  const plugin = (name: string, add: string, result: string) => {
    writeFileSync(join(bin, name), [
      "#!/bin/sh",
      `# ${name}: a CNI plugin of sysjail's CRI test (test/oci/cri.test.ts)`,
      'case "$CNI_COMMAND" in',
      `  ADD) nsenter --net="$CNI_NETNS" sh -ec '${add}' >&2 || exit 1`,
      `       printf '${result}\n' "$CNI_IFNAME" "$CNI_NETNS" ;;`,
      "  DEL|CHECK) ;;",
      `  VERSION) echo '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}' ;;`,
      "esac",
      "",
    ].join("\n"), { mode: 0o755 });
  };
  plugin("sjcri-loopback", "ip link set lo up", '{"cniVersion":"0.4.0","interfaces":[{"name":"%s","sandbox":"%s"}]}');
  plugin("sjcri-veth", `ip link add "$CNI_IFNAME" type veth peer name sjcri-peer; ip addr add ${POD_IP}/24 dev "$CNI_IFNAME"; ip link set sjcri-peer up; ip link set "$CNI_IFNAME" up`,
    `{"cniVersion":"0.4.0","interfaces":[{"name":"%s","sandbox":"%s"}],"ips":[{"version":"4","address":"${POD_IP}/24","interface":0}]}`);
  // containerd runs its "loopback" plugin on every pod network besides the configured list
  copyFileSync(join(bin, "sjcri-loopback"), join(bin, "loopback"));
  chmodSync(join(bin, "loopback"), 0o755);
  writeFileSync(join(conf, "10-sjcri.conflist"), JSON.stringify({ cniVersion: "0.4.0", name: "sjcri", plugins: [{ type: "sjcri-veth" }] }));
}

describe("the test's CRI client: protobuf (unit)", () => {
  it("round-trips strings, varints (a negative int32 is ten bytes), maps and embedded messages; a truncated message throws", () => {
    const buf = new PbWriter().str(1, "pod").int(3, -1).int(4, 1n << 40n).map(6, { a: "1", b: "" }).msg(8, new PbWriter().str(1, "/parent")).int(9, 0).str(10, "").finish();
    const m = pbDecode(buf);
    assert.equal(pbStr(m, 1), "pod");
    assert.equal(pbInt32(m, 3), -1);
    assert.equal(pbInt64(m, 4), 1n << 40n);
    assert.deepEqual(pbMap(m, 6), { a: "1", b: "" });
    assert.equal(pbStr(pbMsg(m, 8), 1), "/parent");
    assert.equal(m.has(9) || m.has(10), false, "proto3 defaults are left out");
    assert.equal(buf.subarray(5, 5 + 11).toString("hex"), "18ffffffffffffffffff01", "int32 -1: field 3, ten-byte varint");
    assert.throws(() => pbDecode(buf.subarray(0, buf.length - 1)), /truncated/);
  });
});

describe("sysjail-oci under containerd's CRI plugin (RuntimeClass handlers sysjail and runc)", () => {
  let dir: string;
  let jr: JailRoot;
  let cd: Containerd | undefined;
  let cri: CriClient | undefined;
  const hadRunContainerd = existsSync("/run/containerd");

  before(async () => {
    requireRoot("sysjail-oci's CRI tests");
    for (const cmd of ["containerd", "ctr", "containerd-shim-runc-v2", "runc"]) {
      assert.equal(spawnSync("sh", ["-c", `command -v ${cmd}`]).status, 0, `${cmd} is missing: apt-get install containerd runc (.ci/run does)`);
    }
    // a short path: containerd's socket path must fit a sockaddr_un
    dir = makeTempDir("sjcri-", 0o711, "/tmp");
    jr = makeJailRoot(buildProbe());
    copyFileSync(buildStatic(PAUSE_SOURCE, "pause"), jr.at("pause"));
    chmodSync(jr.at("pause"), 0o755);
    const scratch = join(dir, "image");
    mkdirSync(scratch);
    mkdirSync(join(dir, "cni"));
    mkdirSync(join(dir, "cni-bin"));
    writeCniPlugins(join(dir, "cni-bin"), join(dir, "cni"));
    mkdirSync(join(dir, "logs"));
    ociImageTar(jr.path, scratch, join(dir, "image.tar"), IMAGE, ["/pause"]);
    const P = `[plugins."io.containerd.grpc.v1.cri"`;
    cd = startContainerd(dir, [
      `${P}]`,
      `  sandbox_image = "${IMAGE}"`,
      // the streaming server (unused: ExecSync answers in the call) on loopback, any port
      `  stream_server_address = "127.0.0.1"`,
      `  stream_server_port = "0"`,
      // this host's root may lack CAP_SYS_RESOURCE (a sandbox's -998 then fails under runc):
      // containerd keeps a pod's oom_score_adj at or above its own
      `  restrict_oom_score_adj = true`,
      // a pod's network namespace is pinned in the test's directory, not in /run/netns
      `  netns_mounts_under_state_dir = true`,
      `${P}.containerd]`,
      `  default_runtime_name = "runc"`,
      `${P}.containerd.runtimes.runc]`,
      `  runtime_type = "io.containerd.runc.v2"`,
      `${P}.containerd.runtimes.runc.options]`,
      `  BinaryName = "/usr/sbin/runc"`,
      `  Root = "${dir}/runc"`,
      `${P}.containerd.runtimes.sysjail]`,
      `  runtime_type = "io.containerd.runc.v2"`,
      // the pod's and container's annotations of this prefix are passed into config.json
      `  pod_annotations = ["sysjail.test/*", "sysjail.ids"]`,
      `  container_annotations = ["sysjail.test/*", "sysjail.ids"]`,
      `${P}.containerd.runtimes.sysjail.options]`,
      `  BinaryName = "${OCI}"`,
      `  Root = "${dir}/sj"`,
      // kubelet's systemd cgroup driver: cgroupsPath "SLICE:cri-containerd:ID", --systemd-cgroup
      `${P}.containerd.runtimes.sysjail-systemd]`,
      `  runtime_type = "io.containerd.runc.v2"`,
      `${P}.containerd.runtimes.sysjail-systemd.options]`,
      `  BinaryName = "${OCI}"`,
      `  Root = "${dir}/sj"`,
      `  SystemdCgroup = true`,
      // pods with a network of their own: the test's CNI plugins
      `${P}.cni]`,
      `  bin_dir = "${dir}/cni-bin"`,
      `  conf_dir = "${dir}/cni"`,
    ], true);
    const imp = cd.ctr(K8S, ["image", "import", join(dir, "image.tar")]);
    assert.equal(imp.status, 0, imp.stderr);
    cri = await CriClient.connect(cd.sock);
  });

  after(async () => {
    if (cri) {
      // what a failed test left: every pod stopped and removed through the CRI (their containers with them)
      try {
        for (const p of await cri.listPodSandbox()) {
          await cri.stopPodSandbox(p).catch(() => undefined);
          await cri.removePodSandbox(p).catch(() => undefined);
        }
      } catch { /* containerd gone: the runtimes' roots below */ }
      cri.close();
    }
    await cd?.stop();
    if (dir) {
      // containers the shims could not delete (a killed shim leaves its runtime's container running)
      for (const [bin, root] of [[OCI, join(dir, "sj", K8S)], ["/usr/sbin/runc", join(dir, "runc", K8S)]] as const) {
        if (!existsSync(root)) continue;
        for (const c of readdirSync(root)) spawnSync(bin, ["--root", root, "delete", "--force", c], { stdio: "ignore", timeout: 30_000 });
      }
      // rootfs overlays and sandbox /dev/shm tmpfs of containerd's are detached by removeTree
      removeTree(dir);
    }
    jr?.remove();
    if (!hadRunContainerd) for (const d of ["/run/containerd/fifo", "/run/containerd/s", "/run/containerd"]) try { rmdirSync(d); } catch { /* in use or not ours */ }
    // the parents runtimes leave (as runc does): the pods' cgroup_parent, and containerd's
    // namespace directory when this test made it; only when empty
    for (const d of [...cgroupDirs(PARENT), ...cgroupDirs(SLICE), ...cgroupDirs(K8S).filter((d) => !hadK8sCgroups.includes(d))]) try { rmdirSync(d); } catch { /* in use */ }
  });

  /** A host-network pod (kubelet leaves its hostname out) or, with HOSTNAME, a pod with a network
   * and uts namespace of its own; its containers below PARENT. */
  const podConfig = (name: string, podHostname?: string): PodConfig => ({
    name, uid: `${name}-${process.pid}`, namespace: "sysjail-test", logDirectory: join(dir, "logs", name),
    cgroupParent: `/${PARENT}`, namespaces: { network: podHostname ? NamespaceMode.POD : NamespaceMode.NODE },
    hostname: podHostname, annotations: { "sysjail.test/pod": name },
  });

  /** Runs BODY with a pod of CONFIG under HANDLER; the pod (and its containers) is stopped and
   * removed afterwards also when BODY failed (both calls are no-ops for a removed pod). */
  async function inPod(config: PodConfig, handler: string, body: (pod: string) => Promise<void>) {
    const pod = await cri!.runPodSandbox(config, handler);
    try {
      await body(pod);
    } finally {
      await cri!.stopPodSandbox(pod).catch(() => undefined);
      await cri!.removePodSandbox(pod).catch(() => undefined);
    }
  }

  /** Polls ContainerStatus until the container has exited (a deadline only against a hang). */
  async function exited(id: string) {
    for (let i = 0; i < 600; i++) {
      const s = await cri!.containerStatus(id);
      if (s.state === ContainerState.EXITED) return s;
      spawnSync("sleep", ["0.05"]);
    }
    assert.fail(`container ${id} did not exit`);
  }

  /** Monitors and inits (pid and start time) of sysjail-oci containers, from their runtime state. */
  const tracked: [number, number][] = [];
  const track = (...ids: string[]) => {
    for (const id of ids) {
      const f = readFileSync(join(dir, "sj", K8S, id, "procs"), "utf8").trim().split(/\s+/).map(Number);
      for (const [pid, start] of [[f[0]!, f[1]!], [f[2]!, f[3]!]] as const) {
        assert.equal(procStart(pid), start, `${id}: procs names a live process ${pid}`);
        tracked.push([pid, start]);
      }
    }
  };

  /** Nothing of these ids is left: runtime state, jail, processes (also the tracked monitors and
   * inits), cgroups, mounts. */
  function nothingLeft(runtimeRoot: string, ids: string[]) {
    for (const [pid, start] of tracked.splice(0)) assert.notEqual(procStart(pid), start, `process ${pid} (a monitor or init) is gone`);
    assert.deepEqual(existsSync(runtimeRoot) ? readdirSync(runtimeRoot) : [], [], "the runtime root is empty");
    const listed = jls();
    for (const id of ids) {
      assert.doesNotMatch(listed, new RegExp(`\\b${id}\\b`), `jail ${id} is gone`);
      assert.deepEqual(pidsMentioning(id), [], `no process names ${id} (monitor, reaper, shim)`);
      assert.deepEqual(hierarchies().map((h) => join(h, PARENT, id)).filter((d) => existsSync(d)), [], `no cgroup of ${id}`);
      assert.deepEqual(hostMountsMentioning(id), [], `no mount of ${id}`);
    }
    // nor of containerd's for the pods (rootfs overlays, /dev/shm, pinned network namespaces)
    assert.deepEqual(hostMountsMentioning(dir), [], "no mount below the test's directory");
  }

  it("handler sysjail: the sandbox and its containers are jails; ExecSync, exit codes, stop and remove; nothing left", async () => {
    const v = await cri!.version();
    assert.equal(v.runtimeName, "containerd");
    assert.equal(v.runtimeApiVersion, "v1");

    const podCfg = podConfig("sjpod");
    await inPod(podCfg, "sysjail", async (pod) => {
      const ps = await cri!.podSandboxStatus(pod);
      assert.equal(ps.state, 0, "SANDBOX_READY");
      const info = JSON.parse(ps.info.info ?? "{}");
      assert.equal(info.runtimeHandler, "sysjail");
      const pausePid = pidOf(ps.info);
      // the sandbox ("pause") is a jail named by its id, pid 1 of its own pid namespace, in a user
      // namespace of its own (never host root), in the host's network and uts (a host-network pod)
      assert.match(jls(), new RegExp(`\\b${pod}\\b`), "jls lists the sandbox");
      assert.match(procStatus(pausePid, "NSpid") ?? "", /\s1$/, "pause is pid 1 of its pid namespace");
      assert.notEqual(nsOf(pausePid, "user"), nsOf("self", "user"));
      assert.notEqual(uids(pausePid)[0], 0, "the sandbox's root is not host root");
      assert.equal(nsOf(pausePid, "net"), nsOf("self", "net"));
      assert.equal(nsOf(pausePid, "uts"), nsOf("self", "uts"));
      assert.notEqual(nsOf(pausePid, "ipc"), nsOf("self", "ipc"));
      assert.ok(readFileSync(`/proc/${pausePid}/cgroup`, "utf8").includes(`/${PARENT}/${pod}\n`), "the sandbox's cgroup is containerd's cgroupsPath below the pod's parent");

      // a container sharing the pod's pid and ipc namespaces (shareProcessNamespace), named by the
      // sandbox's /proc/PID/ns paths; its network and uts paths are the host's (left out, no privilege there)
      const mainCfg: ContainerConfig = {
        name: "main", image: IMAGE, command: ["/probe", "waitfile", `/dev/shm/sjcri-done`], logPath: "main.log",
        envs: { SJ_CRI: "seen" }, namespaces: { network: NamespaceMode.NODE, pid: NamespaceMode.POD }, annotations: { "sysjail.test/container": "main" },
      };
      const main = await cri!.createContainer(pod, mainCfg, podCfg);
      await cri!.startContainer(main);
      track(pod, main);
      const st = await cri!.containerStatus(main);
      assert.equal(st.state, ContainerState.RUNNING);
      const pid = pidOf(st.info);
      // containerd's annotations and the ones its runtime handler passes on are in the runtime's state
      const state = spawnSync(OCI, ["--root", join(dir, "sj", K8S), "state", main], { encoding: "utf8" });
      assert.equal(state.status, 0, state.stderr);
      const ann = JSON.parse(state.stdout).annotations as Record<string, string>;
      assert.equal(ann["io.kubernetes.cri.container-type"], "container");
      assert.equal(ann["io.kubernetes.cri.sandbox-id"], pod);
      assert.equal(ann["sysjail.test/container"], "main");
      assert.equal(ann["sysjail.test/pod"], "sjpod");
      assert.match(jls(), new RegExp(`\\b${main}\\b`), "jls lists the container as a jail");
      assert.equal(nsOf(pid, "pid"), nsOf(pausePid, "pid"), "the pod's pid namespace");
      assert.equal(nsOf(pid, "ipc"), nsOf(pausePid, "ipc"), "the pod's ipc namespace");
      assert.equal(nsOf(pid, "uts"), nsOf("self", "uts"));
      assert.equal(nsOf(pid, "net"), nsOf("self", "net"));
      assert.notEqual(nsOf(pid, "user"), nsOf("self", "user"), "a user namespace of its own");
      assert.notEqual(nsOf(pid, "user"), nsOf(pausePid, "user"));
      assert.notEqual(uids(pid)[0], 0, "the container's root is not host root");
      assert.equal(procStatus(pid, "Seccomp")?.trim(), "2", "sysjail's filter is on");
      assert.equal(BigInt(`0x${procStatus(pid, "CapBnd")?.trim()}`) & (1n << 21n), 0n, "no CAP_SYS_ADMIN in its bounding set");
      assert.ok(readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(`/${PARENT}/${main}\n`), "the container's cgroup is below the pod's parent");

      const h = await cri!.execSync(main, ["/probe", "hostname"], 30);
      assert.deepEqual(h, { stdout: `ok ${hostname()}\n`, stderr: "", exitCode: 0 }, "the host's uts namespace (host network)");
      const p = await cri!.execSync(main, ["/probe", "pid"], 30);
      const inPod = /^ok (\d+) 0\n$/.exec(p.stdout);
      assert.ok(inPod && Number(inPod[1]) > 1, `the exec'd process is in the pod's pid namespace, where pause is 1: ${p.stdout}`);
      assert.match((await cri!.execSync(main, ["/probe", "env"], 30)).stdout, /^env SJ_CRI=seen$/m);
      assert.equal((await cri!.execSync(main, ["/probe", "status", "Seccomp"], 30)).stdout, "ok 2\n", "the exec'd process is under the jail's filter too");
      assert.equal((await cri!.execSync(main, ["/probe", "exit", "3"], 30)).exitCode, 3);
      // the pod's /dev/shm is shared: the file ends the container's command
      assert.equal((await cri!.execSync(main, ["/probe", "write", "/dev/shm/sjcri-done", "x"], 30)).exitCode, 0);
      const done = await exited(main);
      assert.equal(done.exitCode, 0);
      assert.equal(done.reason, "Completed");
      assert.ok(done.finishedAt > 0n);
      assert.match(readFileSync(join(dir, "logs", "sjpod", "main.log"), "utf8"), /stdout F waiting\n.*stdout F ok 0\n/s, "the container's output reached its CRI log");
      // StopContainer of an exited container is done (the shim's kill meets "container not running")
      await cri!.stopContainer(main, 10);

      // a container with its own pid namespace (kubelet's default), stopped with the grace period 0: KILL
      const ownCfg: ContainerConfig = {
        name: "own", image: IMAGE, command: ["/probe", "waitfile", `/never-${process.pid}`], namespaces: { network: NamespaceMode.NODE, pid: NamespaceMode.CONTAINER },
        resources: { memoryLimit: 64 << 20, cpuShares: 512, cpuPeriod: 100_000, cpuQuota: 50_000 },
        runAsUser: 1000, runAsGroup: 1000, readonlyRootfs: true,
      };
      const own = await cri!.createContainer(pod, ownCfg, podCfg);
      await cri!.startContainer(own);
      track(own);
      const ownPid = pidOf((await cri!.containerStatus(own)).info);
      assert.match(procStatus(ownPid, "NSpid") ?? "", /\s1$/, "pid 1 of its own pid namespace");
      assert.notEqual(nsOf(ownPid, "pid"), nsOf(pausePid, "pid"));
      assert.equal(nsOf(ownPid, "ipc"), nsOf(pausePid, "ipc"));
      assert.match((await cri!.execSync(own, ["/probe", "pid"], 30)).stdout, /^ok \d+ 0\n$/);
      // securityContext runAsUser/runAsGroup (its command and what ExecSync runs) and readOnlyRootFilesystem
      const base = Number(readFileSync(`/proc/${ownPid}/uid_map`, "utf8").trim().split(/\s+/)[1]);
      assert.deepEqual(uids(ownPid), [base + 1000, base + 1000, base + 1000, base + 1000], "uid 1000 of the container's own range");
      assert.equal((await cri!.execSync(own, ["/probe", "ids"], 30)).stdout, "ok 1000 1000 1000 1000 1000 1000\n");
      assert.match((await cri!.execSync(own, ["/probe", "write", "/sjcri-ro", "x"], 30)).stdout, /^err EROFS/);
      // ContainerStats: containerd reads them from the container's cgroups
      const stats = await cri!.containerStats(own);
      assert.ok(stats.cpuTimestamp > 0n && stats.cpuNanoseconds !== undefined && stats.cpuNanoseconds > 0n, `cpu usage: ${stats.cpuNanoseconds}`);
      assert.ok(stats.workingSetBytes !== undefined, "a memory working set");
      // kubelet's limits at create, and UpdateContainerResources (the shim's `update -r -`)
      assert.equal(cgroupFile(ownPid, "memory", "memory.limit_in_bytes", "memory.max"), String(64 << 20));
      assert.match(cgroupFile(ownPid, "cpu", "cpu.cfs_quota_us", "cpu.max"), /^50000( 100000)?$/);
      const shares = () => cgroupFile(ownPid, "cpu", "cpu.shares", "cpu.weight");
      assert.match(shares(), /^(512|20)$/, "cpu shares 512 (v1), weight 20 (v2)");
      await cri!.updateContainerResources(own, { memoryLimit: 128 << 20, cpuShares: 1024, cpuPeriod: 100_000, cpuQuota: 20_000, cpusetCpus: "0" });
      assert.equal(cgroupFile(ownPid, "memory", "memory.limit_in_bytes", "memory.max"), String(128 << 20));
      assert.match(cgroupFile(ownPid, "cpu", "cpu.cfs_quota_us", "cpu.max"), /^20000( 100000)?$/);
      assert.match(shares(), /^(1024|39)$/, "cpu shares 1024 (v1), weight 39 (v2)");
      assert.equal(cgroupFile(ownPid, "cpuset", "cpuset.cpus", "cpuset.cpus"), "0");
      await cri!.stopContainer(own, 0);
      const killed = await exited(own);
      assert.equal(killed.exitCode, 137, "KILL");

      await cri!.removeContainer(main);
      await cri!.removeContainer(own);
      await cri!.stopPodSandbox(pod);
      await cri!.removePodSandbox(pod);
      assert.deepEqual(await cri!.listPodSandbox(), []);
      nothingLeft(join(dir, "sj", K8S), [pod, main, own]);
    });
  });

  it("handler sysjail, a pod with a network of its own: its containers join the sandbox's network, uts, ipc and pid namespaces by path; the pod's sysctls are set in its network namespace", async () => {
    // pod-level sysctls (securityContext.sysctls) go into the sandbox's config.json, whose network
    // namespace containerd made and passes by path: the monitor writes them there
    const sysctls = { "net.ipv4.ip_unprivileged_port_start": "81", "net.ipv4.ping_group_range": "0 2147483647" };
    const hostValues = Object.keys(sysctls).map((k) => readFileSync(`/proc/sys/${k.replace(/\./g, "/")}`, "utf8"));
    const podCfg = { ...podConfig("netpod", "sjpod"), sysctls };
    await inPod(podCfg, "sysjail", async (pod) => {
      const ps = await cri!.podSandboxStatus(pod);
      assert.equal(ps.state, 0, "SANDBOX_READY");
      assert.equal(ps.ip, POD_IP, "the address the CNI plugin gave");
      const pausePid = pidOf(ps.info);
      for (const t of ["net", "uts", "ipc", "pid", "user"]) assert.notEqual(nsOf(pausePid, t), nsOf("self", t), `the sandbox's own ${t} namespace`);
      const inPodNet = (k: string) => spawnSync("nsenter", [`--net=/proc/${pausePid}/ns/net`, "cat", `/proc/sys/${k.replace(/\./g, "/")}`], { encoding: "utf8" }).stdout;
      assert.deepEqual(Object.keys(sysctls).map(inPodNet), ["81\n", "0\t2147483647\n"], "the pod's sysctls, in the pod's network namespace");
      assert.deepEqual(Object.keys(sysctls).map((k) => readFileSync(`/proc/sys/${k.replace(/\./g, "/")}`, "utf8")), hostValues, "the host's own are unchanged");
      const c = await cri!.createContainer(pod, { name: "main", image: IMAGE, command: ["/probe", "waitfile", `/never-${process.pid}`], namespaces: { network: NamespaceMode.POD, pid: NamespaceMode.POD } }, podCfg);
      await cri!.startContainer(c);
      track(pod, c);
      const pid = pidOf((await cri!.containerStatus(c)).info);
      for (const t of ["net", "uts", "ipc", "pid"]) assert.equal(nsOf(pid, t), nsOf(pausePid, t), `the pod's ${t} namespace`);
      assert.notEqual(nsOf(pid, "user"), nsOf(pausePid, "user"), "a user namespace of its own");
      assert.equal((await cri!.execSync(c, ["/probe", "hostname"], 30)).stdout, "ok sjpod\n", "the pod's hostname");
      assert.equal((await cri!.execSync(c, ["/probe", "sethostname-same"], 30)).stdout.slice(0, 9), "err EPERM", "the pod's uts namespace is not the container's to change");
      const ifaces = (await cri!.execSync(c, ["/probe", "ifaces"], 30)).stdout;
      assert.match(ifaces, /^ifaces .*\beth0:up\b/, ifaces);
      assert.match(ifaces, /\blo:up\b/, ifaces);
      await cri!.stopContainer(c, 0);
      assert.equal((await exited(c)).exitCode, 137);
      await cri!.removeContainer(c);
      await cri!.stopPodSandbox(pod);
      await cri!.removePodSandbox(pod);
      nothingLeft(join(dir, "sj", K8S), [pod, c]);
    });
  });

  it("handler sysjail, a pod annotated sysjail.ids=host (pod_annotations): its containers are on the host's ids and write their overlay image; a hostNetwork pod so annotated is refused", async () => {
    const podCfg = { ...podConfig("hostids", "sjhostids"), annotations: { "sysjail.test/pod": "hostids", "sysjail.ids": "host" } };
    await inPod(podCfg, "sysjail", async (pod) => {
      const c = await cri!.createContainer(pod, { name: "main", image: IMAGE, command: ["/probe", "waitfile", `/never-${process.pid}`], namespaces: { network: NamespaceMode.POD, pid: NamespaceMode.POD } }, podCfg);
      await cri!.startContainer(c);
      track(pod, c);
      assert.equal((await cri!.execSync(c, ["/probe", "read", "/proc/self/uid_map"], 30)).stdout.trim().split(/\s+/).join(" "), "ok 0 0 4294967295");
      assert.equal((await cri!.execSync(c, ["/probe", "write", "/etc/hostids-new", "x"], 30)).stdout, "ok 1\n", "containerd's overlay root is container root's");
      assert.match((await cri!.execSync(c, ["/probe", "rewrite", "/proc/sys/kernel/core_pattern"], 30)).stdout, /^err (EROFS|EACCES|EPERM)/);
      await cri!.stopContainer(c, 0);
      await cri!.removeContainer(c);
      await cri!.stopPodSandbox(pod);
      await cri!.removePodSandbox(pod);
      nothingLeft(join(dir, "sj", K8S), [pod, c]);
    });
    // the host's network: the sandbox's create fails in one line naming the rule, nothing left
    const hostCfg = { ...podConfig("hostidsnet"), annotations: { "sysjail.ids": "host" } };
    await assert.rejects(cri!.runPodSandbox(hostCfg, "sysjail"), /sysjail\.ids=host needs the container's own pid, ipc and network namespaces/);
    assert.deepEqual(existsSync(join(dir, "sj", K8S)) ? readdirSync(join(dir, "sj", K8S)) : [], []);
  });

  it("handler sysjail, hostNetwork + hostPID + hostIPC (a node agent's pod): the host's namespaces without privilege there", async () => {
    const podCfg = { ...podConfig("hostpod"), namespaces: { network: NamespaceMode.NODE, pid: NamespaceMode.NODE, ipc: NamespaceMode.NODE } };
    await inPod(podCfg, "sysjail", async (pod) => {
      const pausePid = pidOf((await cri!.podSandboxStatus(pod)).info);
      const c = await cri!.createContainer(pod, { name: "agent", image: IMAGE, command: ["/probe", "waitfile", `/never-${process.pid}`], namespaces: podCfg.namespaces }, podCfg);
      await cri!.startContainer(c);
      track(pod, c);
      const pid = pidOf((await cri!.containerStatus(c)).info);
      for (const p of [pausePid, pid]) {
        for (const t of ["net", "uts", "ipc", "pid"]) assert.equal(nsOf(p, t), nsOf("self", t), `the host's ${t} namespace`);
        for (const t of ["user", "mnt", "cgroup"]) assert.notEqual(nsOf(p, t), nsOf("self", t), `its own ${t} namespace`);
      }
      assert.match(jls(), new RegExp(`\\b${c}\\b`), "still a jail");
      const init = await cri!.execSync(c, ["/probe", "cat", "/proc/1/cmdline"], 30);
      assert.equal(init.stdout, readFileSync("/proc/1/cmdline", "utf8"), "a procfs of the host's pid namespace");
      assert.match((await cri!.execSync(c, ["/probe", "sethostname-same"], 30)).stdout, /^err EPERM/, "the host's hostname is not the container's to change");
      assert.match((await cri!.execSync(c, ["/probe", "kill", "1", "0"], 30)).stdout, /^err EPERM/, "no signal to the host's pid 1");
      await cri!.stopContainer(c, 0);
      assert.equal((await exited(c)).exitCode, 137);
      await cri!.removeContainer(c);
      await cri!.stopPodSandbox(pod);
      await cri!.removePodSandbox(pod);
      nothingLeft(join(dir, "sj", K8S), [pod, c]);
    });
  });

  it("handler sysjail with SystemdCgroup (kubelet's systemd driver): the slice:prefix:name cgroupsPath is that unit's cgroupfs directory", async () => {
    const podCfg = { ...podConfig("slicepod"), cgroupParent: SLICE };
    await inPod(podCfg, "sysjail-systemd", async (pod) => {
      const pausePid = pidOf((await cri!.podSandboxStatus(pod)).info);
      assert.ok(readFileSync(`/proc/${pausePid}/cgroup`, "utf8").includes(`/${SLICE}/cri-containerd-${pod}.scope\n`), readFileSync(`/proc/${pausePid}/cgroup`, "utf8"));
      const c = await cri!.createContainer(pod, { name: "main", image: IMAGE, command: ["/probe", "waitfile", `/never-${process.pid}`], namespaces: { network: NamespaceMode.NODE, pid: NamespaceMode.POD } }, podCfg);
      await cri!.startContainer(c);
      track(pod, c);
      const pid = pidOf((await cri!.containerStatus(c)).info);
      assert.ok(readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(`/${SLICE}/cri-containerd-${c}.scope\n`), readFileSync(`/proc/${pid}/cgroup`, "utf8"));
      assert.equal((await cri!.execSync(c, ["/probe", "exit", "3"], 30)).exitCode, 3);
      await cri!.stopContainer(c, 0);
      assert.equal((await exited(c)).exitCode, 137);
      await cri!.removeContainer(c);
      await cri!.stopPodSandbox(pod);
      await cri!.removePodSandbox(pod);
      nothingLeft(join(dir, "sj", K8S), [pod, c]);
      assert.deepEqual(hierarchies().map((h) => join(h, SLICE)).filter((d) => existsSync(d) && readdirSync(d, { withFileTypes: true }).some((e) => e.isDirectory())), [], "no scope left below the slice");
    });
  });

  it("handler runc (the control): the same pod and container; its root is host root in the host's user namespace", async () => {
    const podCfg = podConfig("runcpod");
    await inPod(podCfg, "runc", async (pod) => {
      const c = await cri!.createContainer(pod, { name: "main", image: IMAGE, command: ["/probe", "waitfile", "/dev/shm/sjcri-done"], namespaces: { network: NamespaceMode.NODE, pid: NamespaceMode.POD } }, podCfg);
      await cri!.startContainer(c);
      const pid = pidOf((await cri!.containerStatus(c)).info);
      assert.equal(nsOf(pid, "user"), nsOf("self", "user"), "runc: the host's user namespace");
      assert.equal(uids(pid)[0], 0, "runc: host root");
      assert.doesNotMatch(jls(), new RegExp(`\\b${c}\\b`), "a runc container is no jail");
      assert.equal((await cri!.execSync(c, ["/probe", "hostname"], 30)).stdout, `ok ${hostname()}\n`);
      assert.equal((await cri!.execSync(c, ["/probe", "exit", "3"], 30)).exitCode, 3);
      assert.equal((await cri!.execSync(c, ["/probe", "write", "/dev/shm/sjcri-done", "x"], 30)).exitCode, 0);
      assert.equal((await exited(c)).exitCode, 0);
      await cri!.stopContainer(c, 10);
      await cri!.removeContainer(c);
      await cri!.stopPodSandbox(pod);
      await cri!.removePodSandbox(pod);
      nothingLeft(join(dir, "runc", K8S), [pod, c]);
    });
  });
});
