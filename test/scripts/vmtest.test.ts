// scripts/vmtest.mjs's usage errors: one line naming the value and what is allowed, exit 64,
// nothing on stdout, no work directory left (they come before anything is fetched or made).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

const works = () => readdirSync(tmpdir()).filter((f) => f.startsWith("sysjail-vmtest-")).sort();

describe("scripts/vmtest.mjs bad input", () => {
  for (const [args, re] of [
    [[], /^vmtest: no PATTERN given; usage: node scripts\/vmtest\.mjs /],
    [["--bogus", "core/"], /^vmtest: unknown option "--bogus"; usage: /],
    [["--timeout", "0", "core/"], /^vmtest: --timeout "0": a whole number of seconds above 0 is allowed$/],
    [["--timeout", "1.5", "core/"], /^vmtest: --timeout "1\.5": a whole number of seconds above 0 is allowed$/],
  ] as const) {
    it(`${JSON.stringify(args)}: one line, exit 64, nothing made`, () => {
      const before = works();
      const r = spawnSync(process.execPath, [join(REPO, "scripts", "vmtest.mjs"), ...args], { encoding: "utf8" });
      assert.equal(r.status, 64, r.stderr);
      assert.equal(r.stdout, "");
      const lines = r.stderr.split("\n").filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, re);
      assert.deepEqual(works(), before);
    });
  }
});
