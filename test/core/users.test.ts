// Issue 3, lines 6 and 7: users (jail root never host root, -u, -U, -l), the host's files out of
// jail root's reach (root-owned roots are nobody's inside), and privilege (no_new_privs, the bounding set, setuid).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, before, after } from "node:test";
import {
  assertStateEmpty, coreSuite, defer, jail, makeJailRoot, makeTempDir, probeLine, procDescendants, procStatus, removeTree,
  show, startCli, stateDir, sysjail, waitUntil, type CliResult, type JailRoot,
} from "../helpers/index.js";
import { Registry } from "../../src/registry/store.js";
import { pool } from "../ids/helpers.js"; // the pool root's jails take their ranges from

const env = coreSuite();
let root: JailRoot;
const PASSWD = "root:x:0:0:root:/root:/bin/sh\njailer:x:1234:1234:Jail User:/home/jailer:/bin/jsh\n";
const GROUP = "root:x:0:\njailer:x:1234:\nstaff:x:50:jailer\n";
before(() => {
  root = makeJailRoot(env.probe, { passwd: PASSWD, group: GROUP, dirs: ["home/jailer", "root"] });
  // a setuid-root copy of the probe
  copyFileSync(env.probe, root.at("suid-probe"));
  chownSync(root.at("suid-probe"), 0, 0);
  chmodSync(root.at("suid-probe"), 0o4755);
});
after(() => root?.remove());

function numbers(line: string): number[] {
  return line.replace(/^ok\s+/, "").trim().split(/\s+/).map(Number);
}

function capBits(line: string): bigint {
  const m = /^ok ([0-9a-f]{16})$/.exec(line);
  assert.ok(m, `a capability mask: ${line}`);
  return BigInt(`0x${m[1]}`);
}

const CAP = { CHOWN: 0, SYS_MODULE: 16, SYS_RAWIO: 17, SYS_ADMIN: 21, SYS_TIME: 25, MKNOD: 27 } as const;

describe("users: jail root is never host root", { concurrency: 3 }, () => {
  it("uid_map and gid_map map jail 0 onto a range of the pool for a root caller, never onto host 0", async (t) => {
    const j = stateDir(t);
    const p = pool();
    for (const file of ["uid_map", "gid_map"]) {
      const r = await sysjail(["-j", j, root.path, "maps", "/probe", "read", `/proc/self/${file}`]);
      const [inside, outside, n] = numbers(probeLine(r));
      assert.equal(inside, 0, show(r));
      assert.notEqual(outside, 0, `${file}: jail root is host root: ${show(r)}`);
      assert.ok(outside! >= p.start && outside! + n! <= p.end && (outside! - p.start) % p.size === 0, `${file}: a range of the pool: ${show(r)}`);
      assert.equal(n, p.size, `${file}: ${show(r)}`);
    }
    await assertStateEmpty(j);
  });

  it("by default the command runs as jail root, which the host sees as the range's first uid", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "ids", "/probe", "ids"]);
    assert.equal(probeLine(r), "ok 0 0 0 0 0 0", show(r));
    const run = startCli(["-j", j, root.path, "hostview", "/probe", "hold"], { stdin: "pipe" });
    defer(t, () => run.stop());
    await run.waitOutput(/^ready/m);
    const e = await waitUntil(() => new Registry(j).list()[0], "the registry entry");
    const cmd = procDescendants(e.initPid)[0]!;
    const base = e.ids?.uid;
    assert.ok(base !== undefined && base >= pool().start, `the entry records the range: ${JSON.stringify(e.ids)}`);
    assert.deepEqual(procStatus(cmd, "Uid")?.split(/\s+/).map(Number), [base, base, base, base]);
    assert.deepEqual(procStatus(cmd, "Gid")?.split(/\s+/).map(Number), [base, base, base, base]);
    run.closeStdin();
    assert.equal((await run.done).code, 0);
  });

  it("-u takes the user from the host's database", async (t) => {
    const j = stateDir(t);
    const daemon = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("daemon:"));
    assert.ok(daemon, "control: the host has a daemon user");
    const [, , uid, gid] = daemon.split(":");
    const r = await sysjail(["-j", j, "-u", "daemon", root.path, "hostuser", "/probe", "ids"]);
    assert.equal(probeLine(r), `ok ${uid} ${uid} ${uid} ${gid} ${gid} ${gid}`, show(r));
    const n = await sysjail(["-j", j, "-u", "nobody", root.path, "hostuser", "/probe", "ids"]);
    assert.equal(probeLine(n), "ok 65534 65534 65534 65534 65534 65534", show(n));
  });

  it("-U takes the user (and its groups) from the jail's /etc/passwd and /etc/group", async (t) => {
    const j = stateDir(t);
    assert.ok(!readFileSync("/etc/passwd", "utf8").includes("jailer:"), "control: the host has no user jailer");
    const r = await sysjail(["-j", j, "-U", "jailer", root.path, "jailuser", "/probe", "ids"]);
    assert.equal(probeLine(r), "ok 1234 1234 1234 1234 1234 1234", show(r));
    const g = await sysjail(["-j", j, "-U", "jailer", root.path, "jailuser", "/probe", "status", "Groups"]);
    assert.deepEqual(numbers(probeLine(g)).sort((a, b) => a - b), [50], show(g));
    await assertStateEmpty(j);
  });

  it("-l cleans the environment to HOME, SHELL, USER, TERM and PATH and starts in the user's home", async (t) => {
    const j = stateDir(t);
    const extra = { SYSJAIL_LEAK: "should-not-pass", TERM: "xterm-sysjail" };
    const envOf = (r: CliResult) => Object.fromEntries(r.stdout.split("\n").filter((l) => l.startsWith("env ")).map((l) => {
      const kv = l.slice(4);
      return [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)];
    }));
    const r = await sysjail(["-j", j, "-l", "-U", "jailer", root.path, "clean", "/probe", "env"], { env: extra });
    assert.equal(r.code, 0, show(r));
    const e = envOf(r);
    assert.deepEqual(Object.keys(e).sort(), ["HOME", "PATH", "SHELL", "TERM", "USER"], show(r));
    assert.equal(e.HOME, "/home/jailer");
    assert.equal(e.SHELL, "/bin/jsh");
    assert.equal(e.USER, "jailer");
    assert.equal(e.TERM, "xterm-sysjail");
    assert.match(e.PATH ?? "", /^\//);
    const c = await sysjail(["-j", j, "-l", "-U", "jailer", root.path, "clean", "/probe", "cwd"], { env: extra });
    assert.equal(probeLine(c), "ok /home/jailer", show(c));
    // without -l the caller's environment passes (the control: -l is what removed it)
    const k = await sysjail(["-j", j, "-U", "jailer", root.path, "clean", "/probe", "env"], { env: extra });
    assert.equal(envOf(k).SYSJAIL_LEAK, "should-not-pass", show(k));
    // the legacy form: jail -l -U user
    const l = await jail(["-j", j, "-l", "-U", "jailer", root.path, "clean", "-", "/probe", "env"], { env: extra });
    assert.deepEqual(Object.keys(envOf(l)).sort(), ["HOME", "PATH", "SHELL", "TERM", "USER"], show(l));
    await assertStateEmpty(j);
  });
});

describe("the host's files are out of jail root's reach", { concurrency: 2 }, () => {
  it("a jail on `/` cannot write a root-owned host file or create one in a root-owned directory", async (t) => {
    const j = stateDir(t);
    const dir = makeTempDir("sysjail-hostfile-");
    defer(t, () => removeTree(dir));
    const file = join(dir, "root-owned");
    writeFileSync(file, "owned by host root\n", { mode: 0o644 });
    chmodSync(file, 0o644);
    const before = statSync(file);
    assert.equal(before.uid, 0);
    for (const args of [["rewrite", file], ["openw", file], ["write", join(dir, "planted"), "x"]]) {
      const r = await sysjail(["-j", j, "/", "hostfs", env.probe, ...args]);
      assert.match(probeLine(r), /^err E(ACCES|PERM|ROFS)$/, `${args.join(" ")}: ${show(r)}`);
    }
    assert.equal(readFileSync(file, "utf8"), "owned by host root\n");
    assert.equal(statSync(file).mtimeMs, before.mtimeMs, "the host file was rewritten");
    assert.ok(!existsSync(join(dir, "planted")), "a file appeared in a host directory");
    // not even as a user the jail maps: -u daemon
    const d = await sysjail(["-j", j, "-u", "daemon", "/", "hostfs", env.probe, "rewrite", file]);
    assert.match(probeLine(d), /^err E(ACCES|PERM|ROFS)$/, show(d));
    await assertStateEmpty(j);
  });

  it("a root-owned jail root is nobody's inside: jail root cannot write it, only its 1777 /tmp", async (t) => {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    assert.equal(statSync(r.path).uid, 0, "control: the jail path is owned by host root");
    const w = await sysjail(["-j", j, r.path, "rootowned", "/probe", "write", "/made-in-jail", "hello"]);
    assert.match(probeLine(w), /^err E(ACCES|PERM)$/, show(w));
    assert.ok(!existsSync(r.at("made-in-jail")));
    const s = await sysjail(["-j", j, r.path, "rootowned", "/probe", "stat", "/", "/probe"]);
    for (const l of s.stdout.trim().split("\n")) assert.match(l, /^ok \d+ 65534 65534 /, `host root's files are nobody's inside: ${show(s)}`);
    const tmp = await sysjail(["-j", j, r.path, "rootowned", "/probe", "write", "/tmp/mine", "hello"]);
    assert.equal(probeLine(tmp), "ok 5", show(tmp));
    assert.ok(statSync(r.at("tmp/mine")).uid >= pool().start, "the jail's file belongs to its range on the host");
    await assertStateEmpty(j);
  });
});

describe("privilege", { concurrency: 3 }, () => {
  for (const who of ["jail root", "-U jailer", "path /"]) {
    it(`no_new_privs is set and the bounding set lacks SYS_MODULE, SYS_RAWIO, SYS_TIME, MKNOD (${who})`, async (t) => {
      const j = stateDir(t);
      const args = who === "path /" ? ["/", "privs", env.probe] : [...(who === "-U jailer" ? ["-U", "jailer"] : []), root.path, "privs", "/probe"];
      const n = await sysjail(["-j", j, ...args, "status", "NoNewPrivs"]);
      assert.equal(probeLine(n), "ok 1", show(n));
      const b = await sysjail(["-j", j, ...args, "status", "CapBnd"]);
      const bnd = capBits(probeLine(b));
      for (const [name, bit] of Object.entries(CAP)) {
        if (name === "CHOWN") continue;
        assert.equal((bnd >> BigInt(bit)) & 1n, 0n, `CAP_${name} is in the bounding set ${probeLine(b)}`);
      }
      assert.equal((bnd >> BigInt(CAP.CHOWN)) & 1n, 1n, `control: jail root keeps CAP_CHOWN (${probeLine(b)})`);
      if (who === "-U jailer") {
        const e = await sysjail(["-j", j, ...args, "status", "CapEff"]);
        assert.equal(probeLine(e), "ok 0000000000000000", `a non-root user has no effective capability: ${show(e)}`);
      }
    });
  }

  it("a setuid-root binary inside gains a -U user nothing", async (t) => {
    const j = stateDir(t);
    // control: on the host the copy really is setuid root (uid 65534 runs it as euid 0)
    const ctl = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", root.at("suid-probe"), "ids"], { encoding: "utf8" });
    assert.match(ctl.stdout, /^ok 65534 0 0 /, `control: the setuid bit works on the host: ${ctl.stdout}${ctl.stderr}`);
    const s = await sysjail(["-j", j, root.path, "suid", "/probe", "stat", "/suid-probe"]);
    assert.match(probeLine(s), /^ok 104755 65534 65534 /, `inside, host root's setuid binary is nobody's: ${show(s)}`);
    const r = await sysjail(["-j", j, "-U", "jailer", root.path, "suid", "/suid-probe", "ids"]);
    assert.equal(probeLine(r), "ok 1234 1234 1234 1234 1234 1234", show(r));
    const c = await sysjail(["-j", j, "-U", "jailer", root.path, "suid", "/suid-probe", "status", "CapEff"]);
    assert.equal(probeLine(c), "ok 0000000000000000", show(c));
    await assertStateEmpty(j);
  });
});
