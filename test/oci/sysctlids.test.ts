// src/oci/sysctlids.ts: a joined network namespace's ping_group_range, written by the monitor,
// in the container's gids through its gid map (the jails that use it: test/oci/sysctl.test.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostGidRange } from "../../src/oci/sysctlids.js";

describe("sysjail-oci: ping_group_range's gids (unit)", () => {
  it("ping_group_range: a range of the container's gids through its gid map; any other as given", () => {
    assert.equal(hostGidRange("0 0", "0 100000 65536\n"), "100000 100000");
    assert.equal(hostGidRange("5\t9", "0 1000 1\n1 200000 65535\n"), "200004 200008", "the line that holds the range");
    assert.equal(hostGidRange("0 2147483647", "0 100000 65536\n"), "0 2147483647", "every group: as given");
    assert.equal(hostGidRange("0 5", "0 1000 1\n1 200000 65535\n"), "0 5", "across two lines: as given");
    assert.equal(hostGidRange("1 0", "0 100000 65536\n"), "1 0", "the kernel's empty range stays");
    assert.equal(hostGidRange("x y", "0 100000 65536\n"), "x y", "the kernel refuses it");
  });
});
