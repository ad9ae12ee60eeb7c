// mount.devfs and devfs_ruleset: the jail's /dev holds exactly the ruleset's nodes of the host's
// /dev; an administrator's ruleset unhides one more device for one jail; nodes cannot be made.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { makeRoot, requireBuilt, scope, show, type Scope } from "./helpers.js";

before(requireBuilt);

/** A device of this machine that ruleset 4 hides and that is harmless to look at. */
const EXTRA = ["fuse", "loop-control", "autofs"].find((d) => existsSync(`/dev/${d}`));

function jexec(s: Scope, jail: string, ...args: string[]): string {
  const r = s.run("jexec", [jail, ...args]);
  return (r.stdout.trim() || r.stderr.trim());
}

test("ruleset 4 (the default) gives exactly the jail basics", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const c = s.jail("-c", "name=d4", `path=${root}`, "persist", "mount.devfs");
  assert.equal(c.code, 0, show(c));
  const dev = jexec(s, "d4", "/bin/sh", "-c", "echo /dev/*").split(" ").map((p) => p.replace("/dev/", ""));
  assert.deepEqual(dev.sort(), ["fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"]);
  assert.match(jexec(s, "d4", "/probe", "stat", "/dev/null"), /^ok 20666 1:3$/);
  if (EXTRA) assert.equal(jexec(s, "d4", "/probe", "stat", `/dev/${EXTRA}`), "err ENOENT");
  // no device node can be made, anywhere
  assert.equal(jexec(s, "d4", "/probe", "mknod", "/tmp/null", "1", "3"), "err EPERM");
  assert.equal(jexec(s, "d4", "/probe", "mknod", "/dev/null2", "1", "3"), "err EPERM");
  assert.equal(s.jail("-r", "d4").code, 0);
});

test("an administrator's ruleset unhides one more device for one jail", { skip: EXTRA ? false : "no harmless extra device on this machine" }, (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const rules = s.file("devfs.rules", `# local rules
[devfsrules_jail_extra=10]
add include $devfsrules_jail
add path ${EXTRA} unhide
`);
  const env = { SYSJAIL_DEVFS_RULES: rules };
  const c = s.run("jail", ["-c", "name=dx", `path=${root}`, "persist", "mount.devfs", "devfs_ruleset=10"], env);
  assert.equal(c.code, 0, show(c));
  const other = s.run("jail", ["-c", "name=dd", `path=${makeRoot(s.base, "r2")}`, "persist", "mount.devfs"], env);
  assert.equal(other.code, 0, show(other));
  assert.match(jexec(s, "dx", "/probe", "stat", `/dev/${EXTRA}`), /^ok 20\d{3} \d+:\d+$/);
  assert.match(jexec(s, "dx", "/probe", "stat", "/dev/zero"), /^ok 20666 1:5$/);
  assert.equal(jexec(s, "dd", "/probe", "stat", `/dev/${EXTRA}`), "err ENOENT", "the other jail keeps ruleset 4");
  assert.equal(s.jail("-r", "dx").code, 0);
  assert.equal(s.jail("-r", "dd").code, 0);
});

test("an undefined ruleset is an error and no jail is made; without mount.devfs /dev is the root's own", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const bad = s.jail("-c", "name=bad", `path=${root}`, "persist", "mount.devfs", "devfs_ruleset=77");
  assert.equal(bad.code, 64, show(bad));
  assert.match(bad.stderr, /devfs ruleset 77 is not defined/);
  assert.deepEqual(s.leftovers(), []);
  assert.equal(s.jail("-c", "name=nodev", `path=${root}`, "persist").code, 0);
  assert.equal(jexec(s, "nodev", "/bin/sh", "-c", "echo /dev/*"), "/dev/*");
  assert.equal(s.jail("-r", "nodev").code, 0);
});
