// Issue 3, line 4: the jail's own hostname (virtual, not settable), its own SysV IPC and POSIX
// message queues, and its own network namespace (loopback only; the host's 127.0.0.1 listeners
// and abstract unix sockets out of reach). Network tests use only 127.0.0.0/8 and ::1.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { createServer, type Server } from "node:net";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import {
  assertStateEmpty, defer, jailRootSuite, probeLine, show, startCli, stateDir, sysjail, waitUntil,
} from "../helpers/index.js";

const { env, root } = jailRootSuite();

/** Runs the probe on the host (a control, or to look for a jail's object from outside). */
function hostProbe(...args: string[]): string {
  const r = spawnSync(env.probe, args, { encoding: "utf8", timeout: 20_000 });
  return r.stdout.trim();
}

/** A listening server on the host; resolves with it and counts accepted connections. */
async function listen(path: string | { host: string; port: number }): Promise<{ server: Server; accepted: () => number; port: number }> {
  let n = 0;
  const server = createServer((s) => { n++; s.destroy(); });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (typeof path === "string") server.listen(path, resolve);
    else server.listen(path.port, path.host, resolve);
  });
  const addr = server.address();
  return { server, accepted: () => n, port: typeof addr === "object" && addr ? addr.port : 0 };
}

describe("hostname", { concurrency: 3 }, () => {
  it("the jail's hostname is the one given (gethostname and uname -n)", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "jail-host.example", "/probe", "hostname"]);
    assert.equal(probeLine(r), "ok jail-host.example", show(r));
    const u = await sysjail(["-j", j, "/", "other-name", "/bin/sh", "-c", "uname -n; hostname; cat /proc/sys/kernel/hostname"]);
    assert.deepEqual(u.stdout.trim().split("\n"), ["other-name", "other-name", "other-name"], show(u));
    assert.equal(hostname(), env.hostname, "the host's hostname changed");
    await assertStateEmpty(j);
  });

  it("sethostname from inside fails with EPERM, and the host's name never changes", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "fixed-name", "/probe", "sethostname-same"]);
    assert.equal(probeLine(r), "err EPERM", show(r));
    // the shell sets the name it already has: harmless even if the jail had no UTS namespace
    const s = await sysjail(["-j", j, "/", "fixed-name", "/bin/sh", "-c", 'hostname "$(hostname)"; echo rc=$?; hostname']);
    assert.match(s.stdout, /rc=[1-9]/, show(s));
    assert.match(s.stdout, /^fixed-name$/m, show(s));
    assert.equal(hostname(), env.hostname, "the host's hostname changed");
  });
});

describe("IPC objects are the jail's own", () => {
  // SysV IPC is refused by the default policy unless --allow-ipc; these tests allow it and check
  // that the objects still live in the jail's own IPC namespace.
  it("a SysV message queue made in one jail is invisible to another jail and to the host", async (t) => {
    const j = stateDir(t);
    const key = String(0x5a000000 + randomInt(0xffffff));
    assert.equal(hostProbe("msgget", key), "err ENOENT", "control: the key is free on the host");
    const a = startCli(["-j", j, "--allow-ipc", root.path, "ipc-a", "/probe", "msgget", key, "hold"], { stdin: "pipe" });
    defer(t, () => a.stop());
    await a.waitOutput(/^ok \d+$/m);
    const b = await sysjail(["-j", j, "--allow-ipc", root.path, "ipc-b", "/probe", "msgget", key]);
    assert.equal(probeLine(b), "err ENOENT", `another jail sees the queue: ${show(b)}`);
    const h = hostProbe("msgget", key);
    if (h.startsWith("ok")) hostProbe("msgget", key, "rm");
    assert.equal(h, "err ENOENT", "the host sees the jail's queue");
    a.closeStdin();
    assert.equal((await a.done).code, 0);
    await assertStateEmpty(j);
  });

  it("a SysV queue is visible inside the jail that made it (control) and a host queue is not", async (t) => {
    const j = stateDir(t);
    const key = String(0x5b000000 + randomInt(0xffffff));
    const p = env.probe;
    const r = await sysjail(["-j", j, "--allow-ipc", "/", "ipc-c", "/bin/sh", "-c", `${p} msgget ${key} create && ${p} msgget ${key} && ${p} msgget ${key} rm`]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.split("\n").filter((l) => l.startsWith("ok")).length, 3, show(r));
    assert.match(hostProbe("msgget", key, "create"), /^ok \d+$/, "control: the host creates its own queue");
    defer(t, () => hostProbe("msgget", key, "rm"));
    const inJail = await sysjail(["-j", j, "--allow-ipc", root.path, "ipc-d", "/probe", "msgget", key]);
    assert.equal(probeLine(inJail), "err ENOENT", `the jail sees the host's queue: ${show(inJail)}`);
  });

  it("a POSIX message queue made in one jail is invisible to another jail and to the host", async (t) => {
    const j = stateDir(t);
    const name = `/sysjail-test-${randomBytes(4).toString("hex")}`;
    assert.equal(hostProbe("mq", name), "err ENOENT", "control: the name is free on the host");
    const a = startCli(["-j", j, "--allow-ipc", root.path, "mq-a", "/probe", "mq", name, "hold"], { stdin: "pipe" });
    defer(t, () => a.stop());
    await a.waitOutput(/^ok \d+$/m);
    const b = await sysjail(["-j", j, "--allow-ipc", root.path, "mq-b", "/probe", "mq", name]);
    assert.equal(probeLine(b), "err ENOENT", `another jail sees the queue: ${show(b)}`);
    const h = hostProbe("mq", name);
    if (h.startsWith("ok")) hostProbe("mq", name, "rm");
    assert.equal(h, "err ENOENT", "the host sees the jail's queue");
    // and the host's own queues are not visible inside
    assert.match(hostProbe("mq", `${name}-host`, "create"), /^ok \d+$/, "control: the host creates a queue");
    defer(t, () => hostProbe("mq", `${name}-host`, "rm"));
    const c = await sysjail(["-j", j, "--allow-ipc", root.path, "mq-c", "/probe", "mq", `${name}-host`]);
    assert.equal(probeLine(c), "err ENOENT", `the jail sees the host's queue: ${show(c)}`);
    a.closeStdin();
    assert.equal((await a.done).code, 0);
    await assertStateEmpty(j);
  });
});

describe("network: no -4/-6 means an own network namespace with loopback only", { concurrency: 2 }, () => {
  it("only lo exists, and it is up", async (t) => {
    const j = stateDir(t);
    assert.ok(hostProbe("ifaces").split(" ").length > 2, "control: the host has more interfaces than lo");
    const r = await sysjail(["-j", j, root.path, "net", "/probe", "ifaces"]);
    assert.equal(probeLine(r), "ifaces lo:up", show(r));
  });

  it("a host TCP listener on 127.0.0.1 is out of reach (ECONNREFUSED on the jail's own lo)", async (t) => {
    const j = stateDir(t);
    const l = await listen({ host: "127.0.0.1", port: 0 });
    defer(t, () => l.server.close());
    assert.equal(hostProbe("connect4", "127.0.0.1", String(l.port)), "ok 0", "control: the host reaches its listener");
    await waitUntil(() => l.accepted() === 1, "the listener to accept the control connection");
    const r = await sysjail(["-j", j, root.path, "net", "/probe", "connect4", "127.0.0.1", String(l.port)]);
    assert.equal(probeLine(r), "err ECONNREFUSED", show(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(l.accepted(), 1, "the host listener accepted a connection from the jail");
  });

  it("a host TCP listener on ::1 is out of reach", async (t) => {
    const j = stateDir(t);
    const l = await listen({ host: "::1", port: 0 });
    defer(t, () => l.server.close());
    assert.equal(hostProbe("connect6", "::1", String(l.port)), "ok 0", "control: the host reaches its listener");
    await waitUntil(() => l.accepted() === 1, "the listener to accept the control connection");
    const r = await sysjail(["-j", j, root.path, "net6", "/probe", "connect6", "::1", String(l.port)]);
    assert.equal(probeLine(r), "err ECONNREFUSED", show(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(l.accepted(), 1, "the host listener accepted a connection from the jail");
  });

  it("a host abstract unix socket is out of reach, and a jail's is invisible to the host", async (t) => {
    const j = stateDir(t);
    const name = `sysjail-test-${randomBytes(6).toString("hex")}`;
    // the host's listener: the probe itself, printing "accepted" per connection
    const host = spawn(env.probe, ["ulisten", name], { stdio: ["pipe", "pipe", "inherit"] });
    defer(t, () => host.kill("SIGKILL"));
    let out = "";
    host.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    await waitUntil(() => out.includes("ok 0") || host.exitCode !== null, "the host listener");
    assert.equal(hostProbe("uconnect", name), "ok 0", `control: the host reaches its abstract socket (${out})`);
    await waitUntil(() => out.includes("accepted"), "the host listener to accept the control connection");
    const r = await sysjail(["-j", j, root.path, "unix", "/probe", "uconnect", name]);
    assert.equal(probeLine(r), "err ECONNREFUSED", show(r));
    const inner = `${name}-jail`;
    const a = startCli(["-j", j, root.path, "unix2", "/probe", "ulisten", inner], { stdin: "pipe" });
    defer(t, () => a.stop());
    await a.waitOutput(/^ok 0$/m);
    assert.equal(hostProbe("uconnect", inner), "err ECONNREFUSED", "the host reaches the jail's abstract socket");
    a.closeStdin();
    const ar = await a.done;
    assert.equal(ar.code, 0, show(ar));
    assert.doesNotMatch(ar.stdout, /accepted/, show(ar));
    host.stdin.end();
    await new Promise((resolve) => host.once("exit", resolve));
    assert.equal(out.match(/accepted/g)?.length, 1, `the host listener accepted more than the control: ${out}`);
  });
});
