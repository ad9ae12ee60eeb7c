// sysjail-oci linux.devices and linux.resources.devices: nodes made with config.json's type,
// numbers, mode and owner (unit and real containers), and the device cgroup deciding which of
// them open, in real containers probed by opening nodes for reading only (devices with no
// driver behind them). The rules' v1 writes and v2 program: test/cgroup/devices.test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { DEFAULT_DEVICE_RULES, deviceRules, devNodeOps, parseDevices } from "../../src/oci/devices.js";
import { ociJail } from "../../src/oci/translate.js";
import { detectCgroups } from "../../src/cgroup/detect.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
const NS = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));
const ids = { uidMap: "", gidMap: "", setgroups: "allow" as const, count: 65536, hostBase: 200000, gidBase: 300000, rootless: false };

describe("sysjail-oci devices (unit)", () => {
  it("linux.devices: checked, fifo numbers dropped, defaults (mode 0666, owner 0), the last entry of a path kept", () => {
    const devs = parseDevices({ linux: { devices: [
      { path: "/dev/a", type: "u", major: 10, minor: 1 },
      { path: "/dev/q/p", type: "p", major: 8, minor: 9, fileMode: 0o600, uid: 3, gid: 4 },
      { path: "/dev/a", type: "b", major: 8, minor: 2, fileMode: 0o64640 },
    ] } } as never);
    assert.deepEqual(devs, [
      { path: "/dev/q/p", type: "p", major: 0, minor: 0, mode: 0o600, uid: 3, gid: 4 },
      { path: "/dev/a", type: "b", major: 8, minor: 2, mode: 0o640, uid: 0, gid: 0 },
    ]);
    const ops = devNodeOps(devs, ids);
    assert.deepEqual(ops.map((o) => [o.op, ...o.args.map(String)]), [
      ["devNode", "/dev/q/p", "p", "0", "0", "0600", "200003", "300004"],
      ["devNode", "/dev/a", "b", "8", "2", "0640", "200000", "300000"],
    ]);
    assert.throws(() => devNodeOps([{ ...devs[0]!, gid: 65536 }], ids), /gid 65536 is outside the container's id map/);
    assert.throws(() => parseDevices({ linux: { devices: {} } } as never), /linux.devices must be a list/);
  });

  it("root's container: nodes for the monitor and device rules; a user's: the host's nodes bound in, rules warned", (t) => {
    const cfg = { ociVersion: "1.2.0", root: { path: "/r" }, process: { args: ["/x"], cwd: "/" },
      linux: { devices: [{ path: "/dev/null", type: "c", major: 1, minor: 3 }], resources: { devices: [{ allow: false, access: "rwm" }] } } };
    const asRoot = ociJail("d1", cfg as never, "/r", () => undefined);
    assert.equal(asRoot.devices, undefined, "no host node bound for root");
    assert.equal(asRoot.patch.devices?.length, 1);
    assert.equal(asRoot.deviceRules?.length, 1 + DEFAULT_DEVICE_RULES.length);
    const getuid = process.getuid;
    t.after(() => { process.getuid = getuid; });
    process.getuid = () => 1000;
    const warns: string[] = [];
    const asUser = ociJail("d2", cfg as never, "/r", (m) => warns.push(m));
    const missing = { ...cfg, linux: { devices: [{ path: "/dev/sysjail-no-such", type: "c", major: 10, minor: 666 }] } };
    assert.throws(() => ociJail("d3", missing as never, "/r", () => undefined), /the host has no such node at that path/);
    process.getuid = getuid;
    assert.equal(asUser.devices, undefined, "/dev/null: the jail's devfs binds the host's already");
    assert.equal(asUser.patch.devices, undefined);
    assert.equal(asUser.deviceRules, undefined);
    assert.ok(warns.some((w) => /linux\.resources\.devices: not enforced for a user's container/.test(w)), warns.join("; "));
  });

  it("resources.devices: checked in order, wildcards, then the defaults; bad rules refused in one line", () => {
    const rules = deviceRules({ linux: { resources: { devices: [
      { allow: false, access: "rwm" }, { allow: true, type: "c", major: 10, minor: null, access: "r" }, { allow: true, type: "b", major: 8, minor: 0 },
    ] } } } as never);
    assert.deepEqual(rules.slice(0, 3), [
      { allow: false, type: "a", major: -1, minor: -1, access: "rwm" },
      { allow: true, type: "c", major: 10, minor: -1, access: "r" },
      { allow: true, type: "b", major: 8, minor: 0, access: "rwm" },
    ]);
    assert.deepEqual(rules.slice(3), DEFAULT_DEVICE_RULES);
    assert.deepEqual(deviceRules({} as never), DEFAULT_DEVICE_RULES, "no rules: only the defaults (nothing else opens)");
    for (const [r, msg] of [
      [{ type: "c" }, /\[0\]: "allow" must be true or false/],
      [{ allow: true, type: "x" }, /type "x": a, c or b/],
      [{ allow: true, type: "c", major: 5000 }, /major 5000: a number from 0 to 4095/],
      [{ allow: true, type: "c", access: "rx" }, /access "rx": letters of "rwm"/],
    ] as const) assert.throws(() => deviceRules({ linux: { resources: { devices: [r] } } } as never), msg);
    assert.throws(() => deviceRules({ linux: { resources: { devices: { allow: true } } } } as never), /linux.resources.devices must be a list of rules/);
  });

});

describe("sysjail-oci devices: real containers (root)", () => {
  let jr: JailRoot;
  let state: string;
  let work: string;
  let n = 0;
  const made: string[] = [];
  const devCg = detectCgroups().v1.devices;
  const leftovers = () => (devCg && existsSync(join(devCg, "sysjail")) ? readdirSync(join(devCg, "sysjail"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort() : []);
  let before0: string[] = [];
  before(() => {
    requireRoot("sysjail-oci's device tests");
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("ocidev-devices-state-", 0o700);
    work = makeTempDir("ocidev-devices-work-");
    before0 = leftovers();
  });
  after(() => {
    for (const c of made) spawnSync(OCI, ["--root", state, "delete", "--force", c], { stdio: "ignore" });
    jr?.remove();
    if (state) removeTree(state);
    if (work) removeTree(work);
  });
  const runIn = (args: string[], linux: Record<string, unknown>) => {
    const dir = join(work, `b${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path },
      process: { args: ["/probe", ...args], cwd: "/", user: { uid: 0, gid: 0 }, capabilities: { bounding: ["CAP_MKNOD"], effective: ["CAP_MKNOD"], permitted: ["CAP_MKNOD"] } },
      linux: { namespaces: NS, ...linux },
    }));
    const c = `ocidev-dev-${process.pid}-${n}`;
    made.push(c);
    return spawnSync(OCI, ["--root", state, "run", "--bundle", dir, c], { encoding: "utf8", timeout: 60_000 });
  };
  const devices = [
    { path: "/dev/test1", type: "c", major: 10, minor: 666, fileMode: 0o666 },
    { path: "/dev/disk/test2", type: "b", major: 8, minor: 666, fileMode: 0o606, uid: 5, gid: 6 },
  ];
  const rules = [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 10, minor: 666, access: "r" }];

  it("the nodes are the config's: type, numbers, mode, owner", () => {
    const r = runIn(["stat", "/dev/test1", "/dev/disk/test2"], { devices });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["ok 20666 0 0 10:666", "ok 60606 5 6 8:666"]);
  });

  it("a node with an allow rule reaches its driver (none: ENODEV); one without a rule is refused (EPERM), also to root holding CAP_MKNOD", () => {
    const allowed = runIn(["read", "/dev/test1"], { devices, resources: { devices: rules } });
    assert.match(allowed.stdout.trim(), /^err (ENXIO|ENODEV)$/, `allowed: the driver answers: ${allowed.stderr}`);
    const blk = runIn(["read", "/dev/disk/test2"], { devices, resources: { devices: rules } });
    assert.equal(blk.stdout.trim(), "err EPERM", `no rule for b 8:666: ${blk.stderr}`);
    const none = runIn(["read", "/dev/test1"], { devices });
    assert.equal(none.stdout.trim(), "err EPERM", `no resources.devices: only the defaults: ${none.stderr}`);
    const nul = runIn(["read", "/dev/null"], { devices, resources: { devices: rules } });
    assert.equal(nul.stdout.trim(), "ok", `the defaults stay allowed: ${nul.stderr}`);
    const mk = runIn(["mknod", "/tmp/x"], { resources: { devices: [{ allow: true, access: "rwm" }] } });
    assert.equal(mk.stdout.trim(), "err EPERM", "jailed root makes no node, whatever the rules");
  });

  it("bad rules: one line naming the rule, nothing left", () => {
    const dir = join(work, "bad");
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, process: { args: ["/probe", "pid"], cwd: "/" },
      linux: { namespaces: NS, resources: { devices: [{ allow: true, type: "c", access: "rwx" }] } },
    }));
    const c = `ocidev-dev-${process.pid}-bad`;
    const f = spawnSync(OCI, ["--root", state, "create", "--bundle", dir, c], { encoding: "utf8", timeout: 60_000 });
    assert.equal(f.status, 1, f.stderr);
    assert.match(f.stderr, /^sysjail-oci: .*linux\.resources\.devices\[0\]: access "rwx": letters of "rwm" are allowed\n$/);
    assert.equal(existsSync(join(state, c)), false);
  });

  it("the container's processes are in its device cgroup (exec'd ones too), which goes with the container", (t) => {
    // a v1 check (the v2 program: test/cgroup/devices.test.ts, test/oci/update.test.ts)
    if (!devCg) return t.skip("a v1 check: this host has no v1 devices hierarchy");
    const dir = join(work, "cg");
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, process: { args: ["/probe", "waitfile", "/never"], cwd: "/" },
      linux: { namespaces: NS, resources: { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 10, minor: 666, access: "r" }] } },
    }));
    const c = `ocidev-dev-${process.pid}-cg`;
    made.push(c);
    // never a pipe for create's output: the detached monitor keeps it open
    const log = openSync(join(work, "cg.log"), "w");
    const cr = spawnSync(OCI, ["--root", state, "create", "--bundle", dir, c], { stdio: ["ignore", log, log], timeout: 60_000 });
    closeSync(log);
    assert.equal(cr.status, 0, readFileSync(join(work, "cg.log"), "utf8"));
    const pid = JSON.parse(spawnSync(OCI, ["--root", state, "state", c], { encoding: "utf8" }).stdout).pid as number;
    const devLine = (p: number) => readFileSync(`/proc/${p}/cgroup`, "utf8").split("\n").find((l) => /^\d+:devices:/.test(l))!.split(":")[2]!;
    // the state's pid, or its child (the monitor's init): the one in the jail's cgroup
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    const init = [pid, ...kids].find((p) => devLine(p).includes("/sysjail/"))!;
    assert.ok(init, "a process of the container is in a sysjail devices cgroup");
    const cg = join(devCg, devLine(init));
    assert.match(cg, /\/sysjail\/[^/]+$/, "the init is in the jail's own devices cgroup");
    assert.deepEqual(readFileSync(join(cg, "devices.list"), "utf8").trim().split("\n").sort(),
      ["c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 10:666 r", "c 136:* rwm", "c 5:0 rwm", "c 5:2 rwm"].sort());
    assert.equal(spawnSync(OCI, ["--root", state, "start", c], { stdio: "ignore" }).status, 0);
    const ex2 = spawnSync(OCI, ["--root", state, "exec", c, "/probe", "cat", "/proc/self/cgroup"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(ex2.status, 0, ex2.stderr);
    // inside, the cgroup namespace's root is the jail's own cgroup: "/" there, "/.." outside it
    assert.match(ex2.stdout, /^\d+:devices:\/$/m, "an exec'd process joins it");
    assert.equal(spawnSync(OCI, ["--root", state, "delete", "--force", c]).status, 0);
    assert.equal(existsSync(cg), false, "the devices cgroup is removed with the container");
    void leftovers; void before0;
  });
});
