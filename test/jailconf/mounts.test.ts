// nullfs-style shared mounts (mount lines and mount.fstab): read-only sharing of one host tree by
// several jails, read-write binds, tmpfs and procfs; targets resolved inside the jail root; none of
// it ever in the host's mount table.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostMountinfo, makeRoot, mountsMentioning, requireBuilt, scope, show, type Scope } from "./helpers.js";

before(requireBuilt);

function jexec(s: Scope, jail: string, ...args: string[]): string {
  const r = s.run("jexec", [jail, "/probe", ...args]);
  return r.stdout.trim() || r.stderr.trim();
}

test("two jails share one read-only host directory: both read it, writes fail with EROFS", (t) => {
  const s = scope(t);
  const share = join(s.base, "share");
  mkdirSync(share);
  writeFileSync(join(share, "file"), "shared-content\n");
  const r1 = makeRoot(s.base, "r1");
  makeRoot(s.base, "r2"); // r2 mounts the share relative to its own root
  const conf = s.file("jail.conf", `
    persist;
    path = "${s.base}/\${name}";
    r1 { mount = "${share} ${r1}/share nullfs ro 0 0"; }
    r2 { mount += "${share} share nullfs ro 0 0"; }`);
  for (const j of ["r1", "r2"]) {
    const c = s.jail("-f", conf, "-c", j);
    assert.equal(c.code, 0, show(c));
  }
  for (const j of ["r1", "r2"]) {
    assert.equal(jexec(s, j, "read", "/share/file"), "ok shared-content");
    assert.equal(jexec(s, j, "write", "/share/new", "x"), "err EROFS");
    assert.equal(jexec(s, j, "write", "/share/file", "x"), "err EROFS");
  }
  assert.deepEqual(readdirSync(share), ["file"]);
  assert.deepEqual(mountsMentioning(s.base), [], "the shared mounts are in the host's mount table");
  for (const j of ["r1", "r2"]) assert.equal(s.jail("-f", conf, "-r", j).code, 0);
  assert.deepEqual(mountsMentioning(s.base), []);
});

test("mount.fstab: a read-write bind, a sized tmpfs and procfs; the host sees none of them", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const data = join(s.base, "data");
  mkdirSync(data);
  chmodSync(data, 0o777);
  const fstab = s.file("fstab", [
    "# shared data, written by the jail",
    `${data} ${root}/data bind rw,noexec 0 0`,
    "tmpfs scratch tmpfs rw,size=1m,mode=1777 0 0",
    "proc proc procfs rw 0 0",
  ].join("\n"));
  const before = hostMountinfo();
  const c = s.jail("-c", "name=f", `path=${root}`, "persist", `mount.fstab=${fstab}`);
  assert.equal(c.code, 0, show(c));
  assert.equal(jexec(s, "f", "write", "/data/out", "from-jail"), "ok");
  assert.equal(jexec(s, "f", "write", "/scratch/tmp", "x"), "ok");
  assert.equal(jexec(s, "f", "exists", "/proc/self/status"), "ok");
  assert.ok(existsSync(join(data, "out")), "the read-write bind reaches the host directory");
  assert.ok(!existsSync(join(root, "scratch", "tmp")), "the tmpfs is not the host directory");
  assert.deepEqual(mountsMentioning(s.base), []);
  assert.equal(s.jail("-r", "f").code, 0);
  assert.equal(hostMountinfo().split("\n").filter((l) => !before.includes(l) && l.includes(s.base)).length, 0);
});

test("mount targets are resolved inside the jail root: a symlink never leads out of it", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  writeFileSync(join(root, "etc", "marker"), "jail-etc\n");
  mkdirSync(join(root, "etc", "sub"));
  writeFileSync(join(root, "etc", "sub", "f"), "jail-sub\n");
  symlinkSync("/etc", join(root, "escape"));
  const before = hostMountinfo();
  // a link as the last component is refused (FreeBSD: "is a symbolic link")
  const last = s.jail("-c", "name=sym", `path=${root}`, "persist", "mount=tmpfs escape tmpfs rw,size=64k 0 0");
  assert.equal(last.code, 1, show(last));
  assert.match(last.stderr, /ELOOP/);
  assert.deepEqual(s.leftovers(), []);
  // a link inside the path is followed inside the root: /escape/sub is the jail's /etc/sub
  const mid = s.jail("-c", "name=sym", `path=${root}`, "persist", "mount=tmpfs escape/sub tmpfs rw,size=64k 0 0");
  assert.equal(mid.code, 0, show(mid));
  assert.equal(jexec(s, "sym", "read", "/etc/sub/f"), "err ENOENT", "the tmpfs covers the jail's /etc/sub");
  assert.equal(jexec(s, "sym", "read", "/etc/marker"), "ok jail-etc");
  const added = hostMountinfo().split("\n").filter((l) => l && !before.includes(l));
  assert.deepEqual(added.filter((l) => / \/etc/.test(l) || l.includes(s.base)), [], "a mount reached the host");
  assert.equal(s.jail("-r", "sym").code, 0);
});

test("a bad mount line is a configuration error; a missing source fails before anything runs", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const outside = s.jail("-c", "name=o", `path=${root}`, "persist", "mount=/usr /elsewhere nullfs ro 0 0");
  assert.equal(outside.code, 64, show(outside));
  assert.match(outside.stderr, /mount target '\/elsewhere' is outside the jail's path/);
  const missing = s.jail("-c", "name=m", `path=${root}`, "persist", `mount=${s.base}/nope ${root}/x nullfs ro 0 0`, "exec.prepare=echo prepared");
  assert.equal(missing.code, 1, show(missing));
  assert.match(missing.stderr, /jail: m: mount: .*\/nope: No such file or directory/);
  assert.deepEqual(s.leftovers(), []);
});

test("a bind source inside the jail's own path is refused (the jail could make it a symlink to any host directory)", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  mkdirSync(join(root, "src"));
  symlinkSync("/etc", join(root, "planted"));
  const before = hostMountinfo();
  for (const src of [join(root, "src"), join(root, "planted")]) {
    const c = s.jail("-c", "name=b", `path=${root}`, "persist", `mount=${src} ${root}/mnt nullfs ro 0 0`);
    assert.notEqual(c.code, 0, show(c));
    assert.match(c.stderr, /the source lies inside the jail's path/, show(c));
    assert.equal(c.stderr.trim().split("\n").length, 1, show(c));
  }
  assert.equal(s.jail("-r", "b").code === 0, false, "nothing was created");
  assert.equal(hostMountinfo().split("\n").filter((l) => !before.includes(l) && l.includes(s.base)).length, 0);
});
