// sysjail-oci: config.json's source names for the jail's own kernel filesystems (unit).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fsSources, nameSources } from "../../src/oci/sources.js";
import { op } from "../../src/plan/types.js";

describe("sysjail-oci: mount source names (unit)", () => {
  it("names the plan's procfs, devfs, shm and sysfs as config.json does; other ops and types are left alone", () => {
    const sources = fsSources([
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev/", type: "tmpfs", source: "tmpfs" },
      { destination: "/dev/shm", type: "tmpfs", source: "shm" },
      { destination: "/sys", type: "sysfs", source: "sys,fs" },
      { destination: "/data", type: "bind", source: "/srv/data" },
    ]);
    assert.deepEqual([...sources.keys()], ["/proc", "/dev", "/dev/shm"], "a source that is not a plain word is not passed on");
    const out = nameSources([
      op("mountFs", ["proc", "/proc", "sdnx", ""]),
      op("mountFs", ["tmpfs", "/dev", "sdnx", "mode=0755"]),
      op("mountFs", ["devpts", "/dev/shm", "c", ""]),
      op("mountFs", ["sysfs", "/sys", "r", ""]),
      op("pivot"),
    ], sources);
    assert.deepEqual(out.map((o) => o.args[3]), ["source=proc", "mode=0755,source=tmpfs", "", "", undefined]);
  });
});
