// scripts/podman-timeline.mjs's usage errors: one line naming the value and what is allowed,
// exit 64, nothing on stdout (they come before any trace instance or container is made).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";

describe("scripts/podman-timeline.mjs bad input", () => {
  for (const [args, re] of [
    [[], /^podman-timeline: usage: node scripts\/podman-timeline\.mjs /],
    [["IMAGE"], /^podman-timeline: usage: /],
    [["--bogus", "IMAGE", "true"], /^podman-timeline: unknown option "--bogus"; usage: /],
    [["--rounds", "0", "IMAGE", "true"], /^podman-timeline: --rounds "0": a whole number from 1 to 1000 is needed$/],
    [["--rounds", "2.5", "IMAGE", "true"], /^podman-timeline: --rounds "2\.5": a whole number from 1 to 1000 is needed$/],
    [["--runtime"], /^podman-timeline: --runtime: a path to sysjail-oci is needed$/],
  ] as const) {
    it(`${JSON.stringify(args)}: one line, exit 64`, () => {
      const r = spawnSync(process.execPath, [join(REPO, "scripts", "podman-timeline.mjs"), ...args], { encoding: "utf8" });
      assert.equal(r.status, 64, r.stderr);
      assert.equal(r.stdout, "");
      const lines = r.stderr.split("\n").filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, re);
    });
  }
});
