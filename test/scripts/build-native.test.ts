// scripts/build-native.mjs (run by npm install): a machine without a C compiler gets one clear
// line saying what to install, and the helper already built is left as it is.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

describe("building the helper", () => {
  it("without a C compiler: one line naming the compiler and what to install, exit 1, the built helper untouched", () => {
    const helper = join(REPO, "native", "build", "sysjail-helper");
    const before = statSync(helper);
    const r = spawnSync(process.execPath, [join(REPO, "scripts", "build-native.mjs"), "--force"], {
      encoding: "utf8", env: { ...process.env, CC: "/nonexistent/sysjail-test-cc" },
    });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.split("\n").filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^sysjail: no C compiler found \('\/nonexistent\/sysjail-test-cc'\); install one \(Debian: apt-get install gcc libc6-dev\) and run npm rebuild$/);
    const after = statSync(helper);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.ino, before.ino);
  });
});
