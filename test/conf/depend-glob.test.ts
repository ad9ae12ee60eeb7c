// Tests: depend ordering, fnmatch and the filesystem glob.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOrder, fnmatch, fsGlob, parseJailConf, removeOrder } from "../../src/conf/index.js";
import { throwsConf } from "./helpers.js";

test("depend: create dependencies first, remove dependents first", () => {
  const conf = parseJailConf("db { persist; }\ncache { depend = db; }\nweb { depend = cache, db; }\nlone {}", "j.conf");
  assert.deepEqual(createOrder(conf, ["web"]), ["db", "cache", "web"]);
  assert.deepEqual(createOrder(conf, ["lone", "cache"]), ["lone", "db", "cache"]);
  assert.deepEqual(removeOrder(conf, ["db"]), ["web", "cache", "db"]);
  assert.deepEqual(removeOrder(conf, ["web"]), ["web"]);
  throwsConf(() => createOrder(parseJailConf("a { depend = b; }\nb { depend = a; }", "j.conf"), ["a"]), "j.conf: depend loop: a -> b -> a");
  throwsConf(() => createOrder(parseJailConf("a { depend = nope; }", "j.conf"), ["a"]), "j.conf:1:14: depend: jail 'nope' is not defined near 'nope'");
});

test("fnmatch: *, ?, classes, escapes, pathname mode", () => {
  assert.equal(fnmatch("pts/*", "pts/0", true), true);
  assert.equal(fnmatch("*", "pts/0", true), false);
  assert.equal(fnmatch("*", "pts/0", false), true);
  assert.equal(fnmatch("tty[0-9]", "tty5", true), true);
  assert.equal(fnmatch("tty[!0-9]", "ttyS", true), true);
  assert.equal(fnmatch("tty[!0-9]", "tty5", true), false);
  assert.equal(fnmatch("jail[.]conf", "jail.conf"), true);
  assert.equal(fnmatch("a\\*", "a*"), true);
  assert.equal(fnmatch("a\\*", "ab"), false);
  assert.equal(fnmatch("?mem", "kmem"), true);
  assert.equal(fnmatch("a.b", "axb"), false);
});

test("fsGlob on a real directory: sorted, no dot files, literal paths", () => {
  const d = mkdtempSync(join(tmpdir(), "sjglob-"));
  try {
    mkdirSync(join(d, "conf.d"));
    for (const f of ["b.conf", "a.conf", ".hidden.conf", "c.txt"]) writeFileSync(join(d, "conf.d", f), "");
    assert.deepEqual(fsGlob(`${d}/conf.d/*.conf`), [`${d}/conf.d/a.conf`, `${d}/conf.d/b.conf`]);
    assert.deepEqual(fsGlob(`${d}/conf.d/a[.]conf`), [`${d}/conf.d/a.conf`]);
    assert.deepEqual(fsGlob(`${d}/*/c.txt`), [`${d}/conf.d/c.txt`]);
    assert.deepEqual(fsGlob(`${d}/none/*.conf`), []);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
