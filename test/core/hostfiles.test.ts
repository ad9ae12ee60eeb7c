// Issue 17 item 3, the writing side: a host file the caller names (--report) is never written
// inside the jail's tree nor through a symlink (jail root could have planted one to a host file).
import assert from "node:assert/strict";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertStateEmpty, defer, jailRootSuite, makeTempDir, removeTree, show, stateDir, sysjail } from "../helpers/index.js";

const { root } = jailRootSuite();

describe("--report FILE", { concurrency: 2 }, () => {
  it("is refused inside the jail's path, and through a symlink: one line, exit 73, the target untouched", async (t) => {
    const j = stateDir(t);
    const dir = makeTempDir("sysjail-hostfiles-");
    defer(t, () => removeTree(dir));
    const victim = join(dir, "victim");
    writeFileSync(victim, "unchanged\n");
    const link = join(dir, "report.json");
    symlinkSync(victim, link);
    const inside = root.at("tmp/report.json");
    for (const [file, want] of [[inside, /inside the jail's path/], [link, /is a symbolic link/]] as const) {
      const r = await sysjail(["-j", j, "--report", file, root.path, "rep", "/probe", "exit", "0"]);
      assert.equal(r.code, 73, show(r));
      assert.equal(r.stderr.trim().split("\n").length, 1, show(r));
      assert.match(r.stderr, want, show(r));
    }
    assert.equal(readFileSync(victim, "utf8"), "unchanged\n");
    // control: a plain host file is written
    const ok = join(dir, "ok.json");
    const r = await sysjail(["-j", j, "--report", ok, root.path, "rep", "/probe", "exit", "3"]);
    assert.equal(r.code, 3, show(r));
    assert.equal(JSON.parse(readFileSync(ok, "utf8")).exitCode, 3);
    await assertStateEmpty(j);
  });
});
