// checkEntry: a user's registry entry is checked field by field (unit; no jail is started).
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkEntry, corruptInit } from "../../src/registry/validate.js";
import { baseSpec } from "../../src/spec/validate.js";

function good(): Record<string, unknown> {
  const spec = { ...baseSpec("/home/u/j", "u.example"), command: ["/bin/sleep", "60"], name: "web" };
  return {
    jid: 4, name: "web", path: "/home/u/j", hostname: "u.example", ip4: ["127.0.0.9"], ip6: ["::1"], initPid: 1234, initStart: 99,
    monitorPid: 1230, monitorStart: 98, owner: 1000, command: ["/bin/sleep", "60"], startedAt: "2026-12-06T22:00:00.000Z", persist: true,
    idmap: { uidMap: "0 1000 1\n", gidMap: "0 1000 1\n", rootless: true }, cgroups: { pids: "/sys/fs/cgroup/pids/user/j4" }, spec,
    lifecycle: { exec: { poststop: ["echo bye"] }, stopTimeout: 10, clean: false, systemJailUser: false, depend: [], env: {} },
  };
}

test("a well-formed entry passes, rebuilt from the known fields only", () => {
  const raw = { ...good(), extra: "ignored", spec: { ...(good().spec as object), sneaky: 1 } };
  const c = checkEntry(raw, 4, 1000);
  assert.ok(c.ok, JSON.stringify(!c.ok && c.problems));
  assert.equal((c.entry as unknown as Record<string, unknown>).extra, undefined);
  assert.equal((c.entry.spec as unknown as Record<string, unknown>).sneaky, undefined);
  assert.deepEqual(c.entry.lifecycle, { exec: { poststop: ["echo bye"] }, stopTimeout: 10, clean: false, systemJailUser: false, depend: [], env: {} });
});

const corruptions: [string, (e: Record<string, unknown>) => void, RegExp][] = [
  ["jid of another file", (e) => { e.jid = 5; }, /^jid/],
  ["jid as a string", (e) => { e.jid = "4"; }, /^jid/],
  ["owner not the directory's", (e) => { e.owner = 0; }, /^owner/],
  ["name with a path", (e) => { e.name = "../../etc/passwd"; }, /^name/],
  ["name huge", (e) => { e.name = "a".repeat(100000); }, /^name/],
  ["hostname with ESC", (e) => { e.hostname = "a\x1b[2J"; }, /^hostname/],
  ["path relative", (e) => { e.path = "home/u"; }, /^path/],
  ["path with ..", (e) => { e.path = "/home/u/../../etc"; }, /^path/],
  ["path with NUL", (e) => { e.path = "/a\0b"; }, /^path/],
  ["initPid 1", (e) => { e.initPid = 1; }, /^initPid/],
  ["initPid huge", (e) => { e.initPid = 1e12; }, /^initPid/],
  ["initStart as a string", (e) => { e.initStart = "99"; }, /^initStart/],
  ["initStart fractional", (e) => { e.initStart = 1.5; }, /^initStart/],
  ["command not a list", (e) => { e.command = "rm -rf /"; }, /^command/],
  ["command too big", (e) => { e.command = Array.from({ length: 5000 }, () => "x"); }, /^command/],
  ["ip4 not an address", (e) => { e.ip4 = ["1.2.3.4; rm"]; }, /^ip4/],
  ["idmap not a map", (e) => { e.idmap = { uidMap: "0 0 4294967295\nx", gidMap: "", rootless: true }; }, /^idmap/],
  ["cgroup outside the hierarchy", (e) => { e.cgroups = { pids: "/etc" }; }, /^cgroups/],
  ["cgroup a hierarchy's root", (e) => { e.cgroups = { memory: "/sys/fs/cgroup/memory" }; }, /^cgroups/],
  ["cgroup traversal", (e) => { e.cgroups = { pids: "/sys/fs/cgroup/pids/u/../../../../etc" }; }, /^cgroups/],
  ["cgroup unknown controller", (e) => { e.cgroups = { sched: "/sys/fs/cgroup/sched/u/j" }; }, /^cgroups/],
  ["another hierarchy's key outside it", (e) => { e.cgroups = { freezer: "/sys/fs/cgroup/memory/u/j" }; }, /^cgroups\.freezer: not a directory of the freezer hierarchy/],
  ["another hierarchy's root", (e) => { e.cgroups = { cpuset: "/sys/fs/cgroup/cpuset" }; }, /^cgroups\.cpuset/],
  ["one name below /sys/fs/cgroup on a v1 host", (e) => { e.cgroups = { pids: "/sys/fs/cgroup/pids" }; }, /^cgroups\.pids/],
  ["spec null", (e) => { e.spec = null; }, /^spec/],
  ["spec policy file not a string", (e) => { (e.spec as { policy: { files: unknown } }).policy.files = [7]; }, /^spec\.policy/],
  ["spec limit negative", (e) => { (e.spec as { limits: unknown }).limits = { memory: -1 }; }, /^spec\.limits/],
  ["hook not a list", (e) => { e.lifecycle = { exec: { poststop: "id" } }; }, /^lifecycle\.exec/],
  ["consolelog with NUL", (e) => { e.lifecycle = { consoleLog: "/x\0" }; }, /^lifecycle\.consoleLog/],
  ["startedAt free text", (e) => { e.startedAt = "\x1b[2J"; }, /^startedAt/],
  ["not an object", () => undefined, /^entry/],
];

test("each corrupted field is refused by name", () => {
  for (const [what, change, field] of corruptions) {
    const e = good();
    change(e);
    const c = checkEntry(what === "not an object" ? [e] : e, 4, 1000, false);
    assert.equal(c.ok, false, what);
    if (!c.ok) assert.ok(c.problems.some((p) => field.test(p)), `${what}: ${c.problems.join("; ")}`);
  }
});

test("a container's other v1 hierarchies are taken inside their own; one name below /sys/fs/cgroup only where cgroup2 is mounted there", () => {
  const withCg = (cgroups: Record<string, string>) => ({ ...good(), cgroups });
  const joined = { freezer: "/sys/fs/cgroup/freezer/p/c", cpuset: "/sys/fs/cgroup/cpu,cpuset/p/c", systemd: "/sys/fs/cgroup/systemd/p/c", blkio: "/sys/fs/cgroup/blkio/c" };
  const c = checkEntry(withCg(joined), 4, 1000, false);
  assert.ok(c.ok && c.entry.cgroups.freezer === joined.freezer && c.entry.cgroups.cpuset === joined.cpuset, JSON.stringify(!c.ok && c.problems));
  // a v2 host (cgroup2 at /sys/fs/cgroup): /sys/fs/cgroup/x is a cgroup below the root
  const v2 = checkEntry(withCg({ memory: "/sys/fs/cgroup/x", pids: "/sys/fs/cgroup/x" }), 4, 1000, true);
  assert.ok(v2.ok, JSON.stringify(!v2.ok && v2.problems));
  for (const [cg, v2Root] of [[{ memory: "/sys/fs/cgroup/x" }, false], [{ memory: "/sys/fs/cgroup" }, true], [{ memory: "/sys/fs/cgroup/" }, true]] as const) {
    const r = checkEntry(withCg(cg), 4, 1000, v2Root);
    assert.equal(r.ok, false, `${JSON.stringify(cg)} v2Root=${v2Root}`);
    if (!r.ok) assert.ok(r.problems.some((p) => p.startsWith("cgroups.memory")), r.problems.join("; "));
  }
});

test("the init of a corrupt entry is taken only when its pid and start time have the right form", () => {
  assert.deepEqual(corruptInit({ initPid: 77, initStart: 5, name: 1 }), { initPid: 77, initStart: 5 });
  assert.equal(corruptInit({ initPid: "77", initStart: 5 }), undefined);
  assert.equal(corruptInit({ initPid: 1, initStart: 5 }), undefined);
  assert.equal(corruptInit(null), undefined);
});
