// The device cgroup's rules: the v1 writes, the v2 device program in the eBPF interpreter, and
// that program loaded into the real kernel on a cgroup2 directory (root), probed by opening
// device nodes for reading only, of devices with no driver behind them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildStatic, makeTempDir, REPO, removeTree, requireRoot } from "../helpers/index.js";
import { deviceProgram, devicesV1, type DeviceRule } from "../../src/cgroup/devices.js";
import { detectCgroups } from "../../src/cgroup/detect.js";
import { mem, run } from "../../src/ebpf/interp.js";
import { deviceRules } from "../../src/oci/devices.js";
import { V1Backend } from "../../src/cgroup/v1.js";
import { V2Backend } from "../../src/cgroup/v2.js";
import type { CgroupLayout } from "../../src/cgroup/detect.js";

/** What the device program answers for TYPE (b/c), ACCESS (letters of rwm), MAJOR:MINOR. */
function decide(rules: DeviceRule[], type: "b" | "c", access: string, major: number, minor: number): number {
  const ctx = mem("ctx", 12);
  const acc = [...access].reduce((m, c) => m | ({ m: 1, r: 2, w: 4 } as Record<string, number>)[c]!, 0);
  const v = new DataView(ctx.bytes.buffer);
  v.setUint32(0, (type === "b" ? 1 : 2) | (acc << 16), true);
  v.setUint32(4, major, true);
  v.setUint32(8, minor, true);
  return Number(run(deviceProgram(rules), { ctx }));
}

describe("device cgroup rules (unit)", () => {
  it("v1: deny everything, then each rule into devices.allow or devices.deny in order", () => {
    const part = devicesV1("/sys/fs/cgroup/devices/sysjail/x", [
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
      { allow: false, type: "c", major: 136, minor: -1, access: "w" },
      { allow: true, type: "a", major: -1, minor: -1, access: "rwm" },
    ]);
    assert.deepEqual(part.ops.map((o) => o.args.map(String)), [
      ["/sys/fs/cgroup/devices/sysjail/x/devices.deny", "a"],
      ["/sys/fs/cgroup/devices/sysjail/x/devices.allow", "c 1:3 rwm"],
      ["/sys/fs/cgroup/devices/sysjail/x/devices.deny", "c 136:* w"],
      ["/sys/fs/cgroup/devices/sysjail/x/devices.allow", "a"],
    ]);
  });

  it("v2: the device program lets the last matching rule decide; nothing matched is refused", () => {
    const rules: DeviceRule[] = deviceRules({ linux: { resources: { devices: [
      { allow: false, access: "rwm" },
      { allow: true, type: "c", major: 10, minor: -1, access: "r" },
      { allow: false, type: "c", major: 10, minor: 7, access: "r" },
      { allow: true, type: "b", major: 8, minor: 0, access: "rw" },
    ] } } } as never);
    assert.equal(decide(rules, "c", "r", 1, 3), 1, "/dev/null (default)");
    assert.equal(decide(rules, "c", "rw", 136, 4), 1, "a pty (default, any minor)");
    assert.equal(decide(rules, "c", "r", 10, 200), 1, "c 10:* r");
    assert.equal(decide(rules, "c", "w", 10, 200), 0, "c 10:* grants no write");
    assert.equal(decide(rules, "c", "r", 10, 7), 0, "a later deny wins");
    assert.equal(decide(rules, "b", "rw", 8, 0), 1);
    assert.equal(decide(rules, "b", "m", 8, 0), 0, "mknod not granted");
    assert.equal(decide(rules, "b", "r", 8, 1), 0, "sdb: no rule");
    assert.equal(decide([], "c", "r", 1, 3), 0, "no rule at all: refused");
    assert.equal(decide([{ allow: true, type: "a", major: -1, minor: -1, access: "rwm" }], "b", "rwm", 8, 1), 1, "allow all");
  });
});

describe("device cgroup in the backends' plans (unit)", () => {
  const rules: DeviceRule[] = [{ allow: true, type: "c", major: 1, minor: 3, access: "rwm" }];
  const layout = (mode: "v1" | "v2"): CgroupLayout => ({
    mode, root: "/cg", mounts: [], self: {},
    v1: mode === "v1" ? { pids: "/cg/pids", devices: "/cg/devices" } : {},
    ...(mode === "v2" ? { v2: { path: "/cg", controllers: ["pids"] } } : {}),
  }) as unknown as CgroupLayout;

  it("v1: the jail's own devices cgroup beside the others, its rules written before the init joins", () => {
    const p = new V1Backend(layout("v1"), { bases: { pids: "/cg/pids/sysjail", devices: "/cg/devices/sysjail" } }).plan(7, { pids: 5 }, { join: true, devices: rules });
    assert.equal(p.paths.devices, "/cg/devices/sysjail/7");
    const ops = p.ops.map((o) => `${o.op} ${o.args.map(String).join(" ")}`);
    const mk = ops.indexOf("cgroupMkdir /cg/devices/sysjail/7"), deny = ops.indexOf("cgroupWrite /cg/devices/sysjail/7/devices.deny a");
    const allow = ops.indexOf("cgroupWrite /cg/devices/sysjail/7/devices.allow c 1:3 rwm"), join_ = ops.indexOf("cgroupJoin /cg/devices/sysjail/7/tasks");
    assert.ok(mk >= 0 && mk < deny && deny < allow && allow < join_, ops.join("\n"));
    const none = new V1Backend(layout("v1"), { bases: { pids: "/cg/pids/sysjail" } }).plan(7, {}, { devices: rules });
    assert.equal(none.paths.devices, undefined);
    assert.deepEqual(none.notes, ["device rules: no cgroup v1 devices hierarchy"]);
  });

  it("v2: a cgroup even without limits, the device program attached right after its mkdir with no flags", () => {
    const p = new V2Backend(layout("v2")).plan(7, {}, { devices: rules });
    assert.equal(p.paths.devices, "/cg/sysjail/7");
    assert.deepEqual(p.ops.slice(0, 2).map((o) => o.op), ["cgroupMkdir", "bpfProg"]);
    assert.deepEqual(p.ops[1]!.args.slice(0, 5).map(String), ["sj_devices", "15", "6", "/cg/sysjail/7", "0"]);
    assert.deepEqual(p.ops[1]!.args[5], deviceProgram(rules));
    assert.deepEqual(p.ops.slice(2).map((o) => o.op), ["cgroupAttach"]);
  });
});

describe("device cgroup: the v2 program in the kernel (root)", () => {
  const unified = detectCgroups().v2?.path;
  let work = "";
  let cg = "";
  let loader = "";
  before(() => {
    requireRoot("loading a cgroup device program");
    assert.ok(unified, "this test needs a cgroup2 mount (hybrid or unified host)");
    loader = buildStatic(join(REPO, "test", "cgroup", "fixtures", "devload.c"), "devload");
    work = makeTempDir("ocidev-devprog-");
    cg = join(unified, `sysjail-test-devices-${process.pid}`);
    mkdirSync(cg);
  });
  after(() => {
    if (cg && existsSync(cg)) rmdirSync(cg);
    if (work) removeTree(work);
  });

  it("is accepted by the verifier and decides opens: allowed reaches the driver, no rule is EPERM, the defaults open", () => {
    const rules = deviceRules({ linux: { resources: { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 10, minor: 666, access: "r" }] } } } as never);
    writeFileSync(join(work, "prog"), deviceProgram(rules));
    const c = join(work, "c"), b = join(work, "b");
    assert.equal(spawnSync("mknod", [c, "c", "10", "666"]).status, 0);
    assert.equal(spawnSync("mknod", [b, "b", "8", "666"]).status, 0);
    // outside the cgroup the block node reaches the block layer: no such device
    assert.throws(() => closeSync(openSync(b, "r")), /ENXIO/);
    const r = spawnSync(loader, [join(work, "prog"), cg, c, b, "/dev/null"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    // the allowed node reaches the misc driver, which has no minor 666: ENODEV (6.18), ENXIO (6.1);
    // either way the driver's answer, not the program's EPERM
    const [allowed, ...rest] = r.stdout.trim().split("\n");
    assert.match(allowed!, /^err (ENODEV|ENXIO)$/);
    assert.deepEqual(rest, ["err EPERM", "ok"]);
  });
});
