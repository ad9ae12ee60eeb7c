// jexec joins every namespace the jail has, as recorded at its start: a process entered into a
// user's -4 jail (which has a network namespace of its own) does not reach the host's loopback.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeRoot, nobodyRuntimeDir, probe, requireBuilt, ROOT, run, runAsync, Scope, start } from "./helpers.js";

describe("the namespaces jexec joins", () => {
  let xdg: string;
  let scope: Scope;
  let root: string;
  let server: Server;
  let port: number;
  let accepted = 0;
  before(async () => {
    requireBuilt();
    xdg = nobodyRuntimeDir();
    scope = new Scope(xdg);
    root = makeRoot(65534);
    server = createServer((c) => { accepted++; c.destroy(); });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server?.close();
    scope?.cleanup();
    for (const d of [xdg, root]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test("rootless jexec into a -4 jail lands in the jail's network namespace", async () => {
    // control: the host reaches the test's own listener
    const host = spawnSync(probe(), ["connect4", "127.0.0.1", String(port)], { encoding: "utf8" });
    assert.equal(host.stdout, "connected\n");
    await new Promise((r) => setTimeout(r, 50));
    const before = accepted;
    const jid = start(scope.o, root, "net4.example", ["/mprobe", "sleep", "120"], ["-4", "127.0.0.61"]);
    const entry = JSON.parse(readFileSync(join(scope.state, "jails", `${jid}.json`), "utf8")) as { namespaces?: number; initPid: number };
    assert.ok(((entry.namespaces ?? 0) & 0x40000000) !== 0, "the entry records the jail's own network namespace");
    const r = await runAsync("jexec", [String(jid), "/mprobe", "connect4", "127.0.0.1", String(port)], scope.o);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(r.stdout, "connected\n", "an entered process reached the host's loopback");
    assert.equal(accepted, before);
    // the same network namespace as the jail's own processes
    const ns = (pid: number) => spawnSync("readlink", [`/proc/${pid}/ns/net`], { encoding: "utf8" }).stdout.trim();
    const jailNet = ns(entry.initPid);
    const entered = runAsync("jexec", [String(jid), "/mprobe", "sleep", "3"], scope.o);
    let seen = "";
    for (let i = 0; i < 100 && !seen; i++) {
      await new Promise((res) => setTimeout(res, 30));
      for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        try {
          if (readFileSync(`/proc/${p}/cmdline`, "utf8") === "/mprobe\x00sleep\x003\x00") seen = ns(Number(p));
        } catch { /* gone */ }
      }
    }
    await entered;
    assert.equal(seen, jailNet);
  });

  test("an admin's process entered into a shared-stack jail reaches no host abstract socket (Landlock scope)", async () => {
    const mine = new Scope();
    const rootOwned = makeRoot();
    const name = `sysjail-enter-${randomBytes(6).toString("hex")}`;
    // python binds the exact name (Node pads an abstract address to the whole sun_path)
    const srv = spawn("python3", ["-c", "import socket,sys,time\ns=socket.socket(socket.AF_UNIX)\ns.bind('\\0'+sys.argv[1])\ns.listen(8)\nprint('up',flush=True)\ntime.sleep(60)", name], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((r) => srv.stdout.once("data", () => r()));
      // control: the host reaches it
      assert.equal(spawnSync(probe(), ["uconnect", name], { encoding: "utf8" }).stdout, "connected\n");
      const jid = start(mine.o, rootOwned, "shared.example", ["/mprobe", "sleep", "120"], ["-4", "127.0.0.62"]);
      const r = await runAsync("jexec", [String(jid), "/mprobe", "uconnect", name], mine.o);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "EPERM\n");
      // the jail's own processes neither (their own domain)
      const own = await runAsync("sysjail", ["-4", "127.0.0.62", rootOwned, "shared2.example", "/mprobe", "uconnect", name], mine.o);
      assert.equal(own.stdout, "EPERM\n", own.stderr);
    } finally {
      srv.kill("SIGKILL");
      mine.cleanup();
      rmSync(rootOwned, { recursive: true, force: true });
    }
  });

  test("the monitor's namespace socket answers its owner, and no process of a jail (a rootless jail of /)", () => {
    // a state directory outside /tmp: a jail of / has a /tmp of its own, but sees /var/tmp
    const base = mkdtempSync("/var/tmp/sysjail-mns-");
    chmodSync(base, 0o755);
    const state = join(base, "state");
    mkdirSync(state, { mode: 0o700 });
    chownSync(state, 65534, 65534);
    const prog = join(base, "mprobe");
    copyFileSync(probe(), prog);
    chmodSync(prog, 0o755);
    const o = { state, nobody: xdg };
    try {
      const jid = start(o, root, "served.example", ["/mprobe", "sleep", "120"]);
      const sock = join(state, "jails", `${jid}.ns`);
      const asOwner = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", prog, "nsgrab", sock], { encoding: "utf8" });
      assert.equal(asOwner.stdout, "fds 6\n", "the owner gets user, mnt, pid, uts, ipc and net");
      const fromJail = run("sysjail", ["/", "slash.example", prog, "nsgrab", sock], o);
      assert.equal(fromJail.stdout, "fds 0\n", `a process of a jail of / got the namespaces: ${fromJail.stderr}`);
      // another user gets nothing either (the socket is 0600 in a 0700 directory besides)
      const other = spawnSync("setpriv", ["--reuid=65533", "--regid=65533", "--clear-groups", prog, "nsgrab", sock], { encoding: "utf8" });
      assert.notEqual(other.stdout, "fds 6\n");
      assert.equal(run("jail", ["-r", String(jid)], o).code, 0);
    } finally {
      run("jail", ["-R", "*"], { state });
      rmSync(base, { recursive: true, force: true });
    }
  });

  test("an entry whose recorded namespace set is not a jail's is refused in one line", () => {
    const mine = new Scope();
    const rootOwned = makeRoot();
    try {
      const jid = start(mine.o, rootOwned, "ns.example", ["/mprobe", "sleep", "120"]);
      const file = join(mine.state, "jails", `${jid}.json`);
      const e = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...e, namespaces: 0x04000000 }));
      const r = spawnSync(join(ROOT, "native", "build", "jexec"), [String(jid), "/mprobe", "hostname"], {
        encoding: "utf8", input: "", env: { ...process.env, SYSJAIL_STATE_DIR: mine.state },
      });
      assert.notEqual(r.status, 0);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /invalid namespace set/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      // a cgroup of the entry that cannot be verified: refused, never entered outside it
      const cg = start(mine.o, rootOwned, "cg.example", ["/mprobe", "sleep", "120"], ["--limit", "pids=64"]);
      const cgFile = join(mine.state, "jails", `${cg}.json`);
      const ce = JSON.parse(readFileSync(cgFile, "utf8")) as { cgroups: Record<string, string> };
      assert.ok(Object.keys(ce.cgroups).length > 0, "a jail with a limit has cgroups");
      const ok = run("jexec", [String(cg), "/mprobe", "hostname"], mine.o);
      assert.equal(ok.stdout, "cg.example\n", ok.stderr);
      const k = Object.keys(ce.cgroups)[0]!;
      writeFileSync(cgFile, JSON.stringify({ ...ce, cgroups: { ...ce.cgroups, [k]: "/tmp" } }));
      const bad = run("jexec", [String(cg), "/mprobe", "hostname"], mine.o);
      assert.equal(bad.code, 77, bad.stderr);
      assert.equal(bad.stdout, "");
      assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
      assert.match(bad.stderr, /cannot be verified; refusing to enter/);
      writeFileSync(cgFile, JSON.stringify(ce));
    } finally {
      mine.cleanup();
      rmSync(rootOwned, { recursive: true, force: true });
    }
  });
});
