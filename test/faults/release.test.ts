// Issue 23: fault injection is a test-only switch. A release build of the helper (-DSJ_RELEASE,
// as scripts/pack-native.mjs and an install-time build make it) has no trace of
// SYSJAIL_TEST_FAULT; the checkout's build has it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";

describe("fault injection in release builds", () => {
  it("a helper built with -DSJ_RELEASE does not read SYSJAIL_TEST_FAULT; the checkout's does", async (t) => {
    const { BASE_FLAGS, sources } = (await import(join(REPO, "scripts", "native-common.mjs"))) as { BASE_FLAGS: string[]; sources: () => string[] };
    const dir = makeTempDir("sysjail-release-");
    t.after(() => removeTree(dir));
    const out = join(dir, "sysjail-helper");
    const r = spawnSync("cc", [...BASE_FLAGS, "-DSJ_RELEASE", "-o", out, ...sources()], { cwd: REPO, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!readFileSync(out).includes("SYSJAIL_TEST_FAULT"), "the release helper names the variable");
    assert.ok(readFileSync(join(REPO, "native", "build", "sysjail-helper")).includes("SYSJAIL_TEST_FAULT"), "the checkout's helper reads it");
  });
});
