// The exec.* hooks in FreeBSD's order, where they run (host or jail), their environment and user,
// exec.timeout and exec.consolelog; failed creations that leave nothing behind; persist and
// non-persistent jails.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostMountinfo, makeRoot, requireBuilt, scope, show, waitFor, type Scope } from "./helpers.js";

before(requireBuilt);

/** A directory jail root can write to, shared with the host (the in-jail hooks log there). */
function shared(s: Scope, name = "log"): string {
  const d = join(s.base, name);
  mkdirSync(d, { recursive: true });
  chmodSync(d, 0o777);
  return d;
}

const jls = (s: Scope, ...args: string[]) => s.run("jls", args);

/** Everything a jail leaves while it exists, recorded by exec.created from its registry entry. */
interface Trace { initPid: number; initStart: number; monitorPid: number; cgroups: Record<string, string> }

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/** Asserts that nothing of a failed jail is left: registry files, processes, mounts, cgroups. */
async function assertNothingLeft(s: Scope, trace: Trace | undefined, mountsBefore: string): Promise<void> {
  assert.deepEqual(s.leftovers(), [], "registry files left");
  assert.match(jls(s).stdout, /^\s+JID\s+IP Address\s+Hostname\s+Path\n$/, "a jail is still listed");
  if (trace) {
    assert.ok(await waitFor(() => !alive(trace.initPid) && !alive(trace.monitorPid)), "the jail's init or monitor is still running");
    for (const dir of Object.values(trace.cgroups)) assert.ok(!existsSync(dir), `cgroup ${dir} left`);
  }
  const added = hostMountinfo().split("\n").filter((l) => l && !mountsBefore.includes(l));
  // only what this test's jail could have made: every path it has is under s.base (root, state,
  // shares); "sysjail" anywhere also matched other tests' containers (sysjail-test/...) mounted meanwhile
  assert.deepEqual(added.filter((l) => l.includes(s.base)), [], "mounts left on the host");
}

function readTrace(file: string): Trace | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as Trace;
}

test("hooks run in FreeBSD's order, host ones on the host and exec.start, command, exec.stop in the jail", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const log = shared(s);
  const order = join(log, "order");
  writeFileSync(order, "");
  chmodSync(order, 0o666);
  const host = (name: string) => `exec.${name} = "echo ${name} >> ${order}";`;
  const conf = s.file("jail.conf", `
    path = "${root}";
    persist;
    mount = "${log} ${root}/log nullfs rw 0 0";
    j {
      ${host("prepare")} ${host("prestart")} ${host("created")}
      exec.start = "echo start >> /log/order";
      exec.start += 'echo "$JID $JNAME $JPATH" > /log/env';
      command = "/bin/sh -c 'echo command >> /log/order'";
      ${host("poststart")} ${host("prestop")}
      exec.stop = "echo stop >> /log/order";
      ${host("poststop")} ${host("release")}
    }`);
  const c = s.jail("-f", conf, "-c", "j");
  assert.equal(c.code, 0, show(c));
  assert.equal(c.stdout, "j: created\n");
  const jid = jls(s, "-j", "j", "jid").stdout.trim();
  assert.equal(readFileSync(join(log, "env"), "utf8"), `${jid} j ${root}\n`);
  const r = s.jail("-f", conf, "-r", "j");
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, "j: removed\n");
  assert.deepEqual(readFileSync(order, "utf8").trim().split("\n"), [
    "prepare", "prestart", "created", "start", "command", "poststart", "prestop", "stop", "poststop", "release",
  ]);
});

test("-v shows each command; exec.clean and exec.jail_user shape the jailed commands' environment", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  writeFileSync(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
  writeFileSync(join(root, "etc", "group"), "root:x:0:\napp:x:1000:\n");
  mkdirSync(join(root, "home", "app"), { recursive: true });
  const log = shared(s);
  const r = s.jail("-v", "-c", "name=u", `path=${root}`, "persist", "exec.clean", "exec.jail_user=app",
    `mount=${log} ${root}/log nullfs rw 0 0`, "exec.start=/probe env USER > /log/user; /probe env HOME >> /log/user; /probe env JNAME >> /log/user",
    "exec.poststart=echo host-$JNAME");
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^u: run command in jail as app: \/probe env USER/m);
  assert.match(r.stdout, /^u: run command: echo host-\$JNAME$/m);
  assert.match(r.stdout, /^host-u$/m);
  assert.equal(readFileSync(join(log, "user"), "utf8"), "ok app\nok /home/app\nok u\n");
  assert.equal(s.jail("-r", "u").code, 0);
});

test("a failing exec.prestart leaves nothing: no registry entry, process, mount or cgroup", async (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const share = shared(s, "share");
  const mounts = hostMountinfo();
  const r = s.jail("-c", "name=bad", `path=${root}`, "persist", "mount.devfs", `mount=${share} ${root}/share nullfs ro 0 0`, "exec.prestart=false");
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /^jail: bad: false: failed: exit status 1$/m);
  assert.doesNotMatch(r.stdout, /created/);
  await assertNothingLeft(s, undefined, mounts);
});

test("a failing exec.start undoes the creation: the jail, its mounts and cgroups are gone", async (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const share = shared(s, "share");
  const trace = join(share, "trace.json");
  const jid = String(7000 + Math.floor(Math.random() * 900));
  const mounts = hostMountinfo();
  const r = s.jail("-c", "name=bad", `jid=${jid}`, `path=${root}`, "persist", "mount.devfs", "mount.procfs", "limits.memory=64M", "limits.pids=32",
    `mount=${share} ${root}/share nullfs ro 0 0`, "mount=tmpfs scratch tmpfs rw,size=1m 0 0",
    `exec.created=cp "$SYSJAIL_STATE_DIR/jails/$JID.json" ${trace} && chmod 644 ${trace}`,
    "exec.start=/probe read /share/trace.json", "exec.start=/probe exit 3");
  assert.equal(r.code, 1, show(r));
  assert.match(r.stdout, /^bad: created\nok \{"jid":\d+.*\}\nbad: removed\n$/);
  assert.match(r.stderr, /^jail: bad: \/probe exit 3: failed: exit status 3$/m);
  const t0 = readTrace(trace);
  assert.ok(t0, "exec.created recorded the jail");
  await assertNothingLeft(s, t0, mounts);
});

test("a jail that runs past exec.timeout fails; exec.consolelog collects the commands' output", async (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const logFile = join(s.base, "console.log");
  const mounts = hostMountinfo();
  const r = s.jail("-c", "name=slow", `path=${root}`, "persist", "host.hostname=slow.example", `exec.consolelog=${logFile}`, "exec.timeout=1",
    "exec.prestart=echo before", "exec.start=/probe hostname", "exec.start=/probe sleep 30");
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /^jail: slow: \/probe sleep 30: timed out$/m);
  assert.equal(r.stdout, "slow: created\nslow: removed\n", "hook output goes to the console log");
  assert.equal(readFileSync(logFile, "utf8"), "before\nok slow.example\n");
  await assertNothingLeft(s, undefined, mounts);
});

test("a jail without persist ends with its processes; with persist it stays with none", async (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  // command fails: the creation fails and nothing is left
  const f = s.jail("-c", "name=f", `path=${root}`, "command=/probe", "exit", "4");
  assert.equal(f.code, 1, show(f));
  assert.match(f.stderr, /jail: f: \/probe exit 4: failed: exit status 4/);
  assert.deepEqual(s.leftovers(), []);
  // a process exec.start leaves behind keeps the jail until it ends, watched by a Node process of
  // jail's own, which the caller's NODE_OPTIONS (meant for the caller's programs) must not end:
  // run as installed, through the native front, which keeps NODE_* from jail's Node
  const hook = { NODE_OPTIONS: "--require /nonexistent/sysjail-test-hook.js" };
  const d = s.run("jail", ["-c", "name=d", `path=${root}`, "exec.start=/probe spawn 2"], hook, 60_000, true);
  assert.equal(d.code, 0, show(d));
  assert.equal(jls(s, "-j", "d", "persist").stdout, "false\n");
  assert.ok(await waitFor(() => jls(s, "-j", "d").code === 1, 15_000), "the jail outlived its last process");
  assert.ok(await waitFor(() => s.leftovers().length === 0), "registry files left");
  // persist: no process at all, listed until jail -r
  assert.equal(s.jail("-c", "name=p", `path=${root}`, "persist").code, 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(jls(s, "-j", "p", "name", "persist").stdout, "p true\n");
  assert.equal(s.jail("-r", "p").stdout, "p: removed\n");
});

test("depend: dependencies are created first and removed last; a failed one stops its dependents", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const conf = s.file("jail.conf", `
    path = "${root}"; persist;
    db {}
    web { depend = db; }
    broken { exec.prestart = false; }
    app { depend = broken; }
    other { bogus.parameter; }`);
  const c = s.jail("-f", conf, "-c", "web");
  assert.equal(c.code, 0, show(c));
  assert.equal(c.stdout, "db: created\nweb: created\n");
  const r = s.jail("-f", conf, "-r", "db");
  assert.equal(r.stdout, "web: removed\ndb: removed\n", show(r));
  const a = s.jail("-f", conf, "-c", "app");
  assert.equal(a.code, 1);
  assert.match(a.stderr, /jail: broken: false: failed: exit status 1\njail: app: not created: it depends on broken, which failed/);
  assert.deepEqual(s.leftovers(), []);
});

test("exec.jail_user: a jail's passwd that is a symlink to a host file is refused, nothing of it used", async (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const secret = join(s.base, "host-passwd");
  writeFileSync(secret, "app:x:0:0::/HOST-SECRET-HOME:/bin/sh\n");
  chmodSync(secret, 0o600);
  symlinkSync(secret, join(root, "etc", "passwd"));
  const before = hostMountinfo();
  const r = s.jail("-c", "name=ju", `path=${root}`, "persist", "exec.jail_user=app", "exec.start=/probe env HOME");
  assert.notEqual(r.code, 0, show(r));
  assert.match(r.stderr, /the jail's \/etc\/passwd is a symbolic link/, show(r));
  assert.doesNotMatch(r.stdout + r.stderr, /HOST-SECRET/);
  await assertNothingLeft(s, undefined, before);
});

test("mount.fstab and exec.consolelog inside the jail's path are refused; a symlinked consolelog too", async (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const fstab = join(root, "fstab");
  writeFileSync(fstab, "tmpfs tmp tmpfs rw 0 0\n");
  const before = hostMountinfo();
  const f = s.jail("-c", "name=fs", `path=${root}`, "persist", `mount.fstab=${fstab}`);
  assert.notEqual(f.code, 0, show(f));
  assert.match(f.stderr, /cannot read fstab file '.*': it lies inside the jail's path/, show(f));
  const c = s.jail("-c", "name=cl", `path=${root}`, "persist", `exec.consolelog=${join(root, "tmp", "log")}`, "exec.start=/probe pid");
  assert.notEqual(c.code, 0, show(c));
  assert.match(c.stderr, /exec.consolelog .*: inside the jail's path/, show(c));
  // a directory of the jail's own that it made a symlink to a host directory
  const hostDir = join(s.base, "hostdir");
  mkdirSync(hostDir);
  symlinkSync(hostDir, join(root, "planted"));
  const p = s.jail("-c", "name=cl", `path=${root}`, "persist", `exec.consolelog=${join(root, "planted", "console.log")}`, "exec.start=/probe pid");
  assert.notEqual(p.code, 0, show(p));
  assert.match(p.stderr, /exec.consolelog .*: inside the jail's path/, show(p));
  assert.equal(existsSync(join(hostDir, "console.log")), false, "nothing created in the host directory");
  const victim = join(s.base, "victim");
  writeFileSync(victim, "unchanged\n");
  const link = join(s.base, "console.log");
  symlinkSync(victim, link);
  const l = s.jail("-c", "name=cl", `path=${root}`, "persist", `exec.consolelog=${link}`, "exec.start=/probe pid");
  assert.notEqual(l.code, 0, show(l));
  assert.match(l.stderr, /exec.consolelog .*: a symbolic link/, show(l));
  assert.equal(readFileSync(victim, "utf8"), "unchanged\n");
  await assertNothingLeft(s, undefined, before);
});
