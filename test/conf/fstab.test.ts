// Tests: fstab(5) lines as MountSpec, with jail-relative targets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jailTarget, parseFstab, parseFstabLine } from "../../src/conf/index.js";
import { throwsConf } from "./helpers.js";

const J = "/jails/www";

test("nullfs and bind mounts; target under the jail path or relative to the jail", () => {
  assert.deepEqual(parseFstabLine("/usr/src /jails/www/usr/src nullfs ro 0 0", J), {
    source: "/usr/src", target: "/usr/src", type: "bind", readonly: true, options: [],
  });
  assert.deepEqual(parseFstabLine("/data  data  bind  rw,nosuid,noexec", J), {
    source: "/data", target: "/data", type: "bind", readonly: false, options: ["nosuid", "noexec"],
  });
  assert.deepEqual(parseFstabLine("/srv/x /jails/www/ none rbind,ro 0 0", J), {
    source: "/srv/x", target: "/", type: "bind", readonly: true, options: ["rbind"],
  });
  assert.equal(parseFstabLine("/a /jails/www/b/../c/ nullfs", J)!.target, "/c");
  assert.equal(parseFstabLine("/a /anything/at/all nullfs", "/")!.target, "/anything/at/all");
  assert.equal(parseFstabLine("/path\\040with\\040spaces /jails/www/s nullfs ro", J)!.source, "/path with spaces");
});

test("tmpfs with options, procfs/proc", () => {
  assert.deepEqual(parseFstabLine("tmpfs /jails/www/tmp tmpfs rw,size=64m,mode=1777 0 0", J), {
    source: "tmpfs", target: "/tmp", type: "tmpfs", readonly: false, options: ["size=64m", "mode=1777"],
  });
  assert.deepEqual(parseFstabLine("proc /jails/www/proc procfs rw 0 0", J), {
    source: "proc", target: "/proc", type: "proc", readonly: false, options: [],
  });
  assert.equal(parseFstabLine("proc proc proc defaults", J)!.type, "proc");
  assert.equal(parseFstabLine("linproc /jails/www/compat/proc linprocfs rw,late", J)!.target, "/compat/proc");
});

test("blank and comment lines; whole files", () => {
  assert.equal(parseFstabLine("   ", J), null);
  assert.equal(parseFstabLine("# a comment", J), null);
  assert.deepEqual(
    parseFstab("# fstab.www\n/usr/ports /jails/www/usr/ports nullfs ro 0 0\n\ntmpfs tmp tmpfs rw # scratch\n", J, "fstab.www").map((m) => m.target),
    ["/usr/ports", "/tmp"],
  );
});

test("errors name the file, line, column and field", () => {
  throwsConf(() => parseFstabLine("/a /etc/passwd nullfs ro 0 0", J, "fstab.www", 4), "fstab.www:4:4: mount target '/etc/passwd' is outside the jail's path '/jails/www' near '/etc/passwd'");
  throwsConf(() => parseFstabLine("/a /jails/wwwx/a nullfs ro", J, "f", 1), "f:1:4: mount target '/jails/wwwx/a' is outside the jail's path '/jails/www' near '/jails/wwwx/a'");
  throwsConf(() => parseFstabLine("/a ../../etc nullfs ro", J, "f", 1), "f:1:4: mount target '../../etc' leaves the jail near '../../etc'");
  throwsConf(() => parseFstabLine("/dev/sda1 /jails/www/mnt ext4 rw 1 2", J, "f", 2), "f:2:26: unsupported filesystem type 'ext4' (use nullfs or bind, tmpfs, procfs or proc) near 'ext4'");
  throwsConf(() => parseFstabLine("devfs /jails/www/dev devfs rw", J, "f", 1), "f:1:22: devfs is mounted with mount.devfs, not with a mount line near 'devfs'");
  throwsConf(() => parseFstabLine("/a /b", J, "f", 1), "f:1:6: an fstab line needs at least: source target type [options [dump [pass]]] near '/a /b'");
  throwsConf(() => parseFstabLine("/a b nullfs ro 0 0 x", J, "f", 1), "f:1:20: too many fields in an fstab line near 'x'");
  throwsConf(() => parseFstabLine("/a b nullfs ro x", J, "f", 1), "f:1:16: the dump and pass fields must be numbers near 'x'");
  throwsConf(() => parseFstabLine("rel b nullfs ro", J, "f", 1), "f:1:1: the source of a bind (nullfs) mount must be an absolute host path near 'rel'");
  throwsConf(() => parseFstabLine("/a b nullfs ro", undefined, "f", 1), "f:1:4: a mount line needs the jail's path parameter near 'b'");
  throwsConf(() => parseFstabLine("/a /x/y nullfs", J, "j.conf", 7, 12), "j.conf:7:15: mount target '/x/y' is outside the jail's path '/jails/www' near '/x/y'");
});

test("jailTarget alone", () => {
  const pos = { file: "f", line: 1, col: 1 };
  assert.equal(jailTarget("/jails/www", "/jails/www/", pos, "t"), "/");
  assert.equal(jailTarget(".", J, pos, "t"), "/");
  assert.equal(jailTarget("a/b/", J, pos, "t"), "/a/b");
});
