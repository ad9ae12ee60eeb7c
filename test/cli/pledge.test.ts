// sysjail --unveil, --pledge, --learn and the denials of the run report (-d, --report), in real
// jails as root and as 65534; every bad input is one line with its status and leaves nothing.
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  assertOneLineError, jailRootNobodySuite, makeTempDir, NOBODY_UID, removeTree, runCli, show, stateDir, stateFiles, sysjail, waitUntil,
} from "../helpers/index.js";

const { env, root, nobody } = jailRootNobodySuite();
let base: string; // a host tree for jails on "/": the probe, a writable and a read-only directory
before(() => {
  base = makeTempDir("sysjail-pledge-");
  copyFileSync(env.probe, join(base, "probe"));
  chmodSync(join(base, "probe"), 0o755);
  mkdirSync(join(base, "w"), { mode: 0o777 });
  chmodSync(join(base, "w"), 0o777);
  mkdirSync(join(base, "out"), { mode: 0o755 });
  writeFileSync(join(base, "out", "secret"), "outside-secret\n", { mode: 0o644 });
});
after(() => {
  if (base) removeTree(base);
});

const who = () => [["root", undefined], ["65534", nobody]] as const;

describe("sysjail --unveil", { concurrency: 2 }, () => {
  it("the command reaches only the unveiled paths, with their permissions, on / as root and as 65534", async (t) => {
    for (const [name, as] of who()) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const probe = join(base, "probe");
      const u = ["--unveil", `${probe}:rx`];
      const read = await sysjail(["-j", j, ...u, "--unveil", "/etc:r", "/", "uv", probe, "read", "/etc/hostname"], { as });
      assert.match(read.stdout, /^ok /m, `${name}: ${show(read)}`);
      const hidden = await sysjail(["-j", j, ...u, "--unveil", "/etc:r", "/", "uv", probe, "read", join(base, "out", "secret")], { as });
      assert.match(hidden.stdout, /^err EACCES$/m, `${name}: ${show(hidden)}`);
      const file = join(base, "w", `f-${name}`);
      const write = await sysjail(["-j", j, ...u, "--unveil", `${base}/w:rwc`, "/", "uv", probe, "write", file, "x"], { as });
      assert.match(write.stdout, /^ok 1$/m, `${name}: ${show(write)}`);
      assert.equal(readFileSync(file, "utf8"), "x");
      const nowrite = await sysjail(["-j", j, ...u, "--unveil", `${base}/out:r`, "/", "uv", probe, "write", join(base, "out", "new"), "x"], { as });
      assert.match(nowrite.stdout, /^err EACCES$/m, `${name}: ${show(nowrite)}`);
      assert.equal(existsSync(join(base, "out", "new")), false);
      assert.deepEqual(stateFiles(j), []);
    }
  });

  it("paths are taken in the jail's own root", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, "--unveil", "/probe:rx", "--unveil", "/etc:r", root.path, "uv", "/probe", "read", "/etc/marker"]);
    assert.match(r.stdout, new RegExp(`^ok ${root.marker}$`, "m"), show(r));
    const no = await sysjail(["-j", j, "--unveil", "/probe:rx", root.path, "uv", "/probe", "read", "/etc/marker"]);
    assert.match(no.stdout, /^err EACCES$/m, show(no));
  });

  it("bad permissions, relative or dotted paths are usage errors; a missing path fails the start, naming it, leaving nothing", async (t) => {
    const j = stateDir(t);
    for (const bad of [["/etc:rq"], ["etc:r"], ["/etc/../root:r"], ["/etc"], ["/etc:"], ["/etc:rr"]]) {
      const r = await sysjail(["-j", j, "--unveil", bad[0]!, root.path, "uv", "/probe", "exit", "0"]);
      assertOneLineError(r, 64, /--unveil/);
    }
    const missing = await sysjail(["-j", j, "--unveil", "/no-such-dir:r", root.path, "uv", "/probe", "exit", "0"]);
    assertOneLineError(missing, 71, /\/no-such-dir \(ENOENT\)/);
    assert.deepEqual(stateFiles(j), []);
  });
});

describe("sysjail --pledge", { concurrency: 2 }, () => {
  it("calls outside the promises are refused, those inside run, as root and as 65534", async (t) => {
    for (const [name, as] of who()) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const no = await sysjail(["-j", j, "--pledge", "stdio rpath", root.path, "pl", "/probe", "connect6", "::1", "9"], { as });
      assert.equal(no.code, 159, `${name}: killed by SIGSYS: ${show(no)}`);
      const err = await sysjail(["-j", j, "--pledge", "stdio rpath error", root.path, "pl", "/probe", "connect6", "::1", "9"], { as });
      assert.match(err.stdout, /^err EPERM$/m, `${name}: ${show(err)}`);
      const yes = await sysjail(["-j", j, "--pledge", "stdio rpath inet", root.path, "pl", "/probe", "connect6", "::1", "9"], { as });
      assert.match(yes.stdout, /^err ECONNREFUSED$/m, `${name}: the kernel ran the call: ${show(yes)}`);
      const rd = await sysjail(["-j", j, "--pledge", "stdio rpath", root.path, "pl", "/probe", "read", "/etc/marker"], { as });
      assert.match(rd.stdout, new RegExp(`^ok ${root.marker}$`, "m"), `${name}: ${show(rd)}`);
      assert.deepEqual(stateFiles(j), []);
    }
  });

  it("without exec, only the command's own exec runs: a later one is refused", async (t) => {
    const j = stateDir(t);
    const sh = ["/bin/sh", "-c", "/bin/true; echo status $?"];
    const no = await sysjail(["-j", j, "--pledge", "stdio rpath proc error", "/", "pl", ...sh]);
    assert.match(no.stdout, /^status 126$/m, show(no));
    const yes = await sysjail(["-j", j, "--pledge", "stdio rpath proc exec error", "/", "pl", ...sh]);
    assert.match(yes.stdout, /^status 0$/m, show(yes));
  });

  it("an unknown promise is a usage error naming it", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, "--pledge", "stdio no-such-promise", root.path, "pl", "/probe", "exit", "0"]);
    assertOneLineError(r, 64, /unknown promise 'no-such-promise'/);
    assert.deepEqual(stateFiles(j), []);
  });
});

describe("entered processes of a pledged jail", () => {
  it("jexec into a pledge without exec: the entered command's own exec runs, later ones are refused, -v explains its denials, as root and as 65534", async (t) => {
    for (const [name, as] of who()) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const env = { SYSJAIL_STATE_DIR: j };
      const probe = join(base, "probe");
      const bg = await sysjail(["-j", j, "-b", "-n", "pe", "--pledge", "stdio rpath proc error", "/", "pe", "/bin/sleep", "1000"], { as });
      assert.equal(bg.code, 0, `${name}: ${show(bg)}`);
      try {
        const r = await runCli(["-v", "pe", probe, "sethostname-same"], { tool: "jexec", env, as });
        assert.match(r.stdout, /^err EPERM$/m, `${name}: ${show(r)}`);
        assert.match(r.stderr, /^jexec: denied sethostname \(x86_64\) x1: errno EPERM; rule <pledge>:\d+; first args /m, `${name}: ${show(r)}`);
        const quiet = await runCli(["pe", probe, "sethostname-same"], { tool: "jexec", env, as });
        assert.equal(quiet.stderr, "", `${name}: without -v nothing is printed: ${show(quiet)}`);
        const sh = await runCli(["-v", "pe", "/bin/sh", "-c", "/bin/true; echo status $?"], { tool: "jexec", env, as });
        assert.match(sh.stdout, /^status 126$/m, `${name}: ${show(sh)}`);
        assert.match(sh.stderr, /^jexec: denied execve \(x86_64\) x1: errno EPERM; rule <pledge>:/m, `${name}: ${show(sh)}`);
      } finally {
        const rm = await runCli(["-r", "pe"], { tool: "jail", env, as });
        assert.equal(rm.code, 0, `${name}: ${show(rm)}`);
      }
      await waitUntil(() => stateFiles(j).length === 0 || undefined, `${name}: the jail's files to go`).catch(() => undefined);
      assert.deepEqual(stateFiles(j), [], name);
    }
  });
});

describe("denials and learn mode", { concurrency: 2 }, () => {
  it("the run report and -d name each refused call, its count and rule, as root and as 65534", async (t) => {
    for (const [name, as] of who()) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const dir = makeTempDir("sysjail-denials-", 0o777);
      t.after(() => removeTree(dir));
      const file = join(dir, "report.json");
      const r = await sysjail(["-j", j, "--report", file, root.path, "dn", "/probe", "sethostname-same"], { as });
      assert.match(r.stdout, /^err EPERM$/m, `${name}: ${show(r)}`);
      const rep = JSON.parse(readFileSync(file, "utf8")) as { denials: { syscall: string; count: number; rule: string; action: string }[] };
      const d = rep.denials.find((x) => x.syscall === "sethostname");
      assert.ok(d && d.count >= 1 && d.action === "errno EPERM" && /hostname/.test(d.rule), `${name}: ${JSON.stringify(rep.denials)}`);
      const dbg = await sysjail(["-d", "-j", j, root.path, "dn", "/probe", "sethostname-same"], { as });
      assert.match(dbg.stderr, /denied sethostname \(x86_64\) x1: errno EPERM/, `${name}: ${show(dbg)}`);
      assert.deepEqual(stateFiles(j), []);
    }
  });

  it("a denial's rule is the one whose conditions hold on the refused call's registers, as root and as 65534", async (t) => {
    for (const [name, as] of who()) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const dir = makeTempDir("sysjail-rulematch-", 0o777);
      t.after(() => removeTree(dir));
      const policy = join(dir, "net.policy");
      // by name alone both denials would be line 2's
      writeFileSync(policy, "socket arg0 == AF_INET6 errno EPERM\nsocket arg0 == AF_INET errno EACCES\n", { mode: 0o644 });
      for (const [cmd, addr, errno, line] of [["connect6", "::1", "EPERM", 1], ["connect4", "127.0.0.1", "EACCES", 2]] as const) {
        const file = join(dir, `report-${cmd}.json`);
        const r = await sysjail(["-j", j, "--policy", policy, "--report", file, root.path, "rm", "/probe", cmd, addr, "9"], { as });
        assert.match(r.stdout, new RegExp(`^err ${errno}$`, "m"), `${name}: ${show(r)}`);
        const rep = JSON.parse(readFileSync(file, "utf8")) as { denials: { syscall: string; rule: string; action: string; args: string[] }[] };
        const d = rep.denials.find((x) => x.syscall === "socket");
        assert.ok(d, `${name}: ${JSON.stringify(rep.denials)}`);
        assert.equal(d.rule, `${policy}:${line}`, `${name} ${cmd}: ${JSON.stringify(d)}`);
        assert.equal(d.action, `errno ${errno}`);
      }
      assert.deepEqual(stateFiles(j), []);
    }
  });

  it("--learn writes a policy that runs the command again and refuses anything else; learning again merges", async (t) => {
    for (const [name, as] of who()) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const dir = makeTempDir("sysjail-learn-", 0o777);
      t.after(() => removeTree(dir));
      const file = join(dir, "learned.policy");
      const l = await sysjail(["-j", j, "--learn", file, root.path, "ln", "/probe", "read", "/etc/marker"], { as });
      assert.equal(l.code, 0, `${name}: ${show(l)}`);
      const text = readFileSync(file, "utf8");
      assert.match(text, /^execve allow +# 1 call$/m, text);
      assert.doesNotMatch(text, /^socket/m, text);
      const again = await sysjail(["-j", j, "--replace-policy", "--policy", file, root.path, "ln", "/probe", "read", "/etc/marker"], { as });
      assert.match(again.stdout, new RegExp(`^ok ${root.marker}$`, "m"), `${name}: ${show(again)}`);
      const refused = await sysjail(["-j", j, "--replace-policy", "--policy", file, root.path, "ln", "/probe", "connect6", "::1", "9"], { as });
      assert.match(refused.stdout, /^err ENOSYS$/m, `${name}: ${show(refused)}`);
      const l2 = await sysjail(["-j", j, "--learn", file, root.path, "ln", "/probe", "connect6", "::1", "9"], { as });
      assert.match(l2.stdout, /^err ECONNREFUSED$/m, `${name}: ${show(l2)}`);
      const merged = readFileSync(file, "utf8");
      assert.match(merged, /^socket arg0 in \[0xa\] allow/m, merged);
      assert.match(merged, /^execve allow +# 2 calls$/m, merged);
      assert.deepEqual(stateFiles(j), []);
    }
  });

  it("sjls -v shows a listening jail's live count of refused calls, as root and as 65534; nothing is left after", async (t) => {
    for (const [name, as] of who()) {
      const j = stateDir(t, as ? NOBODY_UID : undefined);
      const script = "/bin/true; /bin/true; /bin/true; while :; do :; done";
      const b = await sysjail(["-j", j, "-b", "-n", "live", "--pledge", "stdio rpath proc error", "/", "lv", "/bin/sh", "-c", script], { as });
      assert.equal(b.code, 0, `${name}: ${show(b)}`);
      try {
        const line = await waitUntil(async () => {
          const r = await runCli(["-v", "-j", "live"], { tool: "sjls", as, env: { SYSJAIL_STATE_DIR: j } });
          return /^ {2}denials {5}3 refused calls/m.exec(r.stdout)?.[0];
        }, `${name}: sjls -v shows 3 refused calls`);
        assert.ok(line);
      } finally {
        const r = await runCli(["-r", "live"], { tool: "jail", as, env: { SYSJAIL_STATE_DIR: j } });
        assert.equal(r.code, 0, `${name}: ${show(r)}`);
      }
      await waitUntil(() => stateFiles(j).length === 0, `${name}: the jail's files are gone`);
    }
  });

  it("--learn with -b is a usage error", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, "-b", "--learn", "/tmp/x.policy", root.path, "ln", "/probe", "exit", "0"]);
    assertOneLineError(r, 64, /--learn needs a foreground jail/);
    assert.deepEqual(stateFiles(j), []);
  });
});
