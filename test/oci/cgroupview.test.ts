// sysjail-oci: the host's links in its cgroup root, copied into a container's v1 /sys/fs/cgroup (unit).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostCgroupLinks } from "../../src/oci/cgroupview.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";

describe("sysjail-oci: host cgroup links (unit)", () => {
  it("lists each symbolic link with its target, and nothing else; a missing root gives none", () => {
    const base = makeTempDir("sysjail-cgview-", 0o755);
    try {
      mkdirSync(join(base, "cpu,cpuacct"));
      mkdirSync(join(base, "pids"));
      writeFileSync(join(base, "file"), "");
      symlinkSync("cpu,cpuacct", join(base, "cpu"));
      symlinkSync("cpu,cpuacct", join(base, "cpuacct"));
      symlinkSync("no-such", join(base, "dangling"));
      const links = hostCgroupLinks(base).sort((a, b) => a[0].localeCompare(b[0]));
      assert.deepEqual(links, [["cpu", "cpu,cpuacct"], ["cpuacct", "cpu,cpuacct"], ["dangling", "no-such"]]);
      assert.deepEqual(hostCgroupLinks(join(base, "missing")), []);
      // the layout's mount points are directories: not looked at
      assert.deepEqual(hostCgroupLinks(base, new Set([join(base, "pids"), join(base, "cpu,cpuacct"), join(base, "dangling")])).sort((a, b) => a[0].localeCompare(b[0])), [["cpu", "cpu,cpuacct"], ["cpuacct", "cpu,cpuacct"]]);
    } finally {
      removeTree(base);
    }
  });
});
