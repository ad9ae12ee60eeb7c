// mkjail thin: the host's /usr read-only, the jail's own /etc; the decision is host root's record,
// never a file in the tree (jail root could write one).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { coreSuite, defer, makeJailRoot, makeNobody, makeOwnedDir, makeTempDir, NOBODY_UID, removeTree } from "../helpers/index.js";
import { THIN_MARK, thinRecord } from "../../src/jail/thin.js";
import { mkjail, show, sysjail } from "./helpers.js";

const env = coreSuite();

describe("mkjail thin", () => {
  it("shares the host's /usr read-only, keeps its own /etc, and is small", (t) => {
    const base = makeTempDir("mkjail-thin-");
    defer(t, () => removeTree(base));
    const dir = join(base, "thin");
    const r = mkjail(["thin", dir]);
    assert.equal(r.code, 0, show(r));
    const record = thinRecord(dir);
    defer(t, () => rmSync(record, { force: true }));
    const ok = sysjail([dir, "thin", "/bin/sh", "-c", "echo thin-ok"]);
    assert.equal(ok.stdout.trim(), "thin-ok", show(ok));
    const ro = sysjail([dir, "thin", "/bin/sh", "-c", "touch /usr/mkjail-thin-x 2>&1"]);
    assert.match(ro.stdout, /Read-only file system/, show(ro));
    assert.equal(existsSync("/usr/mkjail-thin-x"), false);
    const own = sysjail([dir, "thin", "/bin/sh", "-c", "echo mine >/etc/thin-own && stat -c %u /etc/passwd"]);
    assert.equal(own.stdout.trim(), "0", show(own));
    assert.equal(readFileSync(join(dir, "etc", "thin-own"), "utf8"), "mine\n");
    assert.equal(existsSync("/etc/thin-own"), false);
    const du = spawnSync("du", ["-sm", dir], { encoding: "utf8" });
    assert.ok(Number(du.stdout.split("\t")[0]) <= 30, du.stdout);
  });

  it("a marker inside a tree does not make a root caller's jail thin", (t) => {
    const root = makeJailRoot(env.probe, { dirs: ["usr"] });
    defer(t, () => root.remove());
    writeFileSync(root.at(THIN_MARK), "/usr\n");
    const r = sysjail([root.path, "forged", "/probe", "ls", "/usr"]);
    assert.equal(r.stdout.trim(), "ls", show(r)); // the empty /usr of the tree, not the host's
  });

  it("another tree at the same path does not inherit a thin record; stale records are pruned", (t) => {
    const base = makeTempDir("mkjail-thin-");
    defer(t, () => removeTree(base));
    const dir = join(base, "thin");
    assert.equal(mkjail(["thin", dir]).code, 0);
    const record = thinRecord(dir);
    defer(t, () => rmSync(record, { force: true }));
    removeTree(dir);
    mkdirSync(join(dir, "usr"), { recursive: true });
    for (const d of ["proc", "dev", "tmp"]) mkdirSync(join(dir, d));
    const r = sysjail([dir, "other", "/usr/bin/true"]);
    assert.equal(r.code, 127, show(r));
    // the next thin build prunes the record of the tree that is gone
    const next = join(base, "thin2");
    assert.equal(mkjail(["thin", next]).code, 0);
    defer(t, () => rmSync(thinRecord(next), { force: true }));
    assert.equal(existsSync(record), false, "a stale record is kept");
    // a new thin tree at a path whose old tree was removed replaces that tree's record
    const nextRecord = thinRecord(next);
    removeTree(next);
    assert.equal(mkjail(["thin", next]).code, 0);
    defer(t, () => rmSync(thinRecord(next), { force: true }));
    assert.ok(thinRecord(next) === nextRecord || !existsSync(nextRecord), "the old tree's record is kept");
  });

  it("rootless: the user's own tree with its marker runs with the host's /usr read-only", (t) => {
    const nobody = makeNobody();
    defer(t, () => nobody.remove());
    const base = makeOwnedDir(NOBODY_UID, NOBODY_UID, "mkjail-thin-u-", 0o755);
    defer(t, () => removeTree(base));
    const dir = join(base, "thin");
    const r = mkjail(["thin", dir], { as: nobody });
    assert.equal(r.code, 0, show(r));
    const ro = sysjail([dir, "thin", "/bin/sh", "-c", "echo ok; touch /usr/x 2>&1"], { as: nobody });
    assert.match(ro.stdout, /^ok\n.*(Read-only file system|Permission denied)/, show(ro));
  });
});
