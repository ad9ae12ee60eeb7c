// Tests of cgroup layout detection, delegation lookup and backend selection on fake trees.
import assert from "node:assert/strict";
import { chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { findDelegation, delegatedTop } from "../../src/cgroup/delegate.js";
import { detectCgroups, parseMountinfo, parseSelfCgroup } from "../../src/cgroup/detect.js";
import { selectBackend } from "../../src/cgroup/select.js";
import { V1Backend } from "../../src/cgroup/v1.js";
import { V2Backend } from "../../src/cgroup/v2.js";
import { fakeV1, fakeV2, makeFiles, rmTree, tempDir } from "./helpers.js";

const HYBRID_MOUNTINFO = (root: string) =>
  [
    `31 23 0:28 / ${root} rw,relatime - tmpfs tmpfs rw,mode=755`,
    `32 31 0:29 / ${root}/cpu rw,relatime - cgroup cgroup rw,cpu`,
    `33 31 0:30 / ${root}/cpuacct rw,relatime - cgroup cgroup rw,cpuacct`,
    `35 31 0:32 / ${root}/memory rw,relatime - cgroup cgroup rw,memory`,
    `39 31 0:36 / ${root}/pids rw,relatime - cgroup cgroup rw,pids`,
    `40 31 0:37 / ${root}/systemd rw,relatime - cgroup cgroup rw,name=systemd`,
    `41 31 0:38 / ${root}/unified rw,relatime - cgroup2 cgroup2 rw`,
    `50 23 0:40 / /elsewhere rw - cgroup cgroup rw,freezer`,
    "",
  ].join("\n");

const SELF = "4:memory:/process_api/abc\n8:pids:/\n2:cpuacct:/\n1:cpu:/\n9:name=systemd:/\n0::/\n";

describe("mountinfo and /proc/self/cgroup", () => {
  it("parses cgroup mounts with escapes", () => {
    const m = parseMountinfo("1 2 0:1 / /a\\040b rw - cgroup cgroup rw,cpu,cpuacct\n3 4 0:2 /x /u rw - cgroup2 cgroup2 rw\n5 6 0:3 / /t rw - tmpfs tmpfs rw\n");
    assert.equal(m.length, 2);
    assert.equal(m[0]?.path, "/a b");
    assert.deepEqual(m[0]?.options, ["rw", "cpu", "cpuacct"]);
    assert.equal(m[1]?.version, 2);
    assert.equal(m[1]?.mountRoot, "/x");
  });
  it("parses /proc/self/cgroup", () => {
    const s = parseSelfCgroup("5:cpu,cpuacct:/a\n4:memory:/b\n0::/c\ngarbage\n");
    assert.deepEqual(s, { cpu: "/a", cpuacct: "/a", memory: "/b", "": "/c" });
  });
});

describe("detectCgroups", () => {
  let root = "";
  before(() => {
    root = tempDir();
  });
  after(() => rmTree(root));

  it("hybrid from injected mountinfo (this machine's shape)", () => {
    const r = join(root, "hybrid");
    fakeV1(r, ["cpu", "cpuacct", "memory", "pids"]);
    fakeV2(join(r, "unified"), ["hugetlb"]);
    const l = detectCgroups(r, HYBRID_MOUNTINFO(r), SELF);
    assert.equal(l.mode, "hybrid");
    assert.equal(l.v1.memory, join(r, "memory"));
    assert.equal(l.v1.cpuacct, join(r, "cpuacct"));
    assert.equal(l.v1["name=systemd"], join(r, "systemd"));
    assert.equal(l.v1.freezer, undefined, "a mount outside root is ignored");
    assert.deepEqual(l.v2, { path: join(r, "unified"), controllers: ["hugetlb"] });
    assert.equal(l.self.memory, "/process_api/abc");
    assert.equal(l.self[""], "/");
  });
  it("co-mounted cpu,cpuacct from mountinfo", () => {
    const r = join(root, "comount");
    const l = detectCgroups(r, `1 2 0:1 / ${r}/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n`, "");
    assert.equal(l.mode, "v1");
    assert.equal(l.v1.cpu, l.v1.cpuacct);
  });
  it("unified v2 at the root from mountinfo", () => {
    const r = join(root, "v2");
    fakeV2(r, ["cpuset", "cpu", "io", "memory", "pids"]);
    const l = detectCgroups(r, `1 2 0:1 / ${r} rw - cgroup2 cgroup2 rw,nsdelegate\n`, "0::/user.slice\n");
    assert.equal(l.mode, "v2");
    assert.deepEqual(l.v2?.controllers, ["cpuset", "cpu", "io", "memory", "pids"]);
    assert.deepEqual(l.v1, {});
    assert.equal(l.self[""], "/user.slice");
  });
  it("no cgroup mounts in the given mountinfo: none", () => {
    assert.equal(detectCgroups(join(root, "nothing"), "1 2 0:1 / /x rw - tmpfs tmpfs rw\n", "").mode, "none");
  });
  it("scans a tree when there is no mountinfo for it", () => {
    const r = join(root, "scan1");
    fakeV1(r, ["memory", "pids", "cpu,cpuacct"]);
    makeFiles(r, { "systemd/tasks": "", "notacgroup/file": "" });
    fakeV2(join(r, "unified"), []);
    const l = detectCgroups(r, undefined, "");
    assert.equal(l.mode, "hybrid");
    assert.equal(l.v1.memory, join(r, "memory"));
    assert.equal(l.v1.cpu, join(r, "cpu,cpuacct"));
    assert.equal(l.v1.cpuacct, join(r, "cpu,cpuacct"));
    assert.equal(l.v1["name=systemd"], join(r, "systemd"));
    assert.deepEqual(l.v2?.controllers, []);
    const r2 = join(root, "scan2");
    fakeV2(r2, ["memory", "pids"]);
    assert.equal(detectCgroups(r2, undefined, "").mode, "v2");
    assert.equal(detectCgroups(join(root, "missing"), undefined, "").mode, "none");
  });
});

describe("delegation and backend selection", () => {
  let root = "";
  before(() => {
    root = tempDir();
  });
  after(() => rmTree(root));
  const uid = 4242;

  it("root: v1 when v1 has memory and pids, v2 when the unified tree has them", () => {
    const r = join(root, "sel");
    fakeV1(r, ["cpu", "cpuacct", "memory", "pids"]);
    fakeV2(join(r, "unified"), ["hugetlb"]);
    const l = detectCgroups(r, HYBRID_MOUNTINFO(r), SELF);
    const b = selectBackend({ layout: l, uid: 0 });
    assert.ok(b instanceof V1Backend);
    assert.equal(b.bases.memory, join(r, "memory", "sysjail"));
    const r2 = join(root, "sel2");
    fakeV2(r2, ["cpu", "memory", "pids"]);
    const b2 = selectBackend({ layout: detectCgroups(r2, undefined, "0::/\n"), uid: 0 });
    assert.ok(b2 instanceof V2Backend);
    assert.equal(b2.base, join(r2, "sysjail"));
    assert.equal(selectBackend({ layout: detectCgroups(join(root, "none"), "", ""), uid: 0 }).kind, "none");
  });
  it("rootless without delegation: none, with a reason", () => {
    const r = join(root, "nodeleg");
    fakeV1(r, ["memory", "pids"]);
    const b = selectBackend({ layout: detectCgroups(r, undefined, "4:memory:/\n8:pids:/\n"), uid });
    assert.equal(b.kind, "none");
    const plan = b.plan(1, { memory: 1 << 20 });
    assert.deepEqual(plan.unenforced, ["memory"]);
    assert.match(plan.notes[0] ?? "", /no cgroup delegated to uid 4242/);
  });
  it("rootless v2: a user-owned subtree above a leaf", () => {
    const r = join(root, "deleg2");
    fakeV2(r, ["cpu", "memory", "pids"]);
    const top = join(r, "user.slice/user@4242.service");
    const leaf = join(top, "app.slice/term.scope");
    fakeV2(top, ["cpu", "memory", "pids"]);
    fakeV2(join(top, "app.slice"), ["memory", "pids"]);
    fakeV2(leaf, ["memory", "pids"]);
    makeFiles(leaf, { "cgroup.procs": "123\n" });
    for (const d of [top, join(top, "app.slice"), leaf]) {
      chownSync(d, uid, uid);
      chownSync(join(d, "cgroup.procs"), uid, uid);
    }
    const l = detectCgroups(r, undefined, "0::/user.slice/user@4242.service/app.slice/term.scope\n");
    assert.equal(delegatedTop(r, leaf, uid), top);
    const d = findDelegation(l, uid);
    assert.deepEqual(d.v2, { top, base: join(top, "sysjail"), controllers: ["cpu", "memory", "pids"] });
    const b = selectBackend({ layout: l, uid });
    assert.ok(b instanceof V2Backend);
    assert.equal(b.base, join(top, "sysjail"));
    assert.equal(b.enableFrom, top);
  });
  it("rootless v2: the delegated cgroup holds the caller itself", () => {
    const r = join(root, "deleg2b");
    fakeV2(r, ["memory", "pids"]);
    const top = join(r, "mine");
    fakeV2(top, ["memory", "pids"]);
    makeFiles(top, { "cgroup.procs": "99\n" });
    chownSync(top, uid, uid);
    const d = findDelegation(detectCgroups(r, undefined, "0::/mine\n"), uid);
    assert.equal(d.v2, undefined);
    assert.match(d.why ?? "", /holds processes; start sysjail from a leaf/);
  });
  it("rootless v1: user-owned directories per hierarchy", () => {
    const r = join(root, "deleg1");
    fakeV1(r, ["memory", "pids"]);
    const mine = join(r, "memory/users/u4242");
    mkdirSync(mine, { recursive: true });
    makeFiles(mine, { "cgroup.procs": "" });
    chownSync(mine, uid, uid);
    const l = detectCgroups(r, undefined, "4:memory:/users/u4242\n8:pids:/\n");
    const d = findDelegation(l, uid);
    assert.deepEqual(d.v1, { memory: join(mine, "sysjail") });
    const b = selectBackend({ layout: l, uid });
    assert.ok(b instanceof V1Backend);
    const plan = b.plan("7", { memory: 1 << 20, pids: 5 });
    assert.equal(plan.paths.memory, join(mine, "sysjail", "7"));
    assert.deepEqual(plan.unenforced, ["pids"]);
    assert.match(plan.notes.join("\n"), /pids: no cgroup v1 pids hierarchy/);
  });
});
