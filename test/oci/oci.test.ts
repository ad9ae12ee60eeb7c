// sysjail-oci: the OCI runtime's command line on real jails (as root, as engines run it), the
// config.json translation and the seccomp profile translation (unit), and every bad input.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildProbe, hostMountsMentioning, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { ociCli } from "../helpers/ocibundle.js";
import { ociSeccompPolicy } from "../../src/oci/seccomp.js";
import { ociJail, patchPlan } from "../../src/oci/translate.js";
import { op, PlanFlag } from "../../src/plan/types.js";
import { Cap, capMask, FORBIDDEN_CAPS } from "../../src/plan/caps.js";
import { blockBase, idPool } from "../../src/ids/pool.js";
import { leaseDirs, persistentLease } from "../../src/ids/leases.js";
import * as hooksModule from "../../src/oci/hooks.js";
import { detectCgroups, parseSelfCgroup } from "../../src/cgroup/detect.js";
import { procsOf } from "../../src/cgroup/fsutil.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
/** The ephemeral id leases held for the jail named NAME (their files name it). */
const ephemeralLeasesOf = (name: string) => {
  const dir = leaseDirs().ephemeral;
  let files: string[] = [];
  try { files = readdirSync(dir); } catch { /* none yet */ }
  return files.filter((f) => { try { return readFileSync(join(dir, f), "utf8").includes(JSON.stringify(name)); } catch { return false; } });
};
/** The namespaces an engine asks for (no path: each the container's own). */
const layout = detectCgroups();
const NS = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));

describe("sysjail-oci: translation (unit)", () => {
  it("turns an OCI seccomp profile into a policy, skipping names no ABI has", () => {
    const { text, skipped } = ociSeccompPolicy({
      defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38,
      syscalls: [
        { names: ["read", "write", "no_such_call"], action: "SCMP_ACT_ALLOW" },
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }] },
        { names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [{ index: 1, value: 15, valueTwo: 3, op: "SCMP_CMP_MASKED_EQ" }] },
        { names: ["ptrace"], action: "SCMP_ACT_KILL_PROCESS" },
      ],
    });
    assert.deepEqual(skipped, ["no_such_call"]);
    assert.equal(text, "default errno 38\nread, write allow\npersonality arg0 == 8 allow\nsocket arg1 & 15 == 3 errno 97\nptrace kill\n");
  });

  it("refuses what it cannot enforce, in one line naming it", () => {
    assert.throws(() => ociSeccompPolicy({ defaultAction: "SCMP_ACT_NOTIFY" }), /action "SCMP_ACT_NOTIFY" is not supported/);
    assert.throws(() => ociSeccompPolicy({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet: 5000 }] }), /errnoRet 5000/);
    assert.throws(() => ociSeccompPolicy({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 7, value: 1, op: "SCMP_CMP_EQ" }] }] }), /index 7/);
  });

  it("patches the plan: pid 1, the start gate, a read-only root, the stacked filter, no forbidden capability", () => {
    const warnings: string[] = [];
    const { spec, patch } = ociJail("c1", {
      ociVersion: "1.2.0", root: { path: "/r", readonly: true }, hostname: "box",
      process: { args: ["/probe", "pid"], env: ["A=1"], cwd: "/tmp", user: { uid: 3, gid: 4, additionalGids: [5] },
        capabilities: { bounding: ["CAP_CHOWN", "CAP_SYS_MODULE", "CAP_NOPE"] }, rlimits: [{ type: "RLIMIT_NOFILE", soft: 10, hard: 20 }] },
      linux: { resources: { memory: { limit: 64 << 20, swap: 64 << 20 }, pids: { limit: 16 } } },
    }, "/r", (m) => warnings.push(m));
    assert.equal(spec.name, "c1");
    assert.equal(spec.hostname, "box");
    assert.deepEqual(spec.env, { A: "1", HOME: "/" }, "no HOME given: uid 3's home in the image (none here: /)");
    assert.deepEqual(spec.limits, { memory: 64 << 20, swap: 0, pids: 16 });
    assert.equal(warnings.length, 2, warnings.join("; "));
    const plan = { mode: "run" as const, flags: 0, ops: [op("root", ["/r"]), op("pivot"), op("caps", [1n, 2n]), op("uid", [0]), op("nnp"), op("seccomp", [0, new Uint8Array(8)]), op("exec", ["/probe", "/probe"])] };
    const ids = { uidMap: "", gidMap: "", setgroups: "allow" as const, count: 65536, hostBase: 100000, rootless: false };
    const out = patchPlan(plan, patch, ids, "/run/x/exec.fifo", { program: new Uint8Array(16), flags: 0 });
    assert.ok(out.flags & PlanFlag.oci);
    assert.deepEqual(out.ops.map((o) => o.op), ["root", "pivot", "rlimit", "caps", "groups", "gid", "uid", "nnp", "seccomp", "seccomp", "exec", "stdioOwner", "startGate"]);
    assert.deepEqual(out.ops[11]!.args, ["100003", "100004"], "the engine's stdio pipes: the process's user's host ids");
    // no user namespace in config.json: root's container sees its root idmapped (src/oci/idmapmounts.ts)
    assert.equal(patch.idmap, process.getuid?.() === 0);
    assert.deepEqual(out.ops[0]!.args, ["/r", patch.idmap ? "ri" : "r"]);
    assert.equal(out.ops[3]!.args[0], String(1n << BigInt(Cap.CHOWN)));
    assert.deepEqual(out.ops[7]!.args, ["off"], "noNewPrivileges unset: setuid programs of the container's own ids work");
    assert.throws(() => patchPlan(plan, { ...patch, uid: 70000 }, ids, undefined), /outside the container's id map/);
  });
});

describe("sysjail-oci: config.json features in the plan (unit)", () => {
  it("places joins after the clone (without those types), paths, sysctls and createContainer hooks before pivot, startContainer hooks and the oom score at the end", () => {
    const cfg = {
      ociVersion: "1.2.0", root: { path: "/r" }, hostname: "box",
      mounts: [{ destination: "/sys/fs/cgroup", type: "cgroup" }],
      process: { args: ["/probe"], oomScoreAdj: -5, capabilities: { bounding: ["CAP_KILL"], inheritable: ["CAP_KILL", "CAP_CHOWN"], ambient: ["CAP_KILL", "CAP_CHOWN"] } },
      linux: {
        namespaces: [{ type: "pid" }, { type: "mount" }, { type: "network", path: "/run/netns/x" }, { type: "uts", path: "/run/uts/x" }, { type: "ipc" }],
        maskedPaths: ["/proc/kcore"], readonlyPaths: ["/proc/sys"], sysctl: { "kernel.msgmax": "9000" },
      },
    };
    const { patch } = ociJail("c2", cfg, "/r", () => undefined);
    const { hookOps } = hooksModule;
    patch.hooks = { ...hookOps({ createContainer: [{ path: "/bin/true" }], startContainer: [{ path: "/x", args: ["x", "1"], env: ["A=1"], timeout: 3 }] }, { id: "c2" }), started: "/run/s" };
    const clone = 0x10000000 | 0x20000000 | 0x00020000 | 0x04000000 | 0x08000000 | 0x40000000;
    const plan = { mode: "run" as const, flags: 0, ops: [op("clone", [clone]), op("root", ["/r"]), op("mountFs", ["sysfs", "/sys", "r", ""]), op("pivot"), op("hostname", ["box"]), op("loUp"), op("caps", [1n, capMask(FORBIDDEN_CAPS)]), op("nnp"), op("exec", ["/probe", "/probe"])] };
    const ids = { uidMap: "", gidMap: "", setgroups: "allow" as const, count: 65536, hostBase: 100000, rootless: false };
    const out = patchPlan(plan, patch, ids, "/run/x/exec.fifo");
    assert.deepEqual(out.ops.map((o) => o.op), ["clone", "nsJoin", "nsJoin", "root", "mountFs", "mask", "rebind", "sysctl", "hook", "pivot", "caps", "groups", "gid", "uid", "nnp", "exec", "hook", "stdioOwner", "startGate"]);
    assert.equal(Number(out.ops[0]!.args[0]) & (0x40000000 | 0x04000000), 0, "joined types are not made anew");
    assert.deepEqual(out.ops[4]!.args.slice(0, 2), ["cgroup2", "/sys/fs/cgroup"], "sysfs of a joined network namespace is left out; the cgroup mount stays");
    assert.deepEqual(out.ops[7]!.args, ["/proc/sys/kernel/msgmax", "9000"]);
    assert.deepEqual(out.ops[10]!.args, [String(1n << BigInt(Cap.KILL)), String(capMask(FORBIDDEN_CAPS)), String(1n << BigInt(Cap.KILL)), String(1n << BigInt(Cap.KILL))], "inheritable and ambient within the bounding set");
    const start = out.ops[16]!.args.map(String);
    assert.deepEqual([start[0], start[1], start[4], start[5], start[6], start[7], start[8]], ["start", "3", "/x", "1", "A=1", "x", "1"]);
    assert.equal(`${start[2]}4242${start[3]}`.includes('"pid":4242'), true, "the helper puts the pid between the two texts");
    assert.deepEqual(out.ops[18]!.args, ["/run/x/exec.fifo", "/run/s"]);
  });
});

describe("sysjail-oci: containers as jails (root)", () => {
  let probe: string;
  let jr: JailRoot;
  let state: string;
  let work: string;
  const ids: string[] = [];
  const oci = ociCli(() => state);
  /** A bundle whose config.json runs ARGS in the probe's root; EXTRA is merged in. */
  const bundle = (name: string, args: string[], extra: Record<string, unknown> = {}, rootExtra: Record<string, unknown> = {}) => {
    const dir = join(work, name);
    spawnSync("mkdir", ["-p", dir]);
    const config = {
      ociVersion: "1.2.0", root: { path: jr.path, ...rootExtra }, hostname: "ocibox",
      process: { args, env: ["PATH=/bin", "OCI_X=seen"], cwd: "/", user: { uid: 0, gid: 0 }, capabilities: { bounding: ["CAP_KILL"] } },
      linux: { namespaces: NS, resources: { pids: { limit: 32 } } },
      ...extra,
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    return dir;
  };
  const id = (s: string) => { const v = `ocitest-${process.pid}-${s}`; ids.push(v); return v; };

  before(() => {
    requireRoot("sysjail-oci's tests");
    probe = buildProbe();
    jr = makeJailRoot(probe);
    state = makeTempDir("sysjail-oci-state-", 0o700);
    work = makeTempDir("sysjail-oci-work-");
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    jr?.remove();
    removeTree(state);
    removeTree(work);
  });

  it("create, state, start: the command is pid 1, waits for start, and the monitor goes with it", () => {
    const c = id("life");
    const out = join(work, "life.out");
    const fd = openSync(out, "w");
    // the container keeps create's stdio (an engine's pipes): here a file, never a pipe this test waits on
    const pidFile = join(work, "life.pid");
    const r = oci(["create", "--bundle", bundle("life", ["/probe", "pid"]), "--pid-file", pidFile, c], fd);
    closeSync(fd);
    assert.equal(r.status, 0, r.stderr);
    const s1 = JSON.parse(oci(["state", c]).stdout);
    assert.equal(s1.status, "created");
    // state's pid and the pid file's are the container's process (pid 1 of its namespaces), as
    // runc's; its parent is not the monitor (create's front was, which is gone: an engine's
    // subreaper reaps it), and the monitor is no process of the container
    const [monitor] = readFileSync(join(state, c, "procs"), "utf8").split(" ").map(Number);
    assert.equal(Number(readFileSync(pidFile, "utf8")), s1.pid);
    assert.match(readFileSync(`/proc/${s1.pid}/status`, "utf8"), /^NSpid:\s+\d+\s+1$/m);
    assert.notEqual(readFileSync(`/proc/${s1.pid}/status`, "utf8").match(/^PPid:\s+(\d+)$/m)?.[1], String(monitor));
    assert.notEqual(readlinkSync(`/proc/${s1.pid}/ns/pid`), readlinkSync("/proc/self/ns/pid"), "state's pid is in the container's pid namespace");
    assert.doesNotMatch(readFileSync(out, "utf8"), /^ok/m, "nothing runs before start");
    assert.equal(oci(["start", c]).status, 0);
    // the engine waits for the pid-file process: here, the container's end
    for (let i = 0; i < 6000 && JSON.parse(oci(["state", c]).stdout).status !== "stopped"; i++) spawnSync("sleep", ["0.01"]);
    assert.match(readFileSync(out, "utf8"), /^ok 1 0$/m);
    const again = oci(["start", c]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^sysjail-oci: container \S+ is stopped: only a created container can be started\n$/);
    assert.equal(oci(["delete", c]).status, 0);
    assert.equal(existsSync(join(state, c)), false);
    // the monitor watched its sibling through a pidfd: it ended too, after its cleanup
    let mstat = "";
    try { mstat = readFileSync(`/proc/${monitor}/stat`, "utf8"); } catch { /* reaped */ }
    assert.ok(mstat === "" || /\) [ZX] /.test(mstat), `the monitor is gone: ${mstat}`);
  });

  it("create's Node holds none of the engine's pipes once create returned (the front does not wait for its teardown)", async () => {
    const c = id("pipes");
    // the engine's pipe (a FIFO here, one name for both ends): the container keeps it (its
    // stdio), create's Node must not
    const fifo = join(work, "pipes.fifo");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const child = spawn(OCI, ["--root", state, "create", "--bundle", bundle("pipes", ["/probe", "pid"]), c], { stdio: ["ignore", fd, fd] });
    const pipes = [fifo];
    let exited = false;
    const status = new Promise<number | null>((res) => child.on("exit", (code) => { exited = true; res(code); }));
    // the front's first child is its Node (the monitor comes later)
    let node = 0;
    while (!exited && node === 0) {
      try {
        node = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(" ")[0] || 0);
      } catch { /* gone */ }
      if (node === 0) await new Promise((r) => setImmediate(r));
    }
    const code = await status;
    // at once on create's exit: that Node may still be dying, but holds nothing of the engine's
    let held: string[] = [];
    try {
      held = readdirSync(`/proc/${node}/fd`).map((f) => { try { return readlinkSync(`/proc/${node}/fd/${f}`); } catch { return ""; } }).filter((l) => pipes.includes(l));
    } catch { /* gone already */ }
    const gone = oci(["delete", "--force", c]).status;
    closeSync(fd);
    assert.equal(code, 0, "create");
    assert.notEqual(node, 0, "create's Node seen");
    assert.deepEqual(held, [], `create's Node (${node}) still held its stdio`);
    assert.equal(gone, 0);
  });

  it("create's init is no child of the monitor, yet cannot make a sibling under its own parent (the engine)", () => {
    const c = id("sibling");
    const out = join(work, "sibling.out");
    const fd = openSync(out, "w");
    assert.equal(oci(["create", "--bundle", bundle("sibling", ["/probe", "clone-parent"]), c], fd).status, 0);
    closeSync(fd);
    assert.equal(oci(["start", c]).status, 0);
    for (let i = 0; i < 6000 && JSON.parse(oci(["state", c]).stdout).status !== "stopped"; i++) spawnSync("sleep", ["0.01"]);
    // the kernel refuses CLONE_PARENT to a pid namespace's init: nothing of the jail lands beside it
    assert.equal(readFileSync(out, "utf8"), "err EINVAL\n");
    assert.equal(oci(["delete", c]).status, 0);
  });

  it("run gives the command's status, hostname and environment; a read-only root is read-only", () => {
    const r = oci(["run", "--bundle", bundle("st", ["/probe", "exit", "7"]), id("st")]);
    assert.equal(r.status, 7, r.stderr);
    const h = oci(["run", "--bundle", bundle("host", ["/probe", "hostname"]), id("host")]);
    assert.equal(h.stdout, "ok ocibox\n", h.stderr);
    const e = oci(["run", "--bundle", bundle("env", ["/probe", "env"]), id("env")]);
    assert.match(e.stdout, /^env OCI_X=seen$/m);
    const ro = oci(["run", "--bundle", bundle("ro", ["/probe", "write", "/tmp/x", "y"], {}, { readonly: true }), id("ro")]);
    assert.equal(ro.stdout, "err EROFS\n", ro.stderr);
  });

  it("the container's seccomp profile is stacked on the jail's policy", () => {
    const seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["getcwd"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }] };
    const r = oci(["run", "--bundle", bundle("sc", ["/probe", "cwd"], { linux: { seccomp } }), id("sc")]);
    assert.equal(r.stdout, "err EPERM\n", r.stderr);
  });

  it("kill and delete --force end a running container; nothing of it is left", () => {
    const c = id("kill");
    const fd = openSync("/dev/null", "w");
    assert.equal(oci(["create", "--bundle", bundle("kill", ["/probe", "waitfile", "/never"]), c], fd).status, 0);
    closeSync(fd);
    assert.equal(oci(["start", c]).status, 0);
    assert.equal(JSON.parse(oci(["state", c]).stdout).status, "running");
    // its host id range is an ephemeral lease, never one kept per name (a container id is new at
    // every container: a kept lease would hold a block of the pool for good each time)
    assert.equal(persistentLease("name", c, { peek: true }), undefined, "no lease kept for the container's id");
    assert.equal(ephemeralLeasesOf(c).length, 1, "one ephemeral lease while it runs");
    const del = oci(["delete", c]);
    assert.equal(del.status, 1);
    assert.match(del.stderr, /is running: stop it first, or delete --force/);
    assert.equal(oci(["kill", c, "KILL"]).status, 0);
    assert.equal(oci(["delete", "--force", c]).status, 0);
    assert.equal(existsSync(join(state, c)), false);
    assert.deepEqual(hostMountsMentioning(jr.path), []);
    const jls = spawnSync(join(REPO, "native", "build", "jls"), ["-N"], { encoding: "utf8" });
    assert.doesNotMatch(jls.stdout, new RegExp(c));
    assert.deepEqual(ephemeralLeasesOf(c), [], "the range went back to the pool");
    assert.equal(persistentLease("name", c, { peek: true }), undefined);
  });

  it("exec runs another process in the container, in its namespaces; --detach leaves a pid file", () => {
    const c = id("exec");
    const fd = openSync("/dev/null", "w");
    assert.equal(oci(["create", "--bundle", bundle("exec", ["/probe", "waitfile", "/never"]), c], fd).status, 0);
    assert.equal(oci(["start", c]).status, 0);
    const e = oci(["exec", c, "/probe", "hostname"]);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(e.stdout, "ok ocibox\n");
    assert.equal(oci(["exec", c, "/probe", "exit", "5"]).status, 5);
    // exec returns once its helper (which joined the container's cgroups from the host's pid
    // namespace) is gone: right after it, every process in the container's cgroups is the
    // container's own (an engine's ps, pause or delete right after sees nothing else). The helper
    // is made to linger 300 ms after its exit report (SYSJAIL_TEST_FAULT=slow:enter-exit), as a
    // descheduled one would on a loaded machine; no pipe is given, which would make spawnSync
    // wait for the helper's exit itself (a file or a terminal does not)
    const init = (JSON.parse(oci(["state", c]).stdout) as { pid: number }).pid;
    const pidNs = (p: number) => { try { return readlinkSync(`/proc/${p}/ns/pid`); } catch { return "gone"; } };
    // the hierarchies where the init's cgroup is not this test's own (detect.ts reads /proc/PID/cgroup)
    const own = parseSelfCgroup(readFileSync(`/proc/${init}/cgroup`, "utf8"));
    const cgDirs = [...new Set(Object.entries(own).filter(([k, path]) => layout.self[k] !== path).flatMap(([k, path]) => {
      const mount = k === "" ? layout.v2?.path : layout.v1[k];
      return mount ? [join(mount, path)] : [];
    }))];
    assert.ok(cgDirs.length > 0, "the container's cgroups");
    const slow = spawnSync(OCI, ["--root", state, "exec", c, "/probe", "exit", "3"], { stdio: "ignore", env: { ...process.env, SYSJAIL_TEST_FAULT: "slow:enter-exit" }, timeout: 60_000 });
    assert.equal(slow.status, 3);
    for (const d of cgDirs) for (const p of procsOf(d)) assert.equal(pidNs(p), pidNs(init), `${p} in ${d} right after exec`);
    const pidFile = join(work, "exec.pid");
    const d = spawnSync(OCI, ["--root", state, "exec", "--detach", "--pid-file", pidFile, c, "/probe", "pid"], { encoding: "utf8", stdio: ["ignore", fd, fd], timeout: 60_000 });
    closeSync(fd);
    assert.equal(d.status, 0);
    assert.match(readFileSync(pidFile, "utf8"), /^\d+$/);
    const ps = JSON.parse(oci(["ps", "--format", "json", c]).stdout) as number[];
    assert.ok(ps.length >= 1, "the container's processes");
    // the table form, as runc's: ps(1)'s own (-ef by default), only the container's lines
    const table = oci(["ps", c]);
    assert.equal(table.status, 0, table.stderr);
    const [head, ...rows] = table.stdout.trimEnd().split("\n");
    const col = head!.trim().split(/\s+/).indexOf("PID");
    assert.ok(col >= 0, head);
    assert.deepEqual(rows.map((l) => Number(l.trim().split(/\s+/)[col])).sort((a, b) => a - b), ps, "exactly the container's processes");
    const comm = oci(["ps", c, "-e", "-o", "pid,comm"]);
    assert.equal(comm.status, 0, comm.stderr);
    assert.match(comm.stdout, /^\s*PID COMMAND\n(\s*\d+ probe\n)+$/);
    const nopid = oci(["ps", c, "-e", "-o", "comm"]);
    assert.equal(nopid.status, 1);
    assert.match(nopid.stderr, /^sysjail-oci: ps -e -o comm: ps\(1\)'s output has no PID column/);
    assert.equal(nopid.stderr.trim().split("\n").length, 1);
    const jsonOpts = oci(["ps", "--format", "json", c, "-ef"]);
    assert.deepEqual(JSON.parse(jsonOpts.stdout), ps);
    assert.match(jsonOpts.stderr, /ps\(1\) options -ef apply to the table format only: ignored/);
    assert.equal(oci(["delete", "--force", c]).status, 0);
    assert.equal(oci(["exec", c, "/probe", "pid"]).status, 1, "no exec into a deleted container");
  });

  it("hooks: the host-side ones run in order with the state on stdin; a failing prestart fails create, nothing left", () => {
    const log = join(work, "hooks.log");
    const sh = (script: string, extra: Record<string, unknown> = {}) => ({ path: "/bin/sh", args: ["sh", "-c", script], env: [`LOG=${log}`], ...extra });
    const rec = (kind: string) => sh(`{ printf '${kind} '; cat; } >> "$LOG"`);
    const hooks = {
      prestart: [rec("prestart")], createRuntime: [rec("createRuntime")], poststart: [rec("poststart"), sh("exit 9")],
      poststop: [rec("poststop")],
    };
    const r = oci(["run", "--bundle", bundle("hooks", ["/probe", "exit", "3"], { hooks }), id("hooks")]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /warning: hook poststart\[1\] \/bin\/sh: exit status 9/, "a failing poststart is a warning");
    const lines = readFileSync(log, "utf8").trim().split("\n");
    assert.deepEqual(lines.map((l) => l.split(" ")[0]), ["prestart", "createRuntime", "poststart", "poststop"]);
    const st = lines.map((l) => JSON.parse(l.slice(l.indexOf(" ") + 1)) as { id: string; status: string; pid: number; bundle: string });
    assert.deepEqual([st[0]!.status, st[1]!.status, st[3]!.status], ["creating", "creating", "stopped"]);
    assert.match(st[2]!.status, /^(running|stopped)$/, "poststart sees the container started (it may have ended since)");
    assert.ok(st.every((x) => x.id.endsWith("-hooks")));
    assert.ok(st[0]!.pid > 0 && st[3]!.pid === 0);

    // as an engine calls it: create, start and delete apart (start and delete are native unless hooks wait)
    const log2 = join(work, "hooks2.log");
    const rec2 = (kind: string) => ({ path: "/bin/sh", args: ["sh", "-c", `{ printf '${kind} '; cat; } >> "$LOG"`], env: [`LOG=${log2}`] });
    const c2 = id("hooks2");
    const fd = openSync("/dev/null", "w");
    const cr = oci(["create", "--bundle", bundle("hooks2", ["/probe", "pid"], { hooks: { poststart: [rec2("poststart")], poststop: [rec2("poststop")] } }), c2], fd);
    closeSync(fd);
    assert.equal(cr.status, 0);
    assert.equal(oci(["start", c2]).status, 0);
    for (let i = 0; i < 6000 && JSON.parse(oci(["state", c2]).stdout).status !== "stopped"; i++) spawnSync("sleep", ["0.01"]);
    assert.equal(oci(["delete", c2]).status, 0);
    assert.deepEqual(readFileSync(log2, "utf8").trim().split("\n").map((l) => l.split(" ")[0]), ["poststart", "poststop"]);
    assert.equal(existsSync(join(state, c2)), false);

    for (const [name, hook, msg] of [
      ["hookfail", sh("echo nope >&2; exit 4"), /^sysjail-oci: hook prestart\[0\] \/bin\/sh: exit status 4 \(nope\)\n$/],
      ["hooktime", sh("exec sleep 600", { timeout: 1 }), /^sysjail-oci: hook prestart\[0\] \/bin\/sh: timed out after 1s\n$/],
      ["hookbad", { path: "relative" }, /hooks\.prestart\[0\]\.path must be an absolute path/],
    ] as const) {
      const c = id(name);
      const f = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], { hooks: { prestart: [hook] } }), c]);
      assert.equal(f.status, 1, f.stderr);
      assert.match(f.stderr, msg);
      assert.equal(existsSync(join(state, c)), false, "a failed create leaves no directory");
      const jls = spawnSync(join(REPO, "native", "build", "jls"), ["-N"], { encoding: "utf8" });
      assert.doesNotMatch(jls.stdout, new RegExp(c), "a failed create leaves no jail");
    }
  });

  it("hooks createContainer (before pivot, in the container's namespaces) and startContainer (the container's program, before the command)", () => {
    // the createContainer hook is the engine's program, run as the container's root: its log is
    // world-writable, and not under /tmp (where the init attaches the container's root before pivot)
    const dir = `/var/tmp/sysjail-ocitest-${process.pid}`;
    spawnSync("mkdir", ["-m", "1777", dir]);
    try {
    const log = join(dir, "create.log");
    const c = id("inhooks");
    const out = join(work, "inhooks.out");
    const fd = openSync(out, "w");
    const hooks = {
      createContainer: [{ path: "/bin/sh", args: ["sh", "-c", `{ readlink /proc/self/ns/uts; id -u; cat; echo; } >> "$LOG"`], env: [`LOG=${log}`], timeout: 30 }],
      // its stdin (the state) into the file the command reads
      startContainer: [{ path: "/probe", args: ["probe", "copy", "/proc/self/fd/0", "/tmp/started"], env: ["X=1"] }],
    };
    const r = oci(["create", "--bundle", bundle("inhooks", ["/probe", "read", "/tmp/started"], { hooks, annotations: { a: "b" } }), c], fd);
    closeSync(fd);
    assert.equal(r.status, 0, readFileSync(out, "utf8"));
    assert.doesNotMatch(readFileSync(out, "utf8"), /not supported|not run/);
    const rec = JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number; pid: number };
    const [uts, uid, st] = readFileSync(log, "utf8").trim().split("\n");
    assert.equal(uts, spawnSync("readlink", [`/proc/${rec.initPid}/ns/uts`], { encoding: "utf8" }).stdout.trim(), "the container's UTS namespace");
    assert.equal(uid, "0", "the container's root...");
    assert.notEqual(statSync(log).uid, 0, "...never host root");
    const s = JSON.parse(st!) as Record<string, unknown>;
    // in the container's namespaces the state's pid is the container's process as the container
    // sees it (the runtime-spec; runc's init passes its getpid()): 1 in its own pid namespace
    assert.deepEqual([s.id, s.status, s.pid, (s.annotations as Record<string, string>).a], [c, "creating", 1, "b"]);
    assert.notEqual(s.pid, rec.pid, "never the monitor's host pid");
    assert.doesNotMatch(readFileSync(out, "utf8"), /^ok/m, "nothing of the container ran before start");
    const sr = oci(["start", c]);
    assert.equal(sr.status, 0, sr.stderr + readFileSync(out, "utf8"));
    for (let i = 0; i < 6000 && JSON.parse(oci(["state", c]).stdout).status !== "stopped"; i++) spawnSync("sleep", ["0.01"]);
    const started = /^ok (\{.*)$/m.exec(readFileSync(out, "utf8"));
    assert.ok(started, `the startContainer hook ran in the container before the command: ${readFileSync(out, "utf8")}`);
    const ss = JSON.parse(started[1]!) as Record<string, unknown>;
    assert.deepEqual([ss.id, ss.status, ss.pid], [c, "created", 1], "the startContainer hook's state: the container's pid as it sees it");
    assert.equal(oci(["delete", c]).status, 0);

    // a failing createContainer hook fails create; a failing startContainer hook fails start; nothing is left
    for (const [name, kind, hook, msg] of [
      ["inhookfail", "createContainer", { path: "/bin/sh", args: ["sh", "-c", "echo nope >&2; exit 5"] }, /createContainer hook \/bin\/sh: exit status 5 \(nope\)/],
      ["inhooktime", "createContainer", { path: "/bin/sh", args: ["sh", "-c", "exec sleep 600"], timeout: 1 }, /createContainer hook \/bin\/sh: timed out after 1s/],
      ["inhookstart", "startContainer", { path: "/no-such-hook" }, /a startContainer hook failed; the container is stopped/],
      // confined as the command (its capabilities and the jail policy): it cannot set even the same
      // hostname, which the unconfined init does (the hostname op)
      ["inhookcaps", "startContainer", { path: "/probe", args: ["probe", "sethostname-same"] }, /a startContainer hook failed; the container is stopped/],
    ] as const) {
      const k = id(name);
      // a failed create leaves no process holding its stdio: a pipe is safe there
      const nul = openSync("/dev/null", "w");
      const f = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], { hooks: { [kind]: [hook] } }), k], kind === "startContainer" ? nul : "pipe");
      closeSync(nul);
      if (kind === "startContainer") {
        assert.equal(f.status, 0, f.stderr);
        const g = oci(["start", k]);
        assert.equal(g.status, 1, g.stderr);
        assert.match(g.stderr, msg);
        assert.equal(JSON.parse(oci(["state", k]).stdout).status, "stopped");
        assert.equal(oci(["delete", k]).status, 0);
      } else {
        assert.equal(f.status, 1, f.stderr);
        assert.match(f.stderr, msg);
        assert.equal(f.stderr.trim().split("\n").filter((l) => !l.includes(": warning: ")).length, 1, f.stderr);
      }
      assert.equal(existsSync(join(state, k)), false, "nothing left in --root");
      const jls = spawnSync(join(REPO, "native", "build", "jls"), ["-N"], { encoding: "utf8" });
      assert.doesNotMatch(jls.stdout, new RegExp(k), "no jail left");
    }
    } finally {
      removeTree(dir);
    }
  });

  it("linux.namespaces: joins a pod's network, uts and ipc namespaces by path; refuses the rest in one line", () => {
    // the "pod": namespaces of a process this test starts (and ends)
    const holder = spawn("unshare", ["--net", "--uts", "--ipc", "sh", "-c", "hostname podbox && echo up && exec sleep 600"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      for (let i = 0; i < 6000 && !existsSync(`/proc/${holder.pid}/ns/net`); i++) spawnSync("sleep", ["0.01"]);
      // the hostname is set once sh is past `hostname`: wait for its exec of sleep
      for (let i = 0; i < 6000 && !readFileSync(`/proc/${holder.pid}/cmdline`, "utf8").startsWith("sleep"); i++) spawnSync("sleep", ["0.01"]);
      const ns = (t: string) => `/proc/${holder.pid}/ns/${t}`;
      const joined = NS.map((n) => (["network", "uts", "ipc"].includes(n.type) ? { ...n, path: ns(n.type === "network" ? "net" : n.type) } : n));
      const c = id("join");
      const out = join(work, "join.out");
      const fd = openSync(out, "w");
      const r = oci(["create", "--bundle", bundle("join", ["/probe", "waitfile", "/never"], { linux: { namespaces: joined } }), c], fd);
      closeSync(fd);
      assert.equal(r.status, 0, readFileSync(out, "utf8"));
      const initPid = (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
      const link = (p: string) => spawnSync("readlink", [p], { encoding: "utf8" }).stdout.trim();
      for (const t of ["net", "uts", "ipc"]) assert.equal(link(`/proc/${initPid}/ns/${t}`), link(ns(t)), `the pod's ${t} namespace`);
      for (const t of ["user", "pid", "mnt"]) assert.notEqual(link(`/proc/${initPid}/ns/${t}`), link(ns(t)), `its own ${t} namespace`);
      assert.equal(oci(["start", c]).status, 0);
      // exec enters the same namespaces (the joined ones before the container's user namespace)
      const h = oci(["exec", c, "/probe", "hostname"]);
      assert.equal(h.stdout, "ok podbox\n", h.stderr);
      const set = oci(["exec", c, "/probe", "sethostname-same"]);
      assert.match(set.stdout, /err EPERM/, "the pod's uts namespace is not the container's to change");
      assert.equal(oci(["delete", "--force", c]).status, 0);
    } finally {
      oci(["delete", "--force", ids[ids.length - 1]!]);
      holder.kill("SIGKILL");
    }
    for (const [name, namespaces, msg] of [
      ["nsuser", [...NS, { type: "user", path: "/proc/self/ns/user" }], /^sysjail-oci: linux\.namespaces: joining a user namespace \(\/proc\/self\/ns\/user\) is not supported: a container has its own \(network, uts, ipc, pid and mount may be joined\)/],
      ["nsnomount", NS.filter((n) => n.type !== "mount"), /^sysjail-oci: linux\.namespaces has no mount namespace: the container's mounts would go into the runtime's own \(the host's\) mount table/],
      ["nsbadtype", [...NS, { type: "nope" }], /^sysjail-oci: linux\.namespaces: "nope" is not a namespace type/],
      ["nsmissing", NS.map((n) => (n.type === "network" ? { ...n, path: "/nonexistent/netns" } : n)), /^sysjail-oci: .*\/nonexistent\/netns/],
      // a path naming the runtime's own uts namespace is that type left out: no hostname of its own
      ["nshost", NS.map((n) => (n.type === "uts" ? { ...n, path: "/proc/self/ns/uts" } : n)), /^sysjail-oci: hostname: the container has no uts namespace of its own/],
    ] as const) {
      const k = id(name);
      const f = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], { linux: { namespaces } }), k]);
      assert.equal(f.status, 1, f.stderr);
      assert.match(f.stderr, msg);
      assert.equal(f.stderr.trim().split("\n").filter((l) => !l.includes(": warning: ")).length, 1, f.stderr);
      assert.equal(existsSync(join(state, k)), false, "nothing left in --root");
    }
  });

  it("linux.namespaces: joins a pid namespace (its own procfs, what it left killed) and a mount namespace (nothing mounted there)", () => {
    const link = (p: string) => spawnSync("readlink", [p], { encoding: "utf8" }).stdout.trim();
    // a zombie is gone (the holder's pid 1, `sleep`, never reaps what it inherits)
    const nsOf = (pid: number) => { try { return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ? "" : readlinkSync(`/proc/${pid}/ns/pid`); } catch { return ""; } };
    const waitFor = (ok: () => boolean) => { for (let i = 0; i < 6000 && !ok(); i++) spawnSync("sleep", ["0.01"]); };
    // a pid namespace of processes this test starts: its pid 1 is sh, with a sleep beside
    const holder = spawn("unshare", ["--pid", "--fork", "sh", "-c", "sleep 600 & wait"], { stdio: "ignore" });
    const target = `/proc/${holder.pid}/ns/pid_for_children`;
    const members = () => { const ns = link(target); return readdirSync("/proc").filter((f) => /^\d+$/.test(f) && nsOf(Number(f)) === ns).map(Number).sort((x, y) => x - y); };
    let before: number[] = [];
    try {
      waitFor(() => link(target) !== link("/proc/self/ns/pid") && members().length === 2);
      before = members();
      assert.equal(before.length, 2, "sh and sleep");
      const namespaces = NS.map((n) => (n.type === "pid" ? { ...n, path: target } : n));
      const tmp = { mounts: [{ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"] }] };
      const r = oci(["run", "--bundle", bundle("pidjoin", ["/probe", "cat", "/proc/1/cmdline"], { ...tmp, linux: { namespaces } }), id("pidjoin")]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.split("\0")[0], "sh", "/proc is the joined namespace's: its pid 1 is the holder's sh");
      // a process left behind in the joined namespace is the container's: killed when its first one ends
      const o = oci(["run", "--bundle", bundle("pidorphan", ["/probe", "orphan", "/tmp"], { ...tmp, linux: { namespaces } }), id("pidorphan")]);
      assert.equal(o.status, 0, o.stderr);
      waitFor(() => members().length === 2);
      assert.deepEqual(members(), before, "only the namespace's own processes are left");
      // ps and kill --all: the container's processes only, never the namespace's others
      const c = id("pidkill");
      const fd = openSync("/dev/null", "w");
      assert.equal(oci(["create", "--bundle", bundle("pidkill", ["/probe", "waitfile", "/never"], { linux: { namespaces } }), c], fd).status, 0);
      closeSync(fd);
      assert.equal(oci(["start", c]).status, 0);
      const initPid = (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
      assert.deepEqual(JSON.parse(oci(["ps", "--format", "json", c]).stdout), [initPid]);
      assert.equal(oci(["kill", "--all", c, "TERM"]).status, 0);
      waitFor(() => !existsSync(`/proc/${initPid}`) || nsOf(initPid) === "");
      assert.deepEqual(members(), before, "the namespace's sh and sleep live on");
      oci(["delete", "--force", c]);
    } finally {
      // the holder's processes (this test's own) first: the namespace goes with its pid 1
      for (const p of before.length ? before : members()) try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
      holder.kill("SIGKILL");
    }
    // a mount namespace of a process this test starts, with a tmpfs of its own over a directory
    const dir = join(work, "mntjoin");
    spawnSync("mkdir", ["-p", dir]);
    const mholder = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount -t tmpfs nsjoin ${dir} && echo inside > ${dir}/marker && exec sleep 600`], { stdio: "ignore" });
    try {
      // sh becomes sleep once the tmpfs and its file are there
      waitFor(() => { try { return readFileSync(`/proc/${mholder.pid}/cmdline`, "utf8").startsWith("sleep"); } catch { return false; } });
      const target = `/proc/${mholder.pid}/ns/mnt`;
      const before = readFileSync(`/proc/${mholder.pid}/mountinfo`, "utf8");
      const namespaces = NS.map((n) => (n.type === "mount" ? { ...n, path: target } : n));
      const c = id("mntjoin");
      const r = oci(["run", "--bundle", bundle("mntjoin", [join(jr.path, "probe"), "cat", join(dir, "marker")], { linux: { namespaces } }), c]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "inside\n", "the joined namespace's tmpfs");
      assert.match(r.stderr, /warning: linux\.namespaces: the container lives in the mount namespace .*: root\.path, mounts, maskedPaths and readonlyPaths are not applied/);
      // nothing added there (the host's own mounts may come and go meanwhile: podman's, say)
      const was = new Set(before.split("\n"));
      assert.deepEqual(readFileSync(`/proc/${mholder.pid}/mountinfo`, "utf8").split("\n").filter((l) => !was.has(l)), [], "no mount added to the joined table");
      assert.equal(existsSync(join(dir, "marker")), false, "the host's table is unchanged");
    } finally {
      mholder.kill("SIGKILL");
    }
    // the other paths resolve in the runtime's own mount namespace, never in the joined table
    // (listed first here; its /proc is a tmpfs, where /proc/PID/ns/net does not exist)
    const hidden = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs nsjoin /proc && exec sleep 600"], { stdio: "ignore" });
    const net = spawn("unshare", ["--net", "sleep", "600"], { stdio: "ignore" });
    try {
      waitFor(() => { try { return readFileSync(`/proc/${hidden.pid}/cmdline`, "utf8").startsWith("sleep") && readFileSync(`/proc/${net.pid}/cmdline`, "utf8").startsWith("sleep"); } catch { return false; } });
      const namespaces = [{ type: "mount", path: `/proc/${hidden.pid}/ns/mnt` }, ...NS.filter((n) => n.type !== "mount").map((n) => (n.type === "network" ? { ...n, path: `/proc/${net.pid}/ns/net` } : n))];
      const c = id("mntorder");
      const fd = openSync(join(work, "mntorder.out"), "w");
      const r = oci(["create", "--bundle", bundle("mntorder", [join(jr.path, "probe"), "waitfile", "/never"], { linux: { namespaces } }), c], fd);
      closeSync(fd);
      assert.equal(r.status, 0, readFileSync(join(work, "mntorder.out"), "utf8"));
      const initPid = (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
      assert.equal(link(`/proc/${initPid}/ns/net`), link(`/proc/${net.pid}/ns/net`));
      assert.equal(link(`/proc/${initPid}/ns/mnt`), link(`/proc/${hidden.pid}/ns/mnt`));
      assert.equal(oci(["delete", "--force", c]).status, 0);
    } finally {
      hidden.kill("SIGKILL");
      net.kill("SIGKILL");
    }
    for (const [name, namespaces, msg] of [
      ["nshostmnt", NS.map((n) => (n.type === "mount" ? { ...n, path: "/proc/self/ns/mnt" } : n)), /^sysjail-oci: .*the runtime's own \(host\) namespace: a jail never shares it/m],
      ["nsmnthook", NS.map((n) => (n.type === "mount" ? { ...n, path: "/proc/self/ns/mnt" } : n)), /^sysjail-oci: linux\.namespaces: with a joined mount namespace \(\/proc\/self\/ns\/mnt\) a terminal and createContainer hooks are not supported/],
    ] as const) {
      const k = id(name);
      const hooks = name === "nsmnthook" ? { hooks: { createContainer: [{ path: "/bin/true" }] } } : {};
      const f = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], { linux: { namespaces }, ...hooks }), k]);
      assert.equal(f.status, 1, f.stderr);
      assert.match(f.stderr, msg);
      assert.equal(f.stderr.trim().split("\n").filter((l) => !l.includes(": warning: ")).length, 1, f.stderr);
      assert.equal(existsSync(join(state, k)), false, "nothing left in --root");
    }
  });

  it("linux.namespaces left out: the runtime's own network, uts, ipc and pid namespaces; its own user, mount and cgroup ones; the host's abstract sockets out of reach", () => {
    const link = (p: string) => { try { return readlinkSync(p); } catch { return ""; } };
    const c = id("inherit");
    const fd = openSync(join(work, "inherit.out"), "w");
    const r = oci(["create", "--bundle", bundle("inherit", ["/probe", "waitfile", "/never"], { hostname: "", linux: { namespaces: [{ type: "mount" }] } }), c], fd);
    closeSync(fd);
    assert.equal(r.status, 0, readFileSync(join(work, "inherit.out"), "utf8"));
    const listener = spawn(join(jr.path, "probe"), ["ulisten", `sysjail-nsjoin-${process.pid}`], { stdio: ["pipe", "ignore", "ignore"] });
    try {
      const initPid = (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
      for (const t of ["net", "uts", "ipc", "pid"]) assert.equal(link(`/proc/${initPid}/ns/${t}`), link(`/proc/self/ns/${t}`), `the runtime's ${t} namespace`);
      for (const t of ["user", "mnt", "cgroup"]) assert.notEqual(link(`/proc/${initPid}/ns/${t}`), link(`/proc/self/ns/${t}`), `its own ${t} namespace`);
      assert.equal(oci(["start", c]).status, 0);
      const p1 = oci(["exec", c, "/probe", "cat", "/proc/1/cmdline"]);
      assert.equal(p1.status, 0, p1.stderr + p1.stdout);
      assert.equal(p1.stdout, readFileSync("/proc/1/cmdline", "utf8"), "a procfs of the runtime's pid namespace");
      assert.equal(oci(["exec", c, "/probe", "hostname"]).stdout, `ok ${readFileSync("/proc/sys/kernel/hostname", "utf8").trim()}\n`);
      assert.match(oci(["exec", c, "/probe", "sethostname-same"]).stdout, /err EPERM/, "the host's uts namespace is not the container's to change");
      // its own (the exec'd ones above may linger as zombies of its pid 1), never the host's
      const listed = JSON.parse(oci(["ps", "--format", "json", c]).stdout) as number[];
      assert.ok(listed.includes(initPid) && !listed.includes(1) && !listed.includes(process.pid) && listed.length <= 4, `only the container's processes: ${listed.join(" ")}`);
      // the host's abstract unix socket: the Landlock scope keeps it out of reach
      for (let i = 0; i < 6000 && !readFileSync("/proc/net/unix", "utf8").includes(`@sysjail-nsjoin-${process.pid}`); i++) spawnSync("sleep", ["0.01"]);
      assert.match(oci(["exec", c, "/probe", "uconnect", `sysjail-nsjoin-${process.pid}`]).stdout, /^err EPERM/);
      // a jail like any other: jls lists it (with the host's name), jexec enters it, jail -r ends it
      const tool = (t: string, args: string[]) => spawnSync(join(REPO, "native", "build", t), args, { encoding: "utf8", input: "" });
      const listed2 = tool("jls", ["-n"]).stdout.split("\n").find((l) => l.includes(` name=${c} `));
      assert.ok(listed2, "jls lists the container");
      assert.match(listed2!, new RegExp(` host\\.hostname=${readFileSync("/proc/sys/kernel/hostname", "utf8").trim()}( |$)`));
      assert.equal(tool("jexec", [c, "/probe", "pid"]).status, 0);
      assert.equal(tool("jail", ["-r", c]).status, 0);
      assert.match(oci(["state", c]).stdout, /"status":"stopped"/);
      assert.equal(oci(["delete", "--force", c]).status, 0);
      // gone, or a zombie its parent (the engine's subreaper; here whoever inherits it) reaps
      const state1 = (() => { try { return readFileSync(`/proc/${initPid}/stat`, "utf8").split(") ")[1]?.[0]; } catch { return undefined; } })();
      assert.ok(state1 === undefined || state1 === "Z", `the container is gone (state ${state1})`);
    } finally {
      listener.kill("SIGKILL");
      oci(["delete", "--force", c]);
    }
    // paths naming the runtime's own namespaces (a host-network pod's sandbox under CRI: its
    // containers name its network and uts, the host's) are those types left out, never joined
    const hp = id("inhpath");
    const own = ["network", "uts", "ipc", "pid"].map((type) => ({ type, path: `/proc/self/ns/${type === "network" ? "net" : type}` }));
    const fd2 = openSync(join(work, "inhpath.out"), "w");
    const r2 = oci(["create", "--bundle", bundle("inhpath", ["/probe", "pid"], { hostname: "", linux: { namespaces: [{ type: "mount" }, ...own] } }), hp], fd2);
    closeSync(fd2);
    try {
      assert.equal(r2.status, 0, readFileSync(join(work, "inhpath.out"), "utf8"));
      const initPid = (JSON.parse(readFileSync(join(state, hp, "state.json"), "utf8")) as { initPid: number }).initPid;
      for (const t of ["net", "uts", "ipc", "pid"]) assert.equal(link(`/proc/${initPid}/ns/${t}`), link(`/proc/self/ns/${t}`), `the runtime's ${t} namespace`);
      assert.notEqual(link(`/proc/${initPid}/ns/user`), link("/proc/self/ns/user"));
    } finally {
      assert.equal(oci(["delete", "--force", hp]).status, 0);
    }
    for (const [name, extra, msg] of [
      ["inhhost", { hostname: "named", linux: { namespaces: [{ type: "mount" }] } }, /^sysjail-oci: hostname: the container has no uts namespace of its own/],
      ["inhsysctl", { hostname: "", linux: { namespaces: [{ type: "mount" }, { type: "uts" }], sysctl: { "net.ipv4.ip_forward": "1" } } }, /^sysjail-oci: linux\.sysctl: net\.ipv4\.ip_forward belongs to the runtime's own \(the host's\) namespace/],
    ] as const) {
      const k = id(name);
      const f = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], extra), k]);
      assert.equal(f.status, 1, f.stderr);
      assert.match(f.stderr, msg);
      assert.equal(f.stderr.trim().split("\n").length, 1, f.stderr);
      assert.equal(existsSync(join(state, k)), false, "nothing left in --root");
    }
  });

  it("maskedPaths, readonlyPaths, namespaced sysctls, oomScoreAdj and a read-only cgroup mount", () => {
    const c = id("paths");
    const fd = openSync("/dev/null", "w");
    const cfg = {
      mounts: [{ destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["rw", "nosuid"] }],
      process: { args: ["/probe", "waitfile", "/never"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, capabilities: { bounding: ["CAP_KILL"] }, oomScoreAdj: 500 },
      linux: {
        namespaces: NS, maskedPaths: ["/etc/marker", "/proc/kcore", "/no/such/path"], readonlyPaths: ["/tmp", "/proc/sys", "/no/such/dir"],
        sysctl: { "net.ipv4.ip_forward": "1", "kernel/shmmni": "1234", "fs.mqueue.msg_max": "20" },
      },
    };
    const r = oci(["create", "--bundle", bundle("paths", ["/probe"], cfg), c], fd);
    closeSync(fd);
    assert.equal(r.status, 0);
    try {
      assert.equal(oci(["start", c]).status, 0);
      const initPid = (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
      assert.equal(readFileSync(`/proc/${initPid}/oom_score_adj`, "utf8").trim(), "500");
      const ex = (...args: string[]) => oci(["exec", c, "/probe", ...args]).stdout;
      assert.equal(ex("read", "/etc/marker"), "ok \n", "masked: an empty file");
      assert.match(ex("write", "/tmp/x", "y"), /err EROFS/, "a read-only path");
      assert.match(ex("write", "/proc/sys/net/ipv4/ip_forward", "0"), /err EROFS/, "a read-only path");
      assert.equal(ex("read", "/proc/sys/net/ipv4/ip_forward"), "ok 1\n", "the container's own network sysctl");
      assert.equal(ex("read", "/proc/sys/kernel/shmmni"), "ok 1234\n", "the container's own ipc sysctl");
      assert.equal(ex("read", "/proc/sys/fs/mqueue/msg_max"), "ok 20\n");
      assert.notEqual(readFileSync("/proc/sys/kernel/shmmni", "utf8").trim(), "1234", "the host's is untouched");
      assert.match(ex("ls", "/sys/fs/cgroup"), /cgroup\.procs/, "the container's cgroup tree");
      assert.match(ex("write", "/sys/fs/cgroup/pids.max", "1"), /err E(ROFS|ACCES|NOENT)/);
    } finally {
      oci(["delete", "--force", c]);
    }
    for (const [name, linux, msg] of [
      ["sysctlhost", { sysctl: { "kernel.hostname": "x" } }, /^sysjail-oci: linux\.sysctl: "kernel\.hostname" is not a namespaced sysctl/],
      ["sysctlvm", { sysctl: { "vm.swappiness": "1" } }, /^sysjail-oci: linux\.sysctl: "vm\.swappiness" is not a namespaced sysctl/],
      ["maskrel", { maskedPaths: ["proc/kcore"] }, /^sysjail-oci: linux\.maskedPaths: "proc\/kcore" must be an absolute path/],
      ["rodots", { readonlyPaths: ["/tmp/../etc"] }, /^sysjail-oci: linux\.readonlyPaths: .* without '\.\.'/],
      ["oombad", { oom: 5000 }, /^sysjail-oci: process\.oomScoreAdj: 5000 must be an integer from -1000 to 1000/],
    ] as const) {
      const k = id(name);
      const { oom, ...rest } = linux as Record<string, unknown>;
      const extra = oom === undefined ? { linux: { namespaces: NS, ...rest } } : { process: { args: ["/probe", "pid"], oomScoreAdj: oom } };
      const f = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], extra), k]);
      assert.equal(f.status, 1, f.stderr);
      assert.match(f.stderr, msg);
      assert.equal(existsSync(join(state, k)), false, "nothing left in --root");
    }
  });

  it("process.capabilities: the bounding set, and the ambient set a non-root process keeps across exec", () => {
    const caps = (ambient: string[] | undefined) => {
      const k = id(`caps${ambient ? "a" : "n"}`);
      const process = { args: ["/probe", "cat", "/proc/self/status"], env: ["PATH=/bin"], cwd: "/", user: { uid: 1000, gid: 1000 },
        capabilities: { bounding: ["CAP_KILL", "CAP_CHOWN", "CAP_SYS_MODULE"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"], inheritable: ["CAP_KILL"], ...(ambient ? { ambient } : {}) } };
      const r = oci(["run", "--bundle", bundle(k.slice(-6), ["/probe"], { process }), k]);
      assert.equal(r.status, 0, r.stderr);
      return Object.fromEntries([...r.stdout.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map((m) => [m[1]!, BigInt(`0x${m[2]}`)]));
    };
    const kill = 1n << BigInt(Cap.KILL), chown = 1n << BigInt(Cap.CHOWN);
    const a = caps(["CAP_KILL", "CAP_SYS_MODULE", "CAP_NET_ADMIN"]);
    assert.equal(a.CapBnd, kill | chown, "the bounding set without what no jail may hold");
    assert.deepEqual([a.CapAmb, a.CapEff, a.CapPrm], [kill, kill, kill], "ambient: within the bounding set, kept across exec");
    const n = caps(undefined);
    assert.deepEqual([n.CapAmb, n.CapEff, n.CapPrm], [0n, 0n, 0n], "no ambient set: a non-root process has none after exec");
    // a capability set that is not a list of names: one line naming it, nothing left
    for (const [set, value] of [["ambient", "CAP_KILL"], ["inheritable", [1]], ["bounding", { a: 1 }]] as const) {
      const k = id(`capbad${set.slice(0, 3)}`);
      const f = oci(["create", "--bundle", bundle(k.slice(-6), ["/probe"], { process: { args: ["/probe", "pid"], capabilities: { [set]: value } } }), k]);
      assert.equal(f.status, 1, f.stderr);
      assert.match(f.stderr, new RegExp(`^sysjail-oci: .*config\\.json: process\\.capabilities\\.${set} must be a list of names\n$`, "m"));
      assert.equal(f.stderr.trim().split("\n").filter((l) => !l.includes("warning:")).length, 1);
      assert.equal(existsSync(join(state, k)), false, "nothing left in --root");
    }
  });

  it("linux.devices: each node made with the config's type, numbers, mode and owner (none on the host needed); bad entries refused", () => {
    const devices = [
      { path: "/dev/sysjail-test1", type: "c", major: 10, minor: 666, fileMode: 0o640, uid: 1, gid: 2 },
      { path: "/dev/sub/dir/blk", type: "b", major: 8, minor: 666, fileMode: 0o600 },
      { path: "/dev/fifo", type: "p", major: 8, minor: 666 },
      { path: "/dev/null", type: "c", major: 1, minor: 3 },
    ];
    const r = oci(["run", "--bundle", bundle("devs", ["/probe", "stat", ...devices.map((d) => d.path)], { linux: { namespaces: NS, devices } }), id("devs")]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["ok 20640 1 2 10:666", "ok 60600 0 0 8:666", "ok 10666 0 0 0:0", "ok 20666 0 0 1:3"]);
    for (const [name, d, msg] of [
      ["devpath", { path: "/etc/passwd", type: "c", major: 1, minor: 3 }, /a path under \/dev is needed/],
      ["devdots", { path: "/dev/../etc/x", type: "c", major: 1, minor: 3 }, /a path under \/dev is needed/],
      ["devtype", { path: "/dev/x", type: "s", major: 1, minor: 3 }, /type "s": c, u, b or p is needed/],
      ["devnum", { path: "/dev/x", type: "c", major: 1 }, /major \(0-4095\) and minor/],
      ["devmode", { path: "/dev/x", type: "c", major: 1, minor: 3, fileMode: 0o200000 }, /fileMode 65536: a file mode/],
      ["devuid", { path: "/dev/x", type: "c", major: 1, minor: 3, uid: 70000 }, /uid 70000 is outside the container's id map/],
      ["devpts", { path: "/dev/pts/9", type: "c", major: 136, minor: 9 }, /devpts, shm, mqueue, ptmx and fd links live there/],
      ["devfd", { path: "/dev/fd/x", type: "c", major: 1, minor: 3 }, /devpts, shm, mqueue, ptmx and fd links live there/],
    ] as const) {
      const k = id(name);
      const f = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], { linux: { namespaces: NS, devices: [d] } }), k]);
      assert.equal(f.status, 1, f.stderr);
      assert.match(f.stderr, msg);
      assert.equal(f.stderr.trim().split("\n").length, 1, f.stderr);
      assert.equal(existsSync(join(state, k)), false, "nothing left in --root");
    }
  });

  it("linux.uidMappings/gidMappings: a block of the id pool (only the asked ids) or root's own maps, warned of overlaps; host id 0 refused", () => {
    const pool = idPool();
    const b = blockBase(pool, pool.blocks - 1);
    const c = id("idmap");
    const fd = openSync("/dev/null", "w");
    const maps = (u: number, g: number, size: number) => ({ uidMappings: [{ containerID: 0, hostID: u, size }], gidMappings: [{ containerID: 0, hostID: g, size }] });
    const userNs = [...NS, { type: "user" }];
    const r = oci(["create", "--bundle", bundle("idmap", ["/probe", "pid"], { linux: { namespaces: userNs, ...maps(b.uid, b.gid, 1000) } }), c], fd);
    closeSync(fd);
    assert.equal(r.status, 0);
    try {
      const initPid = (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
      assert.deepEqual(readFileSync(`/proc/${initPid}/uid_map`, "utf8").trim().split(/\s+/).map(Number), [0, b.uid, 1000]);
      assert.deepEqual(readFileSync(`/proc/${initPid}/gid_map`, "utf8").trim().split(/\s+/).map(Number), [0, b.gid, 1000]);
    } finally {
      oci(["delete", "--force", c]);
    }
    // root's own maps off the pool: several ranges, uid and gid sizes apart (podman --uidmap);
    // a range over the host's nobody (65534) and one shared with a running container are warned of
    const off = 0x5e000000;
    const own = { uidMappings: [{ containerID: 0, hostID: off, size: 2000 }, { containerID: 2000, hostID: 65534, size: 1 }], gidMappings: [{ containerID: 0, hostID: off + 7, size: 3000 }] };
    const c1 = id("idown"), c2 = id("idown2");
    const warned: string[] = [];
    try {
      for (const k of [c1, c2]) {
        const r1 = oci(["create", "--bundle", bundle(k, ["/probe", "waitfile", "/never"], { linux: { namespaces: userNs, ...own } }), k], openSync(join(work, `${k}.out`), "w"));
        const text = readFileSync(join(work, `${k}.out`), "utf8");
        assert.equal(r1.status, 0, text);
        warned.push(text);
        const initPid = (JSON.parse(readFileSync(join(state, k, "state.json"), "utf8")) as { initPid: number }).initPid;
        const lines = (f: string) => readFileSync(`/proc/${initPid}/${f}`, "utf8").trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
        assert.deepEqual(lines("uid_map"), [[0, off, 2000], [2000, 65534, 1]]);
        assert.deepEqual(lines("gid_map"), [[0, off + 7, 3000]]);
      }
      assert.match(warned[0]!, /warning: linux\.uidMappings: the container's ids include the host's users nobody \(65534\)/);
      assert.doesNotMatch(warned[0]!, /overlap those of running jails/);
      assert.match(warned[1]!, new RegExp(`warning: linux\\.uidMappings: the host ids overlap those of running jails ${c1}`));
      // jexec-style entry through exec: the recorded multi-line map is the jail's
      assert.equal(oci(["start", c1]).status, 0);
      // once started the command runs as the container's root: host uid OFF (before, the init may
      // still be setting up as the runtime's uid)
      const init1 = (JSON.parse(readFileSync(join(state, c1, "state.json"), "utf8")) as { initPid: number }).initPid;
      for (let i = 0; i < 6000 && !readFileSync(`/proc/${init1}/cmdline`, "utf8").startsWith("/probe"); i++) spawnSync("sleep", ["0.01"]);
      assert.equal(readFileSync(`/proc/${init1}/status`, "utf8").match(/^Uid:\s+(\d+)/m)?.[1], String(off), "the container's root is host uid OFF");
      const e = oci(["exec", c1, "/probe", "pid"]);
      assert.equal(e.status, 0, e.stderr);
    } finally {
      oci(["delete", "--force", c1]);
      oci(["delete", "--force", c2]);
    }
    for (const [name, linux, msg] of [
      ["idroot", maps(0, 0, 1000), /linux\.uidMappings: container id 0 onto host id 0: host root is never a container's id/],
      ["idroot2", { uidMappings: [{ containerID: 0, hostID: off, size: 10 }], gidMappings: [{ containerID: 0, hostID: off, size: 10 }, { containerID: 10, hostID: 0, size: 1 }] }, /linux\.gidMappings: container id 10 onto host id 0/],
      ["idover", { uidMappings: [{ containerID: 0, hostID: off, size: 10 }, { containerID: 5, hostID: off + 100, size: 10 }], gidMappings: maps(off, off, 10).gidMappings }, /linux\.uidMappings: the ranges overlap in their container ids/],
      ["idhostover", { uidMappings: [{ containerID: 0, hostID: off, size: 10 }, { containerID: 10, hostID: off + 5, size: 10 }], gidMappings: maps(off, off, 10).gidMappings }, /linux\.uidMappings: the ranges overlap in their host ids/],
      ["idbad", { uidMappings: [{ containerID: 0, hostID: -1, size: 10 }], gidMappings: maps(off, off, 10).gidMappings }, /linux\.uidMappings: .*whole numbers below 4294967295/],
      ["idhalf", { uidMappings: maps(off, off, 10).uidMappings }, /linux\.gidMappings is missing/],
      ["iduser", { ...maps(b.uid, b.gid, 1000), user: { uid: 2000 } }, /process\.user: id 2000 is outside the container's id map \(0-999\)/],
    ] as const) {
      const k = id(name);
      const { user, ...rest } = linux as Record<string, unknown>;
      const extra = { linux: { namespaces: userNs, ...rest }, ...(user ? { process: { args: ["/probe", "pid"], user } } : {}) };
      const f = oci(["create", "--bundle", bundle(name, ["/probe", "pid"], extra), k]);
      assert.equal(f.status, 1, f.stderr);
      assert.match(f.stderr, msg);
      assert.equal(f.stderr.trim().split("\n").length, 1, f.stderr);
      assert.equal(existsSync(join(state, k)), false, "nothing left in --root");
    }
  });

  it("update writes new memory, pids and cpu limits into the container's cgroup", () => {
    const c = id("upd");
    const fd = openSync("/dev/null", "w");
    const cfg = { linux: { namespaces: NS, resources: { pids: { limit: 32 }, memory: { limit: 256 << 20 }, cpu: { quota: 50000, period: 100000 } } } };
    assert.equal(oci(["create", "--bundle", bundle("upd", ["/probe", "pid"], cfg), c], fd).status, 0);
    closeSync(fd);
    const initPid = (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
    // the jail's cgroups as the host sees them: v2 ("0::"), or each controller's v1 hierarchy
    const lines = readFileSync(`/proc/${initPid}/cgroup`, "utf8").trim().split("\n").map((l) => l.split(":"));
    const v1 = (ctl: string) => lines.find((l) => l[1]!.split(",").includes(ctl));
    const dir = (ctl: string) => (v1(ctl) ? join("/sys/fs/cgroup", ctl, v1(ctl)![2]!) : join("/sys/fs/cgroup", lines.find((l) => l[0] === "0")![2]!));
    const v2 = !v1("memory");
    const read = (ctl: string, f: string) => readFileSync(join(dir(ctl), f), "utf8").trim();
    const cpu = () => (v2 ? read("cpu", "cpu.max") : `${read("cpu", "cpu.cfs_quota_us")} ${read("cpu", "cpu.cfs_period_us")}`);
    assert.equal(read("pids", "pids.max"), "33");
    let u = oci(["update", "--memory", "128m", "--pids-limit", "10", "--cpu-quota", "20000", c]);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(read("memory", v2 ? "memory.max" : "memory.limit_in_bytes"), String(128 << 20));
    assert.equal(read("pids", "pids.max"), "11", "the limit plus the jail's init, as at create");
    assert.equal(cpu(), "20000 100000");
    const res = join(work, "res.json");
    writeFileSync(res, JSON.stringify({ pids: { limit: -1 }, cpu: { period: 200000 } }));
    u = oci(["update", "-r", res, c]);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(read("pids", "pids.max"), "max");
    assert.equal(cpu(), "20000 200000");
    // memory and memory+swap lowered, raised (as kubelet does through the CRI), lowered again:
    // v1 keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every write
    const memsw = !v2 && existsSync(join(dir("memory"), "memory.memsw.limit_in_bytes"));
    for (const mb of [64, 512, 32]) {
      writeFileSync(res, JSON.stringify({ memory: { limit: mb << 20, ...(v2 || memsw ? { swap: mb << 20 } : {}) } }));
      u = oci(["update", "-r", res, c]);
      assert.equal(u.status, 0, u.stderr);
      assert.equal(read("memory", v2 ? "memory.max" : "memory.limit_in_bytes"), String(mb << 20));
      if (memsw) assert.equal(read("memory", "memory.memsw.limit_in_bytes"), String(mb << 20));
    }
    // cpu shares (kubelet's UpdateContainerResources always sends them); a controller the
    // container has no cgroup of is refused in one line before anything is written
    writeFileSync(res, JSON.stringify({ cpu: { shares: 1024 } }));
    u = oci(["update", "-r", res, c]);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(read("cpu", v2 ? "cpu.weight" : "cpu.shares"), v2 ? "39" : "1024");
    writeFileSync(res, JSON.stringify({ cpu: { shares: 512 }, blockIO: { weight: 10 } }));
    u = oci(["update", "-r", res, c]);
    assert.equal(u.status, 1);
    assert.match(u.stderr, /^sysjail-oci: container \S+: blockIO: the container has no blkio cgroup/);
    assert.equal(u.stderr.trim().split("\n").length, 1);
    assert.equal(read("cpu", v2 ? "cpu.weight" : "cpu.shares"), v2 ? "39" : "1024", "nothing written");
    writeFileSync(res, JSON.stringify({ cpu: { cpus: "0;1" } }));
    u = oci(["update", "-r", res, c]);
    assert.equal(u.status, 1);
    assert.match(u.stderr, /cpu\.cpus/);
    assert.equal(u.stderr.trim().split("\n").length, 1);
    for (const [args, code, msg] of [
      [["update", "--memory", "lots", c], 64, /--memory "lots": a number of bytes/],
      [["update", c], 64, /nothing to change/],
      [["update", "--pids-limit", "5", id("nosuch")], 1, /does not exist/],
    ] as const) {
      const b = oci([...args]);
      assert.equal(b.status, code, b.stderr);
      assert.match(b.stderr, msg);
      assert.equal(b.stderr.trim().split("\n").length, 1);
    }
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("process.terminal: the pty master goes to --console-socket (SCM_RIGHTS), the slave is the command's stdio", async () => {
    // the engine's side (conmon's): a unix socket that takes one descriptor and reads the terminal to its end
    const recv = join(work, "recv.py");
    writeFileSync(recv, [
      "import os, socket, stat, sys",
      "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)",
      "c, _ = s.accept(); msg, fds, _, _ = socket.recv_fds(c, 64, 1)",
      "m = fds[0]; out = b''",
      "while True:",
      "    try: b = os.read(m, 4096)",
      "    except OSError: break",
      "    if not b: break",
      "    out += b",
      "st = os.fstat(m)",
      "open(sys.argv[2], 'wb').write(b'%d %d ' % (os.major(st.st_rdev), os.minor(st.st_rdev)) + msg + b'\\n' + out)",
    ].join("\n"));
    const sock = join(work, "console.sock");
    const got = join(work, "console.out");
    const py = spawn("python3", [recv, sock, got], { stdio: "ignore" });
    const ended = new Promise((r) => py.on("exit", r));
    try {
      for (let i = 0; i < 3000 && !existsSync(sock); i++) spawnSync("sleep", ["0.01"]);
      const term = { process: { terminal: true, args: ["/probe", "fds"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, consoleSize: { height: 30, width: 100 } } };
      const r = oci(["run", "--console-socket", sock, "--bundle", bundle("tty", ["/probe", "fds"], term), id("tty")]);
      assert.equal(r.status, 0, r.stderr);
      await ended;
      const [head, body] = readFileSync(got, "utf8").split("\n");
      assert.equal(head, "5 2 /dev/ptmx", "a ptmx master arrived");
      // the command's output came through the master, with the terminal's CR-LF (onlcr): its stdout is the slave
      assert.match(body ?? "", /^fds 0 1 2\r$/m, `the command wrote to the terminal: ${JSON.stringify(body)}`);
    } finally {
      if (py.exitCode === null) py.kill();
    }
    // exec --tty --console-socket into a running container: the same, through the enter plan
    const c = id("ttyexec");
    const fd = openSync("/dev/null", "w");
    assert.equal(oci(["create", "--bundle", bundle("ttyexec", ["/probe", "waitfile", "/never"]), c], fd).status, 0);
    closeSync(fd);
    assert.equal(oci(["start", c]).status, 0);
    const sock2 = join(work, "console2.sock");
    const got2 = join(work, "console2.out");
    const py2 = spawn("python3", [recv, sock2, got2], { stdio: "ignore" });
    const ended2 = new Promise((r) => py2.on("exit", r));
    try {
      for (let i = 0; i < 3000 && !existsSync(sock2); i++) spawnSync("sleep", ["0.01"]);
      const e = oci(["exec", "--tty", "--console-socket", sock2, c, "/probe", "fds"]);
      assert.equal(e.status, 0, e.stderr);
      await ended2;
      const [head, body] = readFileSync(got2, "utf8").split("\n");
      assert.equal(head, "5 2 /dev/ptmx");
      assert.match(body ?? "", /^fds 0 1 2\r$/m);
      // --tty alone, on a terminal of the caller's (script(1) gives one): the helper relays a pty of the jail
      const quote = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
      const t = spawnSync("script", ["-qec", [OCI, "--root", state, "exec", "--tty", c, "/probe", "fds"].map(quote).join(" "), "/dev/null"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
      assert.equal(t.status, 0, t.stderr + t.stdout);
      // script(1) forwards its own stdin's end (a NUL) into the pty at any moment, echoed raw or
      // as "^@" (the terminal's echoctl) amid the output: not the command's output
      assert.match(t.stdout.replace(/\0|\^@/g, ""), /fds 0 1 2\r$/m, "(script echoes its end of input before it)");
      const badExec = oci(["exec", "--console-socket", sock2, c, "/probe", "fds"]);
      assert.equal(badExec.status, 1);
      assert.match(badExec.stderr, /needs --tty/);
    } finally {
      if (py2.exitCode === null) py2.kill();
      oci(["delete", "--force", c]);
    }
    const noSock = oci(["create", "--bundle", bundle("tty2", ["/probe", "fds"], { process: { terminal: true, args: ["/probe", "fds"], cwd: "/" } }), id("tty2")]);
    assert.equal(noSock.status, 1);
    assert.match(noSock.stderr, /process\.terminal is true: --console-socket is needed/);
    const noTerm = oci(["create", "--console-socket", got, "--bundle", bundle("tty3", ["/probe", "fds"]), id("tty3")]);
    assert.equal(noTerm.status, 1);
    assert.match(noTerm.stderr, /process\.terminal must be true/);
  });

  it("a cgroup the init cannot join (ENOSPC injected) fails create in one line; nothing is left", () => {
    const c = id("join");
    const v1pids = existsSync("/sys/fs/cgroup/pids/cgroup.procs");
    const env = { ...process.env, SYSJAIL_TEST_FAULT: `fail:${v1pids ? "cgroup-join" : "cgroup-attach"}` };
    const r = spawnSync(OCI, ["--root", state, "create", "--bundle", bundle("join", ["/probe", "pid"]), c], { encoding: "utf8", env, timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^sysjail-oci: setting up the jail failed at cgroup-(join|attach) \S+: ENOSPC\n$/);
    assert.equal(existsSync(join(state, c)), false, "the failed create's directory is left");
    const left = spawnSync("pgrep", ["-f", `${c}`], { encoding: "utf8" }).stdout.trim();
    assert.equal(left, "", "a process of the failed create is left");
    const file = / at cgroup-\S+ (\S+): /.exec(r.stderr)![1]!;
    assert.equal(existsSync(dirname(file)), false, "the container's cgroup is left");
  });

  it("bad input: one line, runc's status (64 for usage), nothing left", () => {
    const cases: [string[], number, RegExp][] = [
      [["no-such-command"], 64, /unknown command "no-such-command"/],
      [["create", "--no-such-flag", "x"], 64, /unknown option --no-such-flag/],
      [["create", "--bundle", join(work, "missing"), id("missing")], 1, /no config\.json there/],
      [["state", "bad/id"], 1, /container id "bad\/id"/],
      [["delete", id("unknown")], 1, /does not exist/],
      [["kill", id("unknown2"), "NOSIG"], 1, /signal "NOSIG"/],
    ];
    const broken = join(work, "broken");
    spawnSync("mkdir", ["-p", broken]);
    writeFileSync(join(broken, "config.json"), "{ not json");
    cases.push([["create", "--bundle", broken, id("broken")], 1, /not valid JSON/]);
    const noargs = bundle("noargs", []);
    cases.push([["create", "--bundle", noargs, id("noargs")], 1, /process\.args is empty/]);
    const badVersion = bundle("badversion", ["/probe", "pid"], { ociVersion: "invalid" });
    cases.push([["create", "--bundle", badVersion, id("badversion")], 1, /"ociVersion" "invalid" is not a 1\.x\.y version/]);
    for (const [args, code, msg] of cases) {
      const r = oci(args);
      assert.equal(r.status, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
    const json = spawnSync(OCI, ["--log-format", "json", "--root", state, "delete", id("j")], { encoding: "utf8" });
    assert.equal(json.status, 1);
    assert.equal(JSON.parse(json.stderr).level, "error");
    // a config.json asking for something refused: one JSON line too, nothing left
    const refused = bundle("jsonrefused", ["/probe", "pid"], { linux: { namespaces: NS, sysctl: { "vm.swappiness": "1" } } });
    const jr2 = spawnSync(OCI, ["--log-format", "json", "--root", state, "create", "--bundle", refused, id("jsonrefused")], { encoding: "utf8" });
    assert.equal(jr2.status, 1);
    assert.equal(jr2.stderr.trim().split("\n").length, 1, jr2.stderr);
    assert.match(JSON.parse(jr2.stderr).msg, /vm\.swappiness" is not a namespaced sysctl/);
    assert.deepEqual(readdirSync(state).filter((n) => n.startsWith("ocitest-")), [], "no failed create leaves its directory");
  });
});

describe("sysjail-oci: the engine's /dev/shm (unit)", () => {
  it("config.json's /dev/shm takes the place of the jail's own tmpfs, in the devfs' order; nothing else under /dev is applied", () => {
    const { patch } = ociJail("c3", {
      ociVersion: "1.2.0", root: { path: "/r" }, process: { args: ["/probe"] },
      mounts: [{ destination: "/dev/shm", type: "bind", source: "/", options: ["bind", "nosuid", "noexec", "nodev"] }, { destination: "/dev/other", type: "bind", source: "/" }],
    }, "/r", () => undefined);
    const plan = { mode: "run" as const, flags: 0, ops: [op("root", ["/r"]), op("mountFs", ["tmpfs", "/dev", "s", ""]), op("mountFs", ["tmpfs", "/dev/shm", "s", "mode=1777"]), op("mountFs", ["mqueue", "/dev/mqueue", "s", ""]), op("pivot"), op("caps", [1n, 2n]), op("nnp"), op("exec", ["/probe", "/probe"])] };
    const ids = { uidMap: "", gidMap: "", setgroups: "allow" as const, count: 65536, hostBase: 100000, rootless: false };
    const out = patchPlan(plan, patch, ids, "/run/x/exec.fifo");
    assert.deepEqual(out.ops.slice(1, 5).map((o) => `${o.op} ${String(o.args[1])}`), ["mountFs /dev", "bind /dev/shm", "mountFs /dev/mqueue", "pivot undefined"], "the bind is the only one: /dev/other is not applied");
    assert.equal(out.ops[2]!.args[0], "/");
  });
});

describe("sysjail-oci: a v1 host's /sys/fs/cgroup (unit)", () => {
  it("replaces the cgroup2 mount with runc's layout: a tmpfs, each hierarchy read-only, the unified one, the host's links; nothing on a v2 host", async () => {
    const { v1CgroupView } = await import("../../src/oci/cgroupview.js");
    const ops = [op("mountFs", ["sysfs", "/sys", "r", ""]), op("mountFs", ["cgroup2", "/sys/fs/cgroup", "rs", ""]), op("pivot")];
    const m = (path: string, version: 1 | 2, controllers: string[]) => ({ path, version, controllers, mountRoot: "/" });
    const layout = { mode: "hybrid" as const, root: "/sys/fs/cgroup", v1: {}, self: {}, mounts: [m("/sys/fs/cgroup/cpu,cpuacct", 1, ["cpu", "cpuacct"]), m("/sys/fs/cgroup/systemd", 1, ["name=systemd"]), m("/sys/fs/cgroup/unified", 2, []), m("/sys/fs/cgroup/bad/x", 1, ["pids"])] };
    const out = v1CgroupView(ops, layout, [["cpu", "cpu,cpuacct"], ["x", "/etc"]]);
    assert.deepEqual(out.map((o) => `${o.op} ${o.args.slice(0, 2).join(" ")}`), [
      "mountFs sysfs /sys", "mountFs tmpfs /sys/fs/cgroup", "mkdir /sys/fs/cgroup/cpu,cpuacct 0755", "mkdir /sys/fs/cgroup/systemd 0755", "mkdir /sys/fs/cgroup/unified 0755",
      "symlink cpu,cpuacct /sys/fs/cgroup/cpu", "rebind /sys/fs/cgroup r" + "s", "mountFs cgroup /sys/fs/cgroup/cpu,cpuacct", "mountFs cgroup /sys/fs/cgroup/systemd", "mountFs cgroup2 /sys/fs/cgroup/unified", "pivot ",
    ]);
    assert.equal(out[7]!.args[3], "cpu,cpuacct");
    assert.equal(out[8]!.args[3], "none,name=systemd");
    assert.ok(String(out[7]!.args[2]).includes("r"), "read-only");
    assert.deepEqual(v1CgroupView(ops, { ...layout, mode: "v2" }, []), ops);
  });
});
