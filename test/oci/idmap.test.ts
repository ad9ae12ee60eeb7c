// linux.uidMappings/gidMappings as root's explicit choice (src/oci/idmap.ts): pool blocks, root's
// own maps, what is warned of and what is refused (unit; the caller must be root).
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { blockBase, idPool } from "../../src/ids/pool.js";
import { mapLines, ociIds } from "../../src/oci/idmap.js";
import type { OciConfig } from "../../src/oci/config.js";

const cfg = (uid: unknown, gid: unknown): OciConfig => ({ ociVersion: "1.2.0", linux: { uidMappings: uid, gidMappings: gid } } as unknown as OciConfig);
const one = (c: number, h: number, s: number) => [{ containerID: c, hostID: h, size: s }];

describe("sysjail-oci: id mappings (unit)", () => {
  before(() => {
    if (process.getuid?.() !== 0) throw new Error("root's mappings only: run the sysjail-oci tests as root");
  });
  it("one range onto a pool block is that block; anything else is written as given", () => {
    const b = blockBase(idPool(), 3);
    assert.deepEqual(ociIds(cfg(one(0, b.uid, 100), one(0, b.gid, 100)), () => {}), { kind: "block", idrange: String(b.uid), size: 100 });
    const m = ociIds(cfg([...one(0, 0x5e000000, 10), ...one(20, 0x5e000100, 5)], one(0, 0x5e000000, 30)), () => {});
    assert.equal(m?.kind, "maps");
    if (m?.kind !== "maps") return;
    assert.equal(m.uidMap, `0 ${0x5e000000} 10\n20 ${0x5e000100} 5\n`);
    assert.equal(m.count, 10, "process ids must lie in the ids mapped from 0 without a gap");
    assert.equal(ociIds({ ociVersion: "1.2.0" } as OciConfig, () => {}), undefined);
  });

  it("warns of host users, the pool and running jails' maps (names made printable)", () => {
    const warned: string[] = [];
    const pool = idPool();
    ociIds(cfg(one(0, 65534, 1), one(0, pool.gidStart, 1)), (m) => warned.push(m), () => [{ name: "web\x1b[2J", uidMap: "0 65534 1\n", gidMap: "" }]);
    assert.match(warned.join("\n"), /users nobody \(65534\)/);
    assert.match(warned.join("\n"), /running jails web\?\[2J/);
    warned.length = 0;
    ociIds(cfg(one(0, pool.uidStart + 5, 10), one(0, pool.gidStart + 5, 10)), (m) => warned.push(m));
    assert.match(warned.join("\n"), /lie in sysjail's id pool/);
  });

  it("refuses host id 0, overlaps, bad numbers and a missing map, each in one line", () => {
    for (const [u, g, msg] of [
      [one(0, 0, 10), one(0, 1000, 10), /uidMappings: container id 0 onto host id 0/],
      [one(0, 1000, 10), [...one(0, 1000, 10), ...one(10, 0, 1)], /gidMappings: container id 10 onto host id 0/],
      [[...one(0, 1000, 10), ...one(9, 2000, 1)], one(0, 1000, 10), /overlap in their container ids/],
      [[...one(0, 1000, 10), ...one(10, 1005, 1)], one(0, 1000, 10), /overlap in their host ids/],
      [one(0, 4294967290, 10), one(0, 1000, 10), /below 4294967295/],
      [one(0, 1.5, 10), one(0, 1000, 10), /whole numbers/],
      [[], one(0, 1000, 10), /a list of 1 to 340/],
      [one(0, 1000, 10), undefined, /gidMappings is missing/],
    ] as const) {
      assert.throws(() => ociIds(cfg(u, g), () => {}), (e: Error) => msg.test(e.message) && !e.message.includes("\n"), String(msg));
    }
  });

  it("reads a registry entry's map lines", () => {
    assert.deepEqual(mapLines("0 1000 10\n 10 2000 5 \n\njunk\n"), [[0, 1000, 10], [10, 2000, 5]]);
  });
});
