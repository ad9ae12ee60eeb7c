// The one reader of /etc/subuid and /etc/subgid's `sysjail` line: src/host/subid.ts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sysjailSubids } from "../../src/host/subid.js";

describe("sysjailSubids", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sysjail-subid-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const read = (text: string): [number, number] | undefined => {
    const f = join(dir, "subuid");
    writeFileSync(f, text);
    return sysjailSubids(f);
  };

  it("takes the first valid sysjail line", () => {
    assert.deepEqual(read("alice:100000:65536\n sysjail:200000:131072 \nsysjail:300000:65536\n"), [200000, 131072]);
    assert.deepEqual(read("sysjail:0:65536\nsysjail:x:1\nsysjail:5:0\nsysjail:400000:1000\n"), [400000, 1000]);
  });

  it("gives undefined for no file, no sysjail line, or a range past 2^32-1", () => {
    assert.equal(sysjailSubids(join(dir, "missing")), undefined);
    assert.equal(read("alice:100000:65536\n"), undefined);
    assert.equal(read("sysjail:4294901760:65536\n"), undefined);
    assert.equal(read("sysjail:100000\n"), undefined);
  });
});
