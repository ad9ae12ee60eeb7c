// The symlink counters of the registry (lastjid) and the id leases (next): src/host/linkcounter.ts.
import assert from "node:assert/strict";
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readLinkCounter, writeLinkCounter } from "../../src/host/linkcounter.js";

describe("link counters", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sysjail-linkcounter-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("read 0 when missing, and what was written, as a link", () => {
    const f = join(dir, "a");
    assert.equal(readLinkCounter(f), 0);
    writeLinkCounter(f, 41);
    assert.equal(readlinkSync(f), "41");
    assert.equal(readLinkCounter(f), 41);
    writeLinkCounter(f, 7);
    assert.equal(readLinkCounter(f), 7);
    assert.deepEqual(readdirSync(dir), ["a"], "no temp link is left");
  });

  it("read a regular file only when asked (an older layout), and 0 for what is not a whole number >= 0", () => {
    const f = join(dir, "b");
    writeFileSync(f, "12\n");
    assert.equal(readLinkCounter(f), 0);
    assert.equal(readLinkCounter(f, true), 12);
    for (const bad of ["-1", "1.5", "x", "1e400"]) {
      rmSync(f);
      symlinkSync(bad, f);
      assert.equal(readLinkCounter(f, true), 0, bad);
    }
  });

  it("keep() refusing leaves the counter as it was and no temp link", () => {
    const f = join(dir, "c");
    writeLinkCounter(f, 5);
    writeLinkCounter(f, 3, () => false);
    assert.equal(readLinkCounter(f), 5);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith("c")), ["c"]);
  });

  it("replace a temp link left by a process with this pid, and never throw", () => {
    const f = join(dir, "d");
    symlinkSync("99", `${f}.${process.pid}.tmp`);
    writeLinkCounter(f, 4);
    assert.equal(readLinkCounter(f), 4);
    assert.ok(lstatSync(f).isSymbolicLink());
    assert.doesNotThrow(() => writeLinkCounter(join(dir, "missing", "e"), 1));
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith("d")), ["d"]);
  });
});
