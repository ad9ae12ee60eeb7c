// The other v1 hierarchies of a sysjail-oci container and the rule for recorded cgroup paths (unit).
import assert from "node:assert/strict";
import { test } from "node:test";
import { belowHierarchy, inHierarchyOf, joinedKeys } from "../../src/cgroup/joined.js";

test("a hierarchy's registry keys: its controllers beyond sysjail's own, name=systemd as systemd", () => {
  assert.deepEqual(joinedKeys(["cpuset"]), ["cpuset"]);
  assert.deepEqual(joinedKeys(["net_cls", "net_prio"]), ["net_cls", "net_prio"]);
  assert.deepEqual(joinedKeys(["name=systemd"]), ["systemd"]);
  assert.deepEqual(joinedKeys(["memory"]), [], "recorded as sysjail's own controller");
  assert.deepEqual(joinedKeys(["cpu", "cpuacct"]), []);
  assert.deepEqual(joinedKeys(["name=other"]), [], "an unknown named hierarchy is not recorded");
});

test("a recorded directory is below a hierarchy, never its root; one name below /sys/fs/cgroup only on a v2 host", () => {
  for (const [dir, v2Root, ok] of [
    ["/sys/fs/cgroup/pids/x", false, true], ["/sys/fs/cgroup/pids", false, false], ["/sys/fs/cgroup/x", true, true],
    ["/sys/fs/cgroup", true, false], ["/sys/fs/cgroup/", true, false], ["/sys/fs/cgroupx/a/b", true, false], ["/etc/a/b", false, false],
  ] as const) assert.equal(belowHierarchy(dir, v2Root), ok, `${dir} v2Root=${v2Root}`);
  assert.equal(inHierarchyOf("freezer", "/sys/fs/cgroup/freezer/a"), true);
  assert.equal(inHierarchyOf("cpuset", "/sys/fs/cgroup/cpu,cpuset/a"), true);
  assert.equal(inHierarchyOf("freezer", "/sys/fs/cgroup/memory/freezer"), false);
  assert.equal(inHierarchyOf("freezer", "/etc/freezer/x"), false);
});
