// mkjail nano: the programs and what they load, nothing else; owned by jail root; rootless too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { chmodSync, lstatSync, readFileSync } from "node:fs";
import { coreSuite, defer, makeNobody, makeOwnedDir, makeTempDir, NOBODY_UID, removeTree } from "../helpers/index.js";
import { blockOfBase, idPool } from "../../src/ids/pool.js";
import { entries, mkjail, regularFiles, show, sysjail } from "./helpers.js";

coreSuite();

describe("mkjail nano", () => {
  it("holds sh, ls, their libraries and a minimal /etc, and runs", (t) => {
    const base = makeTempDir("mkjail-nano-");
    defer(t, () => removeTree(base));
    const dir = join(base, "nano");
    const r = mkjail(["nano:/bin/sh,/bin/ls", dir]);
    assert.equal(r.code, 0, show(r));
    const files = regularFiles(dir);
    assert.ok(files.length >= 3 && files.length <= 40, `${files.length} files: ${files.join(" ")}`);
    assert.ok(files.some((f) => f.endsWith("/libc.so.6")), "libc is there");
    assert.ok(!files.some((f) => /\/(bash|cat|id)$/.test(f)), "nothing unnamed");
    assert.match(readFileSync(join(dir, "etc", "passwd"), "utf8"), /^root:x:0:0:/);
    const run = sysjail([dir, "nano", "/bin/sh", "-c", "ls /bin; echo done"]);
    assert.equal(run.code, 0, show(run));
    assert.match(run.stdout, /^ls$/m);
    assert.match(run.stdout, /^done$/m);
  });

  it("gives the tree to the jail's id range: no file owned by host root, no setuid bit", (t) => {
    const base = makeTempDir("mkjail-nano-");
    defer(t, () => removeTree(base));
    const dir = join(base, "nano");
    assert.equal(mkjail(["nano:/bin/sh", dir]).code, 0);
    const b = lstatSync(dir).uid;
    const pool = idPool();
    assert.notEqual(blockOfBase(pool, b), undefined, `the tree root is owned by a range base of the pool, not ${b}`);
    for (const e of entries(dir)) {
      assert.ok(e.uid >= b && e.uid < b + 65536, `${e.path} owned by host uid ${e.uid}`);
      assert.equal(e.mode & 0o6000, 0, `${e.path} is setuid/setgid`);
    }
    assert.equal(lstatSync(join(dir, "root")).mode & 0o777, 0o700);
  });

  it("is made by an unprivileged user, owned by that user, and runs rootless", (t) => {
    const nobody = makeNobody();
    defer(t, () => nobody.remove());
    const base = makeOwnedDir(NOBODY_UID, NOBODY_UID, "mkjail-nano-u-", 0o755);
    defer(t, () => removeTree(base));
    chmodSync(base, 0o755);
    const dir = join(base, "nano-u");
    const r = mkjail(["nano:/bin/sh", dir], { as: nobody });
    assert.equal(r.code, 0, show(r));
    for (const e of entries(dir)) assert.equal(e.uid, NOBODY_UID, `${e.path} owned by ${e.uid}`);
    const run = sysjail([dir, "u", "/bin/sh", "-c", "echo ok-u"], { as: nobody });
    assert.equal(run.stdout.trim(), "ok-u", show(run));
  });

  it("prints the jail.conf block, or JSON events with --json; says nothing on a piped stderr", (t) => {
    const base = makeTempDir("mkjail-nano-");
    defer(t, () => removeTree(base));
    const r = mkjail(["nano:/bin/sh", join(base, "a")]);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, new RegExp(`path = "${join(base, "a")}";`));
    const j = mkjail(["--json", "nano:/bin/sh", join(base, "b")]);
    assert.equal(j.code, 0, show(j));
    const evs = j.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ev: string; path?: string });
    assert.equal(evs.at(-1)?.ev, "done");
    assert.equal(evs.at(-1)?.path, join(base, "b"));
  });
});
