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
  ["cgroup unknown controller", (e) => { e.cgroups = { freezer: "/sys/fs/cgroup/freezer/u/j" }; }, /^cgroups/],
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
    const c = checkEntry(what === "not an object" ? [e] : e, 4, 1000);
    assert.equal(c.ok, false, what);
    if (!c.ok) assert.ok(c.problems.some((p) => field.test(p)), `${what}: ${c.problems.join("; ")}`);
  }
});

test("the init of a corrupt entry is taken only when its pid and start time have the right form", () => {
  assert.deepEqual(corruptInit({ initPid: 77, initStart: 5, name: 1 }), { initPid: 77, initStart: 5 });
  assert.equal(corruptInit({ initPid: "77", initStart: 5 }), undefined);
  assert.equal(corruptInit({ initPid: 1, initStart: 5 }), undefined);
  assert.equal(corruptInit(null), undefined);
});
