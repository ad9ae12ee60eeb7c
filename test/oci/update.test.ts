// sysjail-oci update on real containers (root): runc's flags and -r read back from the cgroup
// files, cpuset pinning seen in the init's Cpus_allowed_list, device rules that take /dev/null
// away and give it back, the v2 device program replaced on a real cgroup2 directory, and every
// bad input as one line with runc's status (64 for a usage error).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ociFileCli, ociWaitBundle } from "../helpers/ocibundle.js";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { podmanFixture } from "../helpers/podman.js";
import { makeNobody, NOBODY_GID, NOBODY_UID, type Nobody } from "../helpers/nobody.js";
import { makeOwnedDir } from "../helpers/tmp.js";
import { flagResources, parseResources, sizeArg } from "../../src/oci/updateargs.js";
import { replaceDeviceProgram } from "../../src/oci/update.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");

describe("sysjail-oci update: flags and -r (unit)", () => {
  it("takes runc's units and -1, and refuses a bad value in one line with status 64", () => {
    assert.equal(sizeArg("memory", "128m"), 128 << 20);
    assert.equal(sizeArg("memory", "1.5g"), 1.5 * 2 ** 30);
    assert.equal(sizeArg("memory", "64MiB"), 64 << 20);
    assert.equal(sizeArg("memory", "-1"), -1);
    const r = flagResources({ "cpu-share": "512", "cpu-quota": "-1", "cpuset-cpus": "0-1", "blkio-weight": "300", "pids-limit": "-1", "memory-reservation": "1k" }, () => undefined);
    assert.deepEqual(r, { memory: { reservation: 1024 }, cpu: { shares: 512, quota: -1, cpus: "0-1" }, pids: { limit: -1 }, blockIO: { weight: 300 } });
    for (const [o, re] of [
      [{ memory: "lots" }, /^--memory "lots": a number of bytes/],
      [{ "cpu-period": "-1" }, /^--cpu-period "-1": a whole number \(0 or more\)$/],
      [{ "cpu-quota": "1.5" }, /^--cpu-quota "1.5": a whole number, or -1 for no limit$/],
      [{ "blkio-weight": "5" }, /^--blkio-weight "5": from 10 to 1000/],
      [{ "cpuset-cpus": "0-x" }, /^--cpuset-cpus "0-x": a list of numbers and ranges/],
    ] as const) {
      assert.throws(() => flagResources(o, () => undefined), (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 64, String(re));
    }
  });

  it("checks -r's LinuxResources field by field (status 1), warns what update does not set", () => {
    const warns: string[] = [];
    const r = parseResources({ memory: { limit: 1024, swappiness: 10 }, cpu: { cpus: "0", realtimePeriod: 5 }, devices: [{ allow: true, type: "c", major: 1, minor: 3 }], rdma: {} }, (m) => warns.push(m));
    assert.deepEqual(r.devices, [{ allow: true, type: "c", major: 1, minor: 3, access: "rwm" }], "the list as given: no defaults added");
    assert.deepEqual(warns, ["resources.rdma: accepted, not enforced by update"]);
    for (const [raw, re] of [
      [{ memory: { limit: "1g" } }, /^resources\.memory\.limit "1g": a whole number, or -1 for no limit$/],
      [{ cpu: { shares: -1 } }, /^resources\.cpu\.shares -1: a whole number from 0 to/],
      [{ cpu: { cpus: 3 } }, /^resources\.cpu\.cpus 3: must be a string$/],
      [{ memory: { swappiness: 101 } }, /^resources\.memory\.swappiness 101: a whole number from 0 to 100$/],
      [{ blockIO: { weight: 2000 } }, /^resources\.blockIO\.weight 2000:/],
      [{ blockIO: { throttleReadBpsDevice: [{ major: 8 }] } }, /^resources\.blockIO\.throttleReadBpsDevice\[0\]\.*.*needs a major, a minor number and a rate/],
      [{ devices: [{ allow: "yes" }] }, /^resources\.devices\[0\]: "allow" must be true or false$/],
      [{ hugepageLimits: [{ pageSize: "2M", limit: 1 }] }, /^resources\.hugepageLimits\[0\]\.pageSize "2M": a page size such as "2MB"/],
      [{ unified: { "cgroup.procs": "1" } }, /^resources\.unified key "cgroup\.procs" "1": a controller's file name/],
      [{ unified: { "../x.y": "1" } }, /^resources\.unified key/],
      [{ pids: 5 }, /^resources\.pids 5: must be an object$/],
      [{ cpu: { cpus: "0-x" } }, /^resources\.cpu\.cpus "0-x": a list of numbers and ranges/],
      [{ blockIO: { weightDevice: {} } }, /^resources\.blockIO\.weightDevice \{\}: must be a list$/],
      [{ blockIO: { weightDevice: [{ weight: 100 }] } }, /^resources\.blockIO\.weightDevice\[0\] .*needs a major and a minor number$/],
      [{ blockIO: { leafWeight: 5 } }, /^resources\.blockIO\.leafWeight 5: from 10 to 1000/],
      [{ hugepageLimits: [{ pageSize: "2MB" }] }, /^resources\.hugepageLimits\[0\]\.limit undefined: a number of bytes is needed$/],
      [{ unified: { "memory.high": 5 } }, /^resources\.unified\.memory\.high 5: must be a one-line string$/],
    ] as const) {
      assert.throws(() => parseResources(raw as never, () => undefined), (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 1 && !e.message.includes("\n"), String(re));
    }
  });
});

describe("sysjail-oci update: real containers (root)", () => {
  let jr: JailRoot;
  let state: string;
  let work: string;
  const ids: string[] = [];
  const top = `ociupdate-test-${process.pid}`;
  // every hierarchy: the v1 ones, a hybrid host's unified one, or a v2 host's root
  const mounts = () => existsSync("/sys/fs/cgroup/cgroup.controllers") ? ["/sys/fs/cgroup"]
    : readdirSync("/sys/fs/cgroup").map((d) => join("/sys/fs/cgroup", d)).filter((d) => existsSync(join(d, "tasks")) || existsSync(join(d, "cgroup.controllers")));
  const oci = ociFileCli(() => state, () => work);
  const bundle = ociWaitBundle(() => work, () => jr.path, "updbox");
  const id = (s: string) => { const v = `ociupdate-${process.pid}-${s}`; ids.push(v); return v; };
  const initPid = (c: string) => (JSON.parse(readFileSync(join(state, c, "state.json"), "utf8")) as { initPid: number }).initPid;
  const cpusAllowed = (pid: number) => /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1];
  /** One line, status as given. */
  const badLine = (r: { status: number | null; out: string }, status: number, re: RegExp) => {
    assert.equal(r.status, status, r.out);
    assert.match(r.out, re);
    assert.equal(r.out.trim().split("\n").length, 1, r.out);
  };

  before(() => {
    requireRoot("sysjail-oci's update tests");
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("ociupdate-state-", 0o700);
    work = makeTempDir("ociupdate-work-");
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    for (const m of mounts()) for (const d of [join(m, top, "p"), join(m, top)]) { try { rmdirSync(d); } catch { /* not there */ } }
    jr?.remove();
    removeTree(state);
    removeTree(work);
  });

  it("flags at a cgroupsPath: cpu shares, cpuset (the init pinned, then free again), memory, reservation, real-time period; CPUs outside the parent's refused before any write", () => {
    if (!existsSync("/sys/fs/cgroup/cpuset/tasks")) return; // a v1 check: this host's layout (hybrid)
    const c = id("flags");
    const r = oci(["create", "--bundle", bundle("flags", { cgroupsPath: `/${top}/p/${c}`, resources: { pids: { limit: 100 }, memory: { limit: 64 << 20 }, cpu: { shares: 1024, cpus: "0-1" } } }), c]);
    assert.equal(r.status, 0, r.out);
    const leaf = (ctl: string) => join("/sys/fs/cgroup", ctl, top, "p", c);
    const read = (ctl: string, f: string) => readFileSync(join(leaf(ctl), f), "utf8").trim();
    const pid = initPid(c);
    const all = read("cpuset", "cpuset.cpus");
    let u = oci(["update", "--cpu-shares", "512", "--cpuset-cpus", "0", "--memory", "128m", "--memory-reservation", "32m", "--cpu-rt-period", "900000", "--pids-limit", "50", c]);
    assert.equal(u.status, 0, u.out);
    assert.equal(read("cpu", "cpu.shares"), "512");
    assert.equal(read("cpuset", "cpuset.cpus"), "0");
    assert.equal(cpusAllowed(pid), "0", "the container's init may run on CPU 0 only");
    assert.equal(oci(["start", c]).status, 0);
    assert.match(oci(["exec", c, "/probe", "cat", "/proc/self/status"]).out, /^Cpus_allowed_list:\s+0$/m, "an exec'd process too");
    assert.equal(read("memory", "memory.limit_in_bytes"), String(128 << 20));
    assert.equal(read("memory", "memory.soft_limit_in_bytes"), String(32 << 20));
    assert.equal(read("cpu", "cpu.rt_period_us"), "900000");
    assert.equal(read("pids", "pids.max"), "50", "a cgroupsPath's limit as given (no overhead)");
    u = oci(["update", "--cpuset-cpus", all, "--cpu-share", "2048", c]);
    assert.equal(u.status, 0, u.out);
    assert.equal(cpusAllowed(pid), all, "free again on every CPU of the parent");
    assert.equal(read("cpu", "cpu.shares"), "2048", "runc's --cpu-share spelling too");
    // CPU 4095 is nobody's: refused in one line, the shares given beside it left unwritten
    badLine(oci(["update", "--cpu-shares", "100", "--cpuset-cpus", "4095", c]), 1, /cpu\.cpus "4095": CPUs 4095 are not in the parent cgroup's/);
    assert.equal(read("cpu", "cpu.shares"), "2048");
    // --blkio-weight: this host's schedulers have no weights: accepted, one warning naming it
    u = oci(["update", "--blkio-weight", "500", c]);
    assert.equal(u.status, 0, u.out);
    if (!existsSync(join(leaf("blkio"), "blkio.weight")) && !existsSync(join(leaf("blkio"), "blkio.bfq.weight"))) assert.match(u.out, /warning: blockIO\.weight: accepted, not enforced/);
    u = oci(["update", "--kernel-memory", "10m", c]);
    assert.equal(u.status, 0, u.out);
    assert.match(u.out, /kernel memory limits .*not enforced/);
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("-r (a file and standard input): memory, cpu quota and period, a block device's throttle read back; other flags ignored with a warning", () => {
    if (!existsSync("/sys/fs/cgroup/blkio/tasks")) return; // a v1 check: this host's layout (hybrid)
    const c = id("res");
    assert.equal(oci(["create", "--bundle", bundle("res", { cgroupsPath: `/${top}/p/${c}`, resources: { memory: { limit: 64 << 20 } } }), c]).status, 0);
    const leaf = (ctl: string) => join("/sys/fs/cgroup", ctl, top, "p", c);
    const read = (ctl: string, f: string) => readFileSync(join(leaf(ctl), f), "utf8").trim();
    // a real block device of this machine (its numbers from sysfs)
    const blk = readdirSync("/sys/block").map((b) => readFileSync(join("/sys/block", b, "dev"), "utf8").trim()).find((d) => !d.startsWith("7:"));
    const [major, minor] = (blk ?? "0:0").split(":").map(Number);
    const res = join(work, "res.json");
    writeFileSync(res, JSON.stringify({ memory: { limit: 96 << 20 }, cpu: { quota: 30000, period: 60000 }, blockIO: blk ? { throttleReadBpsDevice: [{ major, minor, rate: 1048576 }] } : {} }));
    const u = oci(["update", "-r", res, "--memory", "1g", c]);
    assert.equal(u.status, 0, u.out);
    assert.match(u.out, /--memory ignored \(--resources gives every limit\)/);
    assert.equal(read("memory", "memory.limit_in_bytes"), String(96 << 20));
    assert.deepEqual([read("cpu", "cpu.cfs_quota_us"), read("cpu", "cpu.cfs_period_us")], ["30000", "60000"]);
    if (blk) assert.equal(read("blkio", "blkio.throttle.read_bps_device"), `${blk} 1048576`);
    const s = oci(["update", "-r", "-", c], JSON.stringify({ memory: { limit: -1 }, cpu: { quota: -1 } }));
    assert.equal(s.status, 0, s.out);
    assert.equal(Number(read("memory", "memory.limit_in_bytes")) > 2 ** 62, true, "no limit");
    assert.equal(read("cpu", "cpu.cfs_quota_us"), "-1");
    badLine(oci(["update", "-r", "-", c], "{nope"), 1, /--resources "-": not valid JSON/);
    badLine(oci(["update", "-r", "-", c], JSON.stringify({ cpu: { shares: "x" } })), 1, /resources\.cpu\.shares "x": a whole number/);
    badLine(oci(["update", "-r", "-", c], JSON.stringify({ unified: { "memory.high": "1" } })), 1, /unified: only on cgroup v2/);
    badLine(oci(["update", "-r", join(work, "nosuch.json"), c]), 1, /--resources ".*nosuch\.json": ENOENT/);
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("device rules: an update takes /dev/null away from the container's open (EPERM), another gives it back", () => {
    const c = id("dev");
    // sysjail's own cgroups (no cgroupsPath): the device rules' cgroup is recorded as at create
    assert.equal(oci(["create", "--bundle", bundle("dev", { resources: { devices: [{ allow: false, access: "rwm" }] } }), c]).status, 0);
    assert.equal(oci(["start", c]).status, 0);
    const open = () => oci(["exec", c, "/probe", "read", "/dev/null"]).out.trim();
    assert.equal(open(), "ok", "/dev/null: one of the defaults create adds");
    const zeroOnly = JSON.stringify({ devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 5, access: "rwm" }] });
    let u = oci(["update", "-r", "-", c], zeroOnly);
    assert.equal(u.status, 0, u.out);
    assert.equal(open(), "err EPERM", "the new list as it stands: /dev/null is not in it");
    assert.equal(oci(["exec", c, "/probe", "read", "/dev/zero"]).out.trim().startsWith("ok"), true, "/dev/zero is");
    u = oci(["update", "-r", "-", c], JSON.stringify({ devices: [{ allow: true, type: "c", major: 1, minor: 3, access: "rwm" }] }));
    assert.equal(u.status, 0, u.out);
    assert.equal(open(), "ok", "given back");
    badLine(oci(["update", "-r", "-", c], JSON.stringify({ devices: [{ allow: true, type: "x" }] })), 1, /resources\.devices\[0\]: type "x": a, c or b is allowed/);
    assert.equal(open(), "ok", "a refused update changes nothing");
    // no cpuset cgroup of its own: refused naming it
    badLine(oci(["update", "--cpuset-cpus", "0", c]), 1, /cpuset: the container has no cpuset cgroup, so it cannot change/);
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("memory raised and lowered in sysjail's own cgroups: memory+swap moves with it (written first when rising), as no swap was given", () => {
    const c = id("mem");
    assert.equal(oci(["create", "--bundle", bundle("mem", { resources: { memory: { limit: 64 << 20 } } }), c]).status, 0);
    const lines = readFileSync(`/proc/${initPid(c)}/cgroup`, "utf8").trim().split("\n").map((l) => l.split(":"));
    const mem = lines.find((l) => l[1]!.split(",").includes("memory"));
    if (!mem || !existsSync(join("/sys/fs/cgroup/memory", mem[2]!, "memory.memsw.limit_in_bytes"))) { assert.equal(oci(["delete", "--force", c]).status, 0); return; }
    const read = (f: string) => readFileSync(join("/sys/fs/cgroup/memory", mem[2]!, f), "utf8").trim();
    assert.equal(read("memory.memsw.limit_in_bytes"), String(64 << 20), "no swap at create");
    let u = oci(["update", "--memory", "256m", c]);
    assert.equal(u.status, 0, u.out);
    assert.deepEqual([read("memory.limit_in_bytes"), read("memory.memsw.limit_in_bytes")], [String(256 << 20), String(256 << 20)]);
    u = oci(["update", "--memory", "32m", "--memory-swap", "48m", c]);
    assert.equal(u.status, 0, u.out);
    assert.deepEqual([read("memory.limit_in_bytes"), read("memory.memsw.limit_in_bytes")], [String(32 << 20), String(48 << 20)]);
    badLine(oci(["update", "--memory", "64m", "--memory-swap", "32m", c]), 1, /memory\.swap 33554432: memory plus swap cannot be below the memory limit/);
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("bad input: one line each, runc's status (64 for usage), nothing changed", () => {
    const c = id("bad");
    assert.equal(oci(["create", "--bundle", bundle("bad", { resources: { pids: { limit: 20 }, cpu: { shares: 512 } } }), c]).status, 0);
    for (const [args, code, re] of [
      [["update", "--memory", "lots", c], 64, /--memory "lots": a number of bytes/],
      [["update", "--cpu-period", "x", c], 64, /--cpu-period "x": a whole number/],
      [["update", "--blkio-weight", "2000", c], 64, /--blkio-weight "2000": from 10 to 1000/],
      [["update", "--cpuset-mems", "a", c], 64, /--cpuset-mems "a": a list of numbers/],
      [["update", "--no-such", "1", c], 64, /update: unknown option --no-such/],
      [["update", c], 64, /nothing to change/],
      [["update", "--pids-limit", "5"], 64, /a container id is needed/],
      [["update", "--pids-limit", "5", id("nosuch")], 1, /does not exist/],
      [["update", "-r", "-", c], 1, /--resources "-": must hold a JSON object/],
      // v1's cpu hierarchy: the kernel's refusal (a real-time runtime longer than its period,
      // named by its file); cgroup v2 has no real-time files: warned as not enforced
      (existsSync("/sys/fs/cgroup/cpu/cpu.rt_runtime_us")
        ? [["update", "--cpu-rt-runtime", "2000000", c], 1, /cpu\.rt_runtime_us = 2000000: EINVAL/]
        : [["update", "--cpu-rt-runtime", "2000000", c], 0, /cpu\.realtimeRuntime: accepted, not enforced \(cgroup v2 has no real-time bandwidth\)/]) as [string[], number, RegExp],
    ] as const) badLine(oci([...args], args[1] === "-r" ? "[]" : undefined), code, re);
    // a container whose process ended: stopped, nothing to update
    const s = id("stopped");
    assert.equal(oci(["create", "--bundle", bundle("stopped", { resources: { pids: { limit: 20 } } }), s]).status, 0);
    assert.equal(oci(["start", s]).status, 0);
    // waitfile /never never ends: the kill ends it, then the state says stopped
    assert.equal(oci(["kill", s, "KILL"]).status, 0);
    for (let i = 0; i < 1000 && (JSON.parse(oci(["state", s]).out) as { status: string }).status !== "stopped"; i++) spawnSync("sleep", ["0.01"]);
    badLine(oci(["update", "--pids-limit", "5", s]), 1, /is stopped/);
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });
});

describe("sysjail-oci update: the v2 device program replaced (root, a real cgroup2 directory)", () => {
  const unified = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"].find((d) => existsSync(join(d, "cgroup.controllers")));
  const dir = unified ? join(unified, `ociupdate-devprog-${process.pid}`) : "";
  let holder: ChildProcess | undefined;
  before(() => {
    requireRoot("the device program test");
    if (dir) mkdirSync(dir);
  });
  after(() => {
    holder?.kill("SIGKILL");
    if (dir) {
      // the shells ended: the directory is empty; its program goes with it
      for (let i = 0; i < 100; i++) { try { rmdirSync(dir); break; } catch { spawnSync("sleep", ["0.05"]); } }
    }
  });

  it("each attach replaces the program: /dev/null allowed, refused, allowed again; never two programs", async () => {
    if (!unified) return;
    // the "container's init" the helper checks is alive: a sleeper of this test's own
    holder = spawn("sleep", ["600"], { stdio: "ignore" });
    const pid = holder.pid!;
    const start = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[19]);
    /** A shell joining DIR, then opening /dev/null for reading. */
    const open = () => spawnSync("sh", ["-c", `echo $$ > ${dir}/cgroup.procs && exec cat /dev/null && echo ok`], { encoding: "utf8" });
    const progs = () => spawnSync("bpftool", ["cgroup", "list", dir], { encoding: "utf8" });
    const null3 = { allow: true, type: "c" as const, major: 1, minor: 3, access: "rwm" };
    const zero5 = { allow: true, type: "c" as const, major: 1, minor: 5, access: "rwm" };
    await replaceDeviceProgram(pid, start, dir, [null3]);
    assert.equal(open().stdout, "", "cat of /dev/null: nothing; echo after exec never runs");
    assert.equal(open().status, 0);
    await replaceDeviceProgram(pid, start, dir, [zero5]);
    const r = open();
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Operation not permitted/);
    await replaceDeviceProgram(pid, start, dir, [zero5, null3]);
    assert.equal(open().status, 0);
    const p = progs();
    if (p.status === 0) assert.equal(p.stdout.split("\n").filter((l) => /device/.test(l)).length, 1, p.stdout);
    holder.kill("SIGKILL");
    await new Promise((res) => holder!.once("exit", res));
    await assert.rejects(replaceDeviceProgram(pid, start, dir, [null3]), /devices: the new device program could not replace the old one/);
  });
});

describe("sysjail-oci update: podman update (root, Debian's podman with sysjail-oci)", () => {
  const f = podmanFixture("ociupdate");
  before(() => f.setup());
  after(() => f.teardown());

  it("podman update's resources file reaches the container's cgroups; its devices stay usable", () => {
    const n = f.name("upd");
    const r = f.run(["-d", "--name", n, "--network=none", "--cpu-shares", "1024", "--memory", "64m", f.tag, "/probe", "waitfile", "/never"]);
    assert.equal(r.status, 0, r.stderr);
    const u = f.podman(["update", "--cpu-shares", "512", "--memory", "128m", "--cpuset-cpus", "0", n]);
    assert.equal(u.status, 0, u.stderr);
    const cid = f.podman(["inspect", "--format", "{{.Id}}", n]).stdout.trim();
    const pid = Number(f.podman(["inspect", "--format", "{{.State.Pid}}", n]).stdout.trim());
    // the container's cgroups as its process's /proc/PID/cgroup names them (podman's cgroup parent)
    const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n").map((l) => l.split(":"));
    const file = (ctl: string, name: string) => {
      const l = lines.find((x) => x[1]!.split(",").includes(ctl));
      return readFileSync(l ? join("/sys/fs/cgroup", ctl, l[2]!, name) : join("/sys/fs/cgroup", lines.find((x) => x[0] === "0")![2]!, name), "utf8").trim();
    };
    assert.ok(cid.length > 0);
    if (lines.some((x) => x[1] === "memory")) {
      assert.equal(file("cpu", "cpu.shares"), "512");
      assert.equal(file("memory", "memory.limit_in_bytes"), String(128 << 20));
      assert.equal(file("cpuset", "cpuset.cpus"), "0");
    } else {
      assert.equal(file("memory", "memory.max"), String(128 << 20));
      assert.equal(file("cpuset", "cpuset.cpus"), "0");
    }
    assert.equal(cpusAllowedOf(pid), "0");
    const e = f.podman(["exec", n, "/probe", "read", "/dev/null"]);
    assert.equal(e.stdout.trim(), "ok", e.stderr);
  });
});

/** A process's Cpus_allowed_list. */
function cpusAllowedOf(pid: number): string {
  return /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!;
}

describe("sysjail-oci update: a user's own container (uid 65534)", () => {
  let nb: Nobody | undefined;
  let jr: JailRoot | undefined;
  let work = "", st = "";
  before(() => {
    requireRoot("the rootless update test");
    nb = makeNobody();
    jr = makeJailRoot(buildProbe());
    work = makeOwnedDir(NOBODY_UID, NOBODY_GID, "ociupdate-rl-", 0o755);
    st = makeOwnedDir(NOBODY_UID, NOBODY_GID, "ociupdate-rlst-", 0o700);
  });
  /** sysjail-oci ARGS as 65534, its output through a file (create's monitor keeps a pipe open). */
  const run = (args: string[], input?: string) => {
    const out = join(work, "out");
    const fd = openSync(out, "w");
    chownSync(out, NOBODY_UID, NOBODY_GID);
    const [p0, ...rest] = nb!.prefix;
    const r = spawnSync(p0!, [...rest, OCI, "--root", st, ...args], { stdio: [input === undefined ? "ignore" : "pipe", fd, fd], input, timeout: 60_000 });
    closeSync(fd);
    return { status: r.status, out: readFileSync(out, "utf8") };
  };
  after(() => {
    if (nb) run(["delete", "--force", "rl1"]);
    jr?.remove();
    nb?.remove();
    for (const d of [work, st]) if (d) removeTree(d);
  });

  it("device rules are warned as not enforced (no device cgroup, as at create); a controller it has no cgroup of is refused in one line", () => {
    const b = join(work, "b");
    mkdirSync(b);
    writeFileSync(join(b, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr!.path }, process: { args: ["/probe", "waitfile", "/never"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux: { namespaces: ["pid", "ipc", "uts", "mount", "user"].map((type) => ({ type })) },
    }));
    const c = run(["create", "--bundle", b, "rl1"]);
    assert.equal(c.status, 0, c.out);
    const d = run(["update", "-r", "-", "rl1"], JSON.stringify({ devices: [] }));
    assert.equal(d.status, 0, d.out);
    assert.match(d.out, /^sysjail-oci: warning: devices: not enforced for a user's container/);
    const p = run(["update", "--cpuset-cpus", "0", "rl1"]);
    assert.equal(p.status, 1, p.out);
    assert.match(p.out, /cpuset: the container has no cpuset cgroup/);
    assert.equal(p.out.trim().split("\n").length, 1);
    assert.equal(run(["delete", "--force", "rl1"]).status, 0);
  });
});
