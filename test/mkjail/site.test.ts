// mkjail -s site,sitelocal: the admin's tarballs laid over a new tree, /install.site run inside the
// new jail; hostile members (device nodes, '..', links leading out) never reach the host.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { coreSuite, defer, makeNobody, makeOwnedDir, makeTempDir, NOBODY_UID, removeTree } from "../helpers/index.js";
import { entries, mkjail, names, oneLineError, show, sysjail } from "./helpers.js";

coreSuite();

/** Packs DIR's content into OUT (gzip), owners as they are. */
function tgz(dir: string, out: string): void {
  const r = spawnSync("tar", ["-czf", out, "--numeric-owner", "-C", dir, "."], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

/** A tarball written member by member (names tar itself would not write), with python3's tarfile. */
function craft(out: string, members: { name: string; kind: "file" | "chr" | "link"; data?: string; target?: string }[]): void {
  const py = `import tarfile,io,json,sys
t=tarfile.open(sys.argv[1],'w:gz')
for m in json.loads(sys.argv[2]):
  i=tarfile.TarInfo(m['name'])
  if m['kind']=='file':
    d=m.get('data','').encode(); i.size=len(d); t.addfile(i,io.BytesIO(d))
  elif m['kind']=='chr':
    i.type=tarfile.CHRTYPE; i.devmajor=1; i.devminor=5; t.addfile(i)
  else:
    i.type=tarfile.SYMTYPE; i.linkname=m['target']; t.addfile(i)
t.close()`;
  const r = spawnSync("python3", ["-c", py, out, JSON.stringify(members)], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

/** A site directory: site.tgz with /etc/motd and an /install.site running SCRIPT (sh). */
function siteDir(base: string, script: string, owner?: number): string {
  const src = join(base, "sitesrc");
  mkdirSync(join(src, "etc"), { recursive: true });
  writeFileSync(join(src, "etc", "motd"), "from site\n");
  writeFileSync(join(src, "install.site"), `#!/bin/sh\n${script}\n`);
  chmodSync(join(src, "install.site"), 0o755);
  const sd = join(base, "sitedir");
  mkdirSync(sd);
  tgz(src, join(sd, "site.tgz"));
  removeTree(src);
  if (owner !== undefined) { chownSync(sd, owner, owner); chownSync(join(sd, "site.tgz"), owner, owner); }
  return sd;
}

describe("mkjail site sets", () => {
  it("lays site.tgz and site-NAME.tgz over a nano tree; /install.site runs in the jail as its root, then is gone", (t) => {
    const base = makeTempDir("site-mkjail-");
    defer(t, () => removeTree(base));
    const sd = siteDir(base, "echo ran >/etc/ran; echo $$ >/etc/pid");
    const local = join(base, "local");
    mkdirSync(join(local, "etc"), { recursive: true });
    writeFileSync(join(local, "etc", "local"), "local\n");
    tgz(local, join(sd, "site-j.tgz"));
    const dir = join(base, "j");
    const r = mkjail(["-s", "site,sitelocal", "--site-dir", sd, "nano:/bin/sh", dir]);
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(join(dir, "etc", "motd"), "utf8"), "from site\n");
    assert.equal(readFileSync(join(dir, "etc", "local"), "utf8"), "local\n", "sitelocal: site-NAME.tgz, NAME = DIR's last component");
    assert.equal(readFileSync(join(dir, "etc", "ran"), "utf8"), "ran\n");
    assert.equal(existsSync(join(dir, "install.site")), false, "install.site removed after success");
    const top = lstatSync(dir).uid;
    assert.notEqual(top, 0, "adopted: the tree belongs to the jail's range");
    assert.equal(lstatSync(join(dir, "etc", "ran")).uid, top, "install.site ran as the jail's root (its real ids)");
    assert.equal(lstatSync(join(dir, "etc", "motd")).uid, top, "site files shifted with the tree");
    assert.equal(readFileSync(join(dir, "etc", "pid"), "utf8").trim() !== "", true);
    const run = sysjail([dir, "sitej", "/bin/sh", "-c", "read x </etc/motd; echo $x"]);
    assert.equal(run.stdout, "from site\n", show(run));
    assert.deepEqual(names(base), ["j", "local", "sitedir"], "no DIR.partial left");
  });

  it("a failing install.site fails the build with one line (status, last stderr line) and leaves nothing", (t) => {
    const base = makeTempDir("site-mkjail-");
    defer(t, () => removeTree(base));
    const sd = siteDir(base, "echo out-line; echo site-broke >&2; exit 3");
    const r = mkjail(["-s", "site", "--site-dir", sd, "nano:/bin/sh", join(base, "j")]);
    assert.equal(oneLineError(r, [70]), undefined, show(r));
    assert.match(r.stderr, /install\.site failed \(exit 3\): site-broke/);
    assert.deepEqual(names(base), ["sitedir"], "no DIR, no DIR.partial");
  });

  it("a missing site tarball: one line, exit 66, nothing made", (t) => {
    const base = makeTempDir("site-mkjail-");
    defer(t, () => removeTree(base));
    const r = mkjail(["-s", "sitelocal", "--site-dir", base, "nano:/bin/sh", join(base, "j")]);
    assert.equal(oneLineError(r, [66]), undefined, show(r));
    assert.match(r.stderr, /site-j\.tgz/);
    assert.deepEqual(names(base), []);
    const u = mkjail(["-s", "bogus", "nano:/bin/sh", join(base, "j")]);
    assert.equal(oneLineError(u, [64]), undefined, show(u));
  });

  it("device nodes are removed; a link laid by site.tgz leads nowhere out of the tree", (t) => {
    const base = makeTempDir("site-mkjail-");
    defer(t, () => removeTree(base));
    const sd = join(base, "sitedir");
    mkdirSync(sd);
    const outside = join(base, "outside");
    mkdirSync(outside);
    craft(join(sd, "site.tgz"), [
      { name: "etc/zero", kind: "chr" },
      { name: "dev/zero", kind: "chr" },
      { name: "hostout", kind: "link", target: outside },
    ]);
    craft(join(sd, "site-j.tgz"), [{ name: "hostout/marker", kind: "file", data: "m" }]);
    const dir = join(base, "j");
    const r = mkjail(["-s", "site,sitelocal", "--site-dir", sd, "nano:/bin/sh", dir]);
    assert.equal(r.code, 0, show(r));
    for (const e of entries(dir)) assert.notEqual(e.kind, "dev", e.path);
    assert.equal(existsSync(join(outside, "marker")), false, "nothing written through the link onto the host");
    assert.equal(readFileSync(join(dir, outside, "marker"), "utf8"), "m", "resolved inside the tree, as the jail sees it");
  });

  it("a '..' member fails the build with one line and nothing lands outside", (t) => {
    const base = makeTempDir("site-mkjail-");
    defer(t, () => removeTree(base));
    const sd = join(base, "sitedir");
    mkdirSync(sd);
    craft(join(sd, "site.tgz"), [{ name: "../../up-site", kind: "file", data: "u" }, { name: "etc/ok", kind: "file", data: "k" }]);
    const r = mkjail(["-s", "site", "--site-dir", sd, "nano:/bin/sh", join(base, "j")]);
    assert.equal(oneLineError(r, [70]), undefined, show(r));
    assert.deepEqual(names(base), ["sitedir"]);
    assert.deepEqual(names(sd), ["site.tgz"]);
  });

  it("thin: install.site runs with the host's /usr shared", (t) => {
    const base = makeTempDir("site-mkjail-");
    defer(t, () => removeTree(base));
    const sd = siteDir(base, "test -x /usr/bin/env && echo thin-ok >/etc/ran");
    const dir = join(base, "j");
    const r = mkjail(["-s", "site", "--site-dir", sd, "thin", dir]);
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(join(dir, "etc", "ran"), "utf8"), "thin-ok\n");
    assert.equal(existsSync(join(dir, "install.site")), false);
  });

  it("rootless (65534): a nano tree with site.tgz and install.site", (t) => {
    const nobody = makeNobody();
    defer(t, () => nobody.remove());
    const base = makeOwnedDir(NOBODY_UID, NOBODY_UID, "site-mkjail-u-", 0o755);
    defer(t, () => removeTree(base));
    const sd = siteDir(base, "echo ran-u >/etc/ran", NOBODY_UID);
    const dir = join(base, "j");
    const r = mkjail(["-s", "site", "--site-dir", sd, "nano:/bin/sh", dir], { as: nobody });
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(join(dir, "etc", "ran"), "utf8"), "ran-u\n");
    assert.equal(existsSync(join(dir, "install.site")), false);
    for (const e of entries(dir)) assert.equal(e.uid, NOBODY_UID, `${e.path} owned by ${e.uid}`);
  });
});
