// sysjail(3) Jail: create, exec, spawn, update (hostname and limits at run time), events,
// list()/get() against jls, and remove() leaving nothing behind.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { get, Jail, list, type JailEventName, type JailLimitEvent, type RunReport } from "../../src/index.js";
import { requireRoot } from "../helpers/nobody.js";
import { isRunning } from "../helpers/proc.js";
import { waitUntil } from "../helpers/wait.js";
import {
  assertNothingLeft, buildWork, jailProcesses, libState, makeWorkRoot, MiB, REPO, rejection, snapshot, type JailSnapshot, type WorkRoot,
} from "./helpers.js";

let root: WorkRoot;
before(() => {
  requireRoot("the library tests");
  root = makeWorkRoot(buildWork());
});
after(() => root?.remove());

/** jls --json over one state directory: [{ jid, hostname, path }]. */
function jls(dir: string): { jid: number; hostname: string; path: string }[] {
  const out = execFileSync(process.execPath, [join(REPO, "bin", "jls.js"), "--json"], {
    encoding: "utf8", env: { ...process.env, SYSJAIL_STATE_DIR: dir },
  });
  const doc = JSON.parse(out) as { "jail-information": { jail: { jid: number; hostname: string; path: string }[] } };
  return doc["jail-information"].jail.map((j) => ({ jid: Number(j.jid), hostname: j.hostname, path: j.path }));
}

/** Catches an event from now on; wait() then gives it, failing (not hanging) when it does not
 * come within 15 s of the call to wait(). */
function eventOf<T>(emitter: Jail, name: JailEventName, what: string): { wait(): Promise<T> } {
  let got: { v: T } | undefined;
  let notify: (() => void) | undefined;
  emitter.once(name, (v) => {
    got = { v: v as T };
    notify?.();
  });
  return {
    wait: () => new Promise<T>((resolve, reject) => {
      if (got) return resolve(got.v);
      const timer = setTimeout(() => reject(new Error(`no "${name}" event: ${what}`)), 15_000);
      notify = () => {
        clearTimeout(timer);
        resolve(got!.v);
      };
    }),
  };
}

/** Waits until a command runs in the jail besides its init; returns the jail's processes. */
function commandRunning(jail: Jail, what: string): Promise<number[]> {
  return waitUntil(() => {
    const ps = jailProcesses(jail.entry.initPid);
    return ps.length > 1 ? ps : undefined;
  }, what);
}

describe("Jail", { concurrency: 3 }, () => {
  it("a Jail with an unveil: its exec()'d processes reach only the unveiled paths", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "uvjail", name: "pledge2uv", stateDir: dir, unveil: { "/work": "rx" } });
    try {
      // / is not unveiled: opening it is refused (without an unveil it opens, and reading fails EISDIR)
      const hidden = await jail.exec(["/work", "read", "/"]);
      assert.doesNotMatch(hidden.stdout + hidden.stderr, /^ok /m, JSON.stringify(hidden));
      assert.match(hidden.stdout + hidden.stderr, /EACCES|ermission denied/, JSON.stringify(hidden));
      const own = await jail.exec(["/work", "hostname"]);
      assert.equal(own.stdout, "uvjail\n");
    } finally {
      await jail.remove();
    }
  });

  it("create → exec → update hostname → exec → update memory → OOM in exec → remove leaves nothing", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "persist1", name: "libjail", stateDir: dir });
    let snap: JailSnapshot | undefined;
    const events: [string, unknown][] = [];
    for (const n of ["exit", "oom", "limit", "halt"] as const) jail.on(n, (v: unknown) => events.push([n, v]));
    const exited = eventOf<RunReport>(jail, "exit", "the jail was removed");
    try {
      assert.equal(jail.hostname, "persist1");
      assert.equal(jail.name, "libjail");
      assert.equal(jail.path, root.path);
      const e1 = await jail.exec(["/work", "hostname"]);
      assert.deepEqual(e1, { code: 0, signal: null, stdout: "persist1\n", stderr: "" });

      await jail.update({ hostname: "persist2" });
      assert.equal(jail.hostname, "persist2");
      const e2 = await jail.exec(["/work", "hostname"]);
      assert.equal(e2.stdout, "persist2\n");

      // list(), get() and jls see the same registry
      const listed = await list({ stateDir: dir });
      assert.deepEqual(listed.map((e) => e.jid), [jail.jid]);
      assert.deepEqual(jls(dir), [{ jid: jail.jid, hostname: "persist2", path: root.path }]);
      assert.equal((await get(jail.jid, { stateDir: dir }))?.hostname, "persist2");
      assert.equal((await get("libjail", { stateDir: dir }))?.jid, jail.jid);
      assert.equal(await get("nosuch", { stateDir: dir }), undefined);
      assert.equal(listed[0]!.persist, true);

      // limits at run time: the jail has (accounting) cgroups even though it was created without limits
      assert.ok(jail.entry.cgroups.memory, `the jail has a memory cgroup: ${JSON.stringify(jail.entry.cgroups)}`);
      const fits = await jail.exec(["/work", "alloc", "100"]);
      assert.equal(fits.code, 0, "100 MB fits before the update");
      await jail.update({ limits: { memory: "64M" } });
      assert.equal((await get(jail.jid, { stateDir: dir }))?.spec.limits.memory, 64 * MiB, "the entry records the new limit");
      const limitFile = ["memory.limit_in_bytes", "memory.max"].map((f) => { try { return readFileSync(join(jail.entry.cgroups.memory!, f), "utf8").trim(); } catch { return ""; } }).find(Boolean);
      assert.equal(limitFile, String(64 * MiB));
      const oom = await jail.exec(["/work", "alloc", "100"]);
      assert.equal(oom.code, 137, "OOM-killed inside the jail");
      assert.equal(oom.signal, 9);
      assert.equal(oom.stdout, "");
      const oomEv = events.find(([n]) => n === "oom")?.[1] as JailLimitEvent | undefined;
      assert.ok(oomEv, `an oom event: ${JSON.stringify(events)}`);
      assert.equal(oomEv.jid, jail.jid);
      assert.equal(oomEv.limit, "memory");
      assert.ok(oomEv.count >= 1);
      assert.deepEqual(oomEv.command, ["/work", "alloc", "100"]);
      assert.ok(events.some(([n, v]) => n === "limit" && (v as JailLimitEvent).limit === "memory"));
      // the jail lives on after the OOM kill of one of its processes
      assert.equal((await jail.exec(["/work", "alloc", "10"])).code, 0);
      // and raising the limit works too (v1 needs memsw raised before memory)
      await jail.update({ limits: { memory: "256M" } });
      assert.equal((await jail.exec(["/work", "alloc", "100"])).code, 0);

      // a process running at removal
      const sleeper = jail.spawn("/work", ["sleep", "60"]);
      await commandRunning(jail, "the sleeper to run");
      snap = snapshot(jail.entry);
      assert.ok(snap.procs.length >= 3, `init, monitor and the sleeper: ${JSON.stringify(snap.procs)}`);
      await jail.remove();
      const st = await sleeper.exit;
      assert.ok(st.code !== 0, `the sleeper was ended by the removal (${JSON.stringify(st)})`);
    } finally {
      await jail.remove();
    }
    const report = await exited.wait();
    assert.equal(report.status, "signaled");
    assert.equal(report.reason, "the jail was removed");
    assert.equal(report.limits.memory, 256 * MiB, "the report has the limits as updated");
    assert.ok((report.oomKills ?? 0) >= 1, "the OOM kill is in the final report");
    assert.deepEqual(events.filter(([n]) => n === "exit").length, 1);
    assert.deepEqual(events.filter(([n]) => n === "oom").length, 1, "the same OOM kill is announced once");
    assert.deepEqual(await list({ stateDir: dir }), []);
    assert.deepEqual(jls(dir), []);
    assertNothingLeft(dir, snap, "after remove()");
    await jail.remove(); // removing twice is harmless
  });

  it("spawn() gives streams at once, passes stdin through, and kill() ends the command", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "spawner", stateDir: dir });
    try {
      const cat = jail.spawn("/work", ["cat"]);
      assert.ok(cat.stdout && cat.stderr && cat.stdin, "the streams exist as soon as spawn() returns");
      const chunks: Buffer[] = [];
      cat.stdout.on("data", (d: Buffer) => chunks.push(d));
      const ended = once(cat.stdout, "end");
      cat.stdin.write("hello ");
      cat.stdin.end("jail\n");
      assert.deepEqual(await cat.exit, { code: 0, signal: null });
      await ended;
      assert.equal(Buffer.concat(chunks).toString(), "hello jail\n");

      const env = await jail.exec(["/work", "env", "A", "PATH", "--", "pwd"], { env: { A: "1" }, cwd: "/tmp" });
      assert.equal(env.stdout, "A=1\nPATH unset\n/tmp\n");
      const input = await jail.exec(["/work", "cat"], { stdin: "via exec\n" });
      assert.equal(input.stdout, "via exec\n");
      const status = await jail.exec(["/work", "read", "/nope", "--", "exit", "0"]);
      assert.deepEqual(status, { code: 2, signal: null, stdout: "", stderr: "read /nope: ENOENT\n" });

      const sleeper = jail.spawn("/work", ["sleep", "60"]);
      await commandRunning(jail, "the sleeper to start");
      sleeper.kill();
      const st = await sleeper.exit;
      assert.deepEqual(st, { code: 128 + 9, signal: 9 }, "the helper SIGKILLs the command");
      // killed before it even started
      const early = jail.spawn("/work", ["sleep", "60"]);
      early.kill();
      assert.notEqual((await early.exit).code, 0);
    } finally {
      await jail.remove();
    }
  });

  it("exec({ user }) reads the jail's passwd inside the jail: a symlink to a host file is refused (ENOUSER)", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "h", stateDir: dir });
    const passwd = join(root.path, "etc", "passwd");
    const secret = join(dir, "host-passwd");
    writeFileSync(secret, "root:x:0:0::/HOST-SECRET-HOME:/bin/sh\n", { mode: 0o600 });
    symlinkSync(secret, passwd);
    try {
      const e = await rejection(jail.exec(["/work", "exit", "0"], { user: "root" }));
      assert.equal(e.code, "ENOUSER");
      assert.match(e.message, /the jail's \/etc\/passwd is a symbolic link/);
      assert.doesNotMatch(e.message, /HOST-SECRET/);
      assert.equal((await jail.exec(["/work", "exit", "0"])).code, 0, "jail root is entered without a user lookup of its own");
    } finally {
      rmSync(passwd, { force: true });
      await jail.remove();
    }
  });

  it("spawn() gives the command the helper's pipes in a session of its own, never this process's descriptors", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "stdio", stateDir: dir });
    try {
      const sleeper = jail.spawn("/work", ["sleep", "60"]);
      const ps = await commandRunning(jail, "the sleeper to start");
      const pid = ps.find((p) => p !== jail.entry.initPid)!;
      // Node's stdio "pipe"s are socket pairs: the command holds pipes the helper made and relays
      for (const fd of [0, 1, 2]) assert.match(readlinkSync(`/proc/${pid}/fd/${fd}`), /^pipe:\[\d+\]$/, `fd ${fd}`);
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const [, , , sid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      assert.equal(Number(sid), pid, "the command leads a session of its own (no controlling terminal of ours)");
      sleeper.kill();
      await sleeper.exit;
    } finally {
      await jail.remove();
    }
  });

  it("exec() of a missing command rejects with a SysjailError naming it", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "h", stateDir: dir });
    try {
      const e = await rejection(jail.exec(["/no/such/cmd"]));
      assert.equal(e.code, "ENOENT");
      assert.equal(e.phase, "exec");
      assert.equal(e.step, "exec");
      assert.equal(e.errno, 2);
      assert.equal(e.path, "/no/such/cmd");
      const p = jail.spawn("/no/such/cmd");
      p.stdout.resume();
      const ended = once(p.stdout, "end");
      await rejection(p.exit);
      await ended; // the streams end too
      await rejection(jail.exec([]));
      assert.equal((await jail.exec(["/work", "exit", "0"])).code, 0, "the jail is still usable");
    } finally {
      await jail.remove();
    }
  });

  it("rejects unknown keys, run-only keys, bad updates and limits that cannot change at run time", async (t) => {
    const dir = libState(t);
    const base = { path: root.path, hostname: "h", stateDir: dir };
    for (const extra of [{ bogus: 1 }, { stdin: "x" }, { signal: AbortSignal.timeout(1000) }, { maxOutputBytes: 1 }]) {
      const e = await rejection(Jail.create({ ...base, ...extra } as unknown as Parameters<typeof Jail.create>[0]));
      assert.equal(e.phase, "usage");
      assert.match(e.message, /unknown option/);
    }
    const enoent = await rejection(Jail.create({ ...base, path: "/nonexistent-jail-root" }));
    assert.equal(enoent.code, "ENOENT");
    const jail = await Jail.create({ ...base, limits: { memory: "128M" } });
    try {
      const u = await rejection(jail.update({ hostname: "x", bogus: 1 } as unknown as Parameters<Jail["update"]>[0]));
      assert.equal(u.code, "EUSAGE");
      assert.equal(jail.hostname, "h", "nothing changed");
      const cpu = await rejection(jail.update({ limits: { cpu: "1s" } }));
      assert.match(cpu.message, /cannot change while the jail runs/);
      // @ts-expect-error a misspelt limit is a type error too
      const unknown = await rejection(jail.update({ limits: { memroy: "1G" } }));
      assert.match(unknown.message, /unknown limit/);
      const host = await rejection(jail.update({ hostname: "bad host" }));
      assert.equal(host.phase, "usage");
    } finally {
      await jail.remove();
    }
  });

  it("emits exit when the jail is removed from outside (jail -r), and get() handles work", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "outside", stateDir: dir });
    const snap = snapshot(jail.entry);
    const exited = eventOf<RunReport>(jail, "exit", "jail -r removed it");
    try {
      const handle = await Jail.get(jail.jid, { stateDir: dir });
      assert.equal(handle.hostname, "outside");
      assert.equal((await handle.exec(["/work", "hostname"])).stdout, "outside\n");
      await rejection(Jail.get(9_999_999, { stateDir: dir }));
      execFileSync(process.execPath, [join(REPO, "bin", "jail.js"), "-r", String(jail.jid)], { env: { ...process.env, SYSJAIL_STATE_DIR: dir }, stdio: "pipe" });
      const r = await exited.wait();
      assert.equal(r.status, "signaled");
      assert.equal(r.reason, "the jail was removed");
      await rejection(handle.exec(["/work", "hostname"]));
    } finally {
      await jail.remove();
    }
    assert.ok(snap.procs.every((p) => !isRunning(p)));
    assertNothingLeft(dir, snap, "after jail -r");
  });
});
