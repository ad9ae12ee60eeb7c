// sysjail-oci linux.sysctl of a namespace joined by path (podman's and containerd's netns): the
// monitor writes them in THAT namespace before the command runs; the host's own values never change,
// a path naming the runtime's own namespace is refused, a value the kernel refuses is one line.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { ociFileCli } from "../helpers/ocibundle.js";
import { JOINABLE, ociJail, patchPlan, sysctlOps } from "../../src/oci/translate.js";
import { op, type PlanOp } from "../../src/plan/types.js";
import { HelperRun, type HelperEvent } from "../../src/helper/launch.js";
import { prepare } from "../../src/jail/prepare.js";
import { baseSpec, validateSpec } from "../../src/spec/validate.js";
import { PING_GROUP_RANGE as PING } from "../../src/oci/sysctlids.js";

const NET = JOINABLE.network!, IPC = JOINABLE.ipc!;
const PORT = "/proc/sys/net/ipv4/ip_unprivileged_port_start";

describe("sysjail-oci: sysctls of joined namespaces (unit)", () => {
  it("the container's own namespace: the init writes it; a joined one: the monitor (nsSysctl); the runtime's own: refused", () => {
    const cfg = (sysctl: Record<string, string>) => ({ ociVersion: "1.2.0", linux: { sysctl } });
    const joins: [number, string][] = [[NET, "/run/netns/x"]];
    assert.deepEqual(sysctlOps(cfg({ "net.ipv4.ping_group_range": "0 0", "kernel.shmmni": "9" }), joins).map((o) => [o.op, ...o.args]),
      [["nsSysctl", String(NET), PING, "0 0"], ["sysctl", "/proc/sys/kernel/shmmni", "9"]]);
    assert.deepEqual(sysctlOps(cfg({ "fs/mqueue/msg_max": "20" }), [[IPC, "/x"]]).map((o) => [o.op, ...o.args]), [["nsSysctl", String(IPC), "/proc/sys/fs/mqueue/msg_max", "20"]]);
    assert.throws(() => sysctlOps(cfg({ "net.ipv4.ping_group_range": "0 0" }), [], NET), /linux\.sysctl: net\.ipv4\.ping_group_range belongs to the runtime's own \(the host's\) namespace/);
    assert.throws(() => sysctlOps(cfg({ "vm.swappiness": "1" }), joins), /is not a namespaced sysctl/, "a joined namespace allows no host-wide name");
    assert.throws(() => sysctlOps(cfg({ "net.ipv4.ping_group_range": "0\n0" }), joins), /must be a one-line string/);
  });

  it("a path naming the runtime's own network namespace is that namespace left out: its sysctls are refused", () => {
    const base = { ociVersion: "1.2.0", root: { path: "/r" }, process: { args: ["/probe"] } };
    const ns = (path: string) => [{ type: "mount" }, { type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "network", path }];
    assert.throws(() => ociJail("h1", { ...base, linux: { namespaces: ns(`/proc/${process.pid}/ns/net`), sysctl: { "net.ipv4.ip_unprivileged_port_start": "0" } } }, "/r", () => undefined),
      /linux\.sysctl: net\.ipv4\.ip_unprivileged_port_start belongs to the runtime's own \(the host's\) namespace/);
  });

  it("places the monitor's sysctls right after the joins, the init's before pivot", () => {
    const cfg = {
      ociVersion: "1.2.0", root: { path: "/r" }, process: { args: ["/probe"] },
      linux: { namespaces: [{ type: "pid" }, { type: "mount" }, { type: "network", path: "/run/netns/none-such" }, { type: "ipc" }, { type: "uts" }], sysctl: { "net.ipv4.ping_group_range": "0 0", "kernel.msgmax": "9000" } },
    };
    const { patch } = ociJail("c3", cfg, "/r", () => undefined);
    const plan = { mode: "run" as const, flags: 0, ops: [op("clone", [0x7c020000]), op("root", ["/r"]), op("pivot"), op("loUp"), op("exec", ["/probe", "/probe"])] };
    const ids = { uidMap: "", gidMap: "", setgroups: "allow" as const, count: 65536, hostBase: 100000, rootless: false };
    const out = patchPlan({ ...plan, ops: [...plan.ops, op("gidMap", ["0 100000 65536\n"])] }, patch, ids, undefined);
    assert.deepEqual(out.ops.map((o) => o.op), ["clone", "nsJoin", "nsSysctl", "root", "sysctl", "pivot", "exec", "gidMap"]);
    assert.deepEqual(out.ops[2]!.args, [String(NET), PING, "100000 100000"], "the container's gid 0, as the monitor writes it");
  });
});

describe("sysjail-oci: sysctls of joined namespaces (root)", () => {
  let jr: JailRoot;
  let state: string;
  let work: string;
  const tag = `ocisysctl-${process.pid}`;
  const netns = [`${tag}-a`];
  const ids: string[] = [];
  let ipcFile = "";
  let ipcCheck = "";
  const id = (s: string) => { const v = `${tag}-${s}`; ids.push(v); return v; };
  /** sysjail-oci ARGS, output through a file (create's monitor would keep a pipe open). */
  const oci = ociFileCli(() => state, () => work);
  const bundle = (name: string, args: string[], linux: Record<string, unknown>) => {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "sysctlbox",
      process: { args, env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux,
    }));
    return dir;
  };
  const ns = (type: string, path: string) => ["pid", "mount", "uts", "ipc", "network"].map((t) => (t === type ? { type: t, path } : { type: t }));
  const host = (p: string) => readFileSync(p, "utf8");
  const inNetns = (name: string, p: string) => spawnSync("ip", ["netns", "exec", name, "cat", p], { encoding: "utf8" }).stdout;

  before(() => {
    requireRoot("sysjail-oci's sysctl tests");
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("sysjail-oci-sysctl-state-", 0o700);
    work = makeTempDir("sysjail-oci-sysctl-work-");
    for (const n of netns) assert.equal(spawnSync("ip", ["netns", "add", n]).status, 0, `ip netns add ${n}`);
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    for (const n of netns) spawnSync("ip", ["netns", "del", n]);
    if (ipcFile) spawnSync("umount", [ipcFile]);
    if (ipcCheck) spawnSync("umount", [ipcCheck]);
    jr?.remove();
    removeTree(state);
    removeTree(work);
  });

  it("a network namespace joined by path: ping_group_range (the container's gids) and ip_unprivileged_port_start are set in it, the host's are unchanged", () => {
    const before0 = [host(PING), host(PORT)];
    const c = id("net");
    const r = oci(["create", "--bundle", bundle("net", ["/probe", "waitfile", "/never"], {
      namespaces: ns("network", `/run/netns/${netns[0]}`),
      sysctl: { "net.ipv4.ping_group_range": "7 4242", "net/ipv4/ip_unprivileged_port_start": "555" },
    }), c]);
    assert.equal(r.status, 0, r.out);
    const initPid = (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
    const [inside, outside] = readFileSync(`/proc/${initPid}/gid_map`, "utf8").trim().split(/\s+/).map(Number);
    assert.equal(inside, 0);
    assert.equal(statSync(`/proc/${initPid}/ns/net`).ino, statSync(`/run/netns/${netns[0]}`).ino, "the container is in the joined namespace");
    assert.equal(inNetns(netns[0]!, PING), `${outside! + 7}\t${outside! + 4242}\n`, "set in that namespace, as the container's gids");
    assert.equal(inNetns(netns[0]!, PORT), "555\n");
    assert.equal(oci(["start", c]).status, 0);
    assert.equal(oci(["exec", c, "/probe", "read", PING]).out, "ok 7\t4242\n", "the container reads its own gids back");
    assert.deepEqual([host(PING), host(PORT)], before0, "the host's own values are unchanged");
    assert.equal(oci(["delete", "--force", c]).status, 0);
    assert.equal(existsSync(join(state, c)), false, "nothing left in --root");
  });

  it("a value the kernel refuses in the joined namespace: one line naming the sysctl, nothing left", () => {
    const before0 = inNetns(netns[0]!, PORT);
    for (const [name, sysctl, errno] of [
      ["netbad", { "net.ipv4.ip_unprivileged_port_start": "99999999" }, "EINVAL"],
      ["netnone", { "net.ipv4.no_such_sysctl": "1" }, "ENOENT"],
    ] as const) {
      const c = id(name);
      const r = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], { namespaces: ns("network", `/run/netns/${netns[0]}`), sysctl }), c]);
      assert.equal(r.status, 1, r.out);
      assert.equal(r.out.trim().split("\n").length, 1, r.out);
      assert.match(r.out, new RegExp(`^sysjail-oci: .*ns-sysctl /proc/sys/net/ipv4/${Object.keys(sysctl)[0]!.split(".").pop()}: ${errno}`));
      assert.equal(existsSync(join(state, c)), false, "nothing left in --root");
    }
    assert.equal(inNetns(netns[0]!, PORT), before0, "the namespace keeps its value");
  });

  it("the runtime's own network namespace named by path, with a net sysctl: refused in one line, nothing left", () => {
    const before0 = host(PORT);
    const c = id("hostnet");
    const r = oci(["create", "--bundle", bundle("hostnet", ["/probe", "pid"], {
      namespaces: ns("network", `/proc/${process.pid}/ns/net`), sysctl: { "net.ipv4.ip_unprivileged_port_start": "0" },
    }), c]);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /^sysjail-oci: linux\.sysctl: net\.ipv4\.ip_unprivileged_port_start belongs to the runtime's own \(the host's\) namespace, which the container shares: a container never changes the host's settings\n$/);
    assert.equal(existsSync(join(state, c)), false, "nothing left in --root");
    assert.equal(host(PORT), before0);
  });

  it("the helper re-checks each nsSysctl: a type the plan does not join, a path outside that type's /proc/sys or with '..', refused before anything runs", async () => {
    const s = validateSpec(Object.assign(baseSpec("/", `${tag}-chk`), { command: ["/bin/true"], env: { PATH: "/usr/bin:/bin" } }));
    const plan = (await prepare(s, { dryRun: true })).plan;
    // each value is what the runtime's own namespace (the host's) holds there: a broken check
    // that wrote it there would change nothing
    const own = (path: string) => host(path.replace("/net/../", "/")).trim();
    const joined = (path: string, flag = NET) => (ops: PlanOp[]) => ops.flatMap((o) => (o.op === "clone"
      ? [op("clone", [Number(o.args[0]) & ~NET]), op("nsJoin", [NET, `/run/netns/${netns[0]}`]), op("nsSysctl", [flag, path, own(path)])]
      : o.op === "loUp" ? [] : [o]));
    // an ipc namespace of the test's own, joined by path, and a host-wide name under /proc/sys/kernel
    // given its own value (a broken check writes back what is there)
    ipcCheck = join(work, "ipcns-check");
    writeFileSync(ipcCheck, "");
    assert.equal(spawnSync("unshare", [`--ipc=${ipcCheck}`, "true"]).status, 0, "unshare --ipc");
    const aslr = host("/proc/sys/kernel/randomize_va_space").trim();
    const joinedIpc = (path: string, value: string) => (ops: PlanOp[]) => ops.flatMap((o) => (o.op === "clone"
      ? [op("clone", [Number(o.args[0]) & ~IPC]), op("nsJoin", [IPC, ipcCheck]), op("nsSysctl", [IPC, path, value])]
      : [o]));
    const swappiness = host("/proc/sys/vm/swappiness");
    for (const [what, change] of [
      ["a host-wide kernel name for a joined ipc namespace", joinedIpc("/proc/sys/kernel/randomize_va_space", aslr)],
      ["a kernel name that only starts as an ipc one", joinedIpc("/proc/sys/kernel/shmmni_x", "1")],
      ["no join", (ops: PlanOp[]) => ops.flatMap((o) => (o.op === "clone" ? [o, op("nsSysctl", [NET, PING, own(PING)])] : [o]))],
      ["a host-wide path", joined("/proc/sys/vm/swappiness")],
      ["an ipc path for a network namespace", joined("/proc/sys/kernel/shmmni")],
      ["an ipc type the plan does not join", joined("/proc/sys/kernel/shmmni", IPC)],
      ["a path with '..'", joined("/proc/sys/net/../vm/swappiness")],
    ] as const) {
      const h = new HelperRun({ ...plan, ops: change(plan.ops) }, "ignore", false);
      const evs: HelperEvent[] = [];
      for (let e = await h.next(); e; e = await h.next()) evs.push(e);
      const err = evs.find((e) => e.ev === "error");
      assert.ok(err && err.ev === "error" && err.step === "ns-sysctl" && err.errno === 22, `${what}: ${JSON.stringify(evs)}`);
      assert.ok(!evs.some((e) => e.ev === "started" || e.ev === "ready"), `${what}: no jail started`);
    }
    assert.equal(host("/proc/sys/vm/swappiness"), swappiness);
    assert.equal(host("/proc/sys/kernel/randomize_va_space").trim(), aslr);
  });

  it("an ipc namespace joined by path (bound to a file): kernel.shmmni and fs.mqueue.msg_max are set in it, the host's are unchanged", () => {
    ipcFile = join(work, "ipcns");
    writeFileSync(ipcFile, "");
    const u = spawnSync("unshare", [`--ipc=${ipcFile}`, "true"], { encoding: "utf8" });
    assert.equal(u.status, 0, u.stderr);
    const inIpc = (p: string) => spawnSync("nsenter", [`--ipc=${ipcFile}`, "cat", p], { encoding: "utf8" }).stdout;
    const before0 = [host("/proc/sys/kernel/shmmni"), host("/proc/sys/fs/mqueue/msg_max")];
    const c = id("ipc");
    const r = oci(["run", "--bundle", bundle("ipc", ["/probe", "read", "/proc/sys/kernel/shmmni"], {
      namespaces: ns("ipc", ipcFile), sysctl: { "kernel.shmmni": "777", "fs.mqueue.msg_max": "33" },
    }), c]);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out, "ok 777\n");
    assert.equal(inIpc("/proc/sys/kernel/shmmni"), "777\n", "set in that namespace");
    assert.equal(inIpc("/proc/sys/fs/mqueue/msg_max"), "33\n");
    assert.deepEqual([host("/proc/sys/kernel/shmmni"), host("/proc/sys/fs/mqueue/msg_max")], before0, "the host's own values are unchanged");
  });
});
