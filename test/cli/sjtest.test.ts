// sjtest, as installed (package.json bin): its usage errors, and the whole self-test run as root
// and as uid 65534 (the way the acceptance check runs it), failing on any failing test with the
// reasons sjtest gives.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { escapeText } from "../../src/sjtest/escape.js";
import { leaseDirs } from "../../src/ids/leases.js";
import { makeOwnedDir, removeAllTemp } from "../helpers/tmp.js";
import { requireRoot } from "../helpers/nobody.js";
import { REPO } from "../helpers/paths.js";

const SJTEST = join(REPO, "bin", "sjtest.js");

interface Report { tests: { name: string; pass: boolean; reason: string; ms: number }[]; passed: number; failed: number }

function run(args: string[], as?: { dir: string }) {
  const prefix = as
    ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "-u", "XDG_RUNTIME_DIR", `HOME=${as.dir}`, "PATH=/usr/bin:/bin"]
    : [];
  const argv = [...prefix, process.execPath, SJTEST, ...args];
  return spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", cwd: as?.dir ?? REPO, timeout: 300_000 });
}

/** The host id ranges leased for sjtest's own jail names and trees (root's kept leases). */
const sjtestLeases = () => {
  const dir = join(leaseDirs().persistent, "blocks");
  let files: string[] = [];
  try { files = readdirSync(dir); } catch { /* none yet */ }
  return files.filter((f) => { try { return /^(name "sjt\d+-|tree ".*\/sjtest-)/.test(readFileSync(join(dir, f), "utf8")); } catch { return false; } });
};

/** The sjtest temp directories on the host now. */
const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith("sjtest-"));

after(() => removeAllTemp());

describe("sjtest", () => {
  it("bad input: one line, exit 64, no stack trace, nothing run", () => {
    for (const args of [["--bogus"], ["-t"], ["-t", "no-such-test"], ["--inside"]]) {
      const r = run(args);
      assert.equal(r.status, 64, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      const lines = r.stderr.split("\n").filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^sjtest: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  it("lists its tests: at least 30, each one name, the root-only ones marked", () => {
    const r = run(["-l"]);
    assert.equal(r.status, 0, r.stderr);
    const names = r.stdout.trim().split("\n");
    assert.ok(names.length >= 30, r.stdout);
    assert.equal(new Set(names).size, names.length, "names are unique");
    assert.ok(names.some((n) => n.endsWith(" (root)")));
  });

  it("escapes control characters for the terminal", () => {
    assert.equal(escapeText("a\x1b]0;x\x07\\b\n"), "a\\033]0;x\\007\\\\b\\012");
  });

  for (const who of ["root", "65534"] as const) {
    it(`passes every test as ${who} (--json -k), and leaves nothing behind`, () => {
      requireRoot("sjtest's test");
      const before = leftovers();
      const leasesBefore = sjtestLeases();
      const dir = who === "root" ? undefined : { dir: makeOwnedDir(65534, 65534, "sysjail-sjtest-") };
      const r = run(["--json", "-k"], dir);
      let rep: Report;
      try {
        rep = JSON.parse(r.stdout) as Report;
      } catch {
        assert.fail(`sjtest --json as ${who}: status ${r.status}, no JSON: ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
      }
      const failing = rep.tests.filter((t) => t.pass !== true);
      assert.deepEqual(failing.map((t) => `${t.name}: ${t.reason}`), [], `failing tests as ${who}`);
      assert.ok(rep.tests.length >= 30, `${rep.tests.length} tests`);
      assert.equal(rep.passed, rep.tests.length);
      assert.equal(rep.failed, 0);
      assert.equal(r.status, 0, r.stderr);
      if (who === "65534") assert.ok(!rep.tests.some((t) => t.name.endsWith(" (root)")), "root-only tests are not listed in a rootless run");
      assert.deepEqual(leftovers().filter((n) => !before.includes(n)), [], "sjtest left its temp directory");
      assert.deepEqual(sjtestLeases().filter((n) => !leasesBefore.includes(n)), [], "sjtest gave its jails' id ranges back");
    });
  }
});
