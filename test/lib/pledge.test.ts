// run() with pledge and unveil, and the denials of its report, in real jails.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Jail, run, type RunOptions } from "../../src/index.js";
import { buildProbe, makeJailRoot, requireRoot, type JailRoot } from "../helpers/index.js";
import { assertNothingLeft, libState, rejection } from "./helpers.js";

let root: JailRoot;
before(() => {
  requireRoot("the library tests");
  root = makeJailRoot(buildProbe());
});
after(() => root?.remove());

describe("run() with pledge and unveil", { concurrency: 2 }, () => {
  it("the report names refused calls with their count, action and rule", async (t) => {
    const dir = libState(t);
    const r = await run({ path: root.path, hostname: "h", command: ["/probe", "sethostname-same"], stateDir: dir });
    assert.equal(r.stdout, "err EPERM\n");
    const d = r.report.denials.find((x) => x.syscall === "sethostname");
    assert.ok(d && d.count === 1 && d.action === "errno EPERM" && /hostname/.test(d.rule), JSON.stringify(r.report.denials));
    const ok = await run({ path: root.path, hostname: "h", command: ["/probe", "hostname"], stateDir: dir });
    assert.deepEqual(ok.report.denials, []);
    assertNothingLeft(dir, undefined, "after run()");
  });

  it("the listener reaches the monitor by message: the command holds no descriptor of it, and a refusal made at once is still reported", async (t) => {
    const dir = libState(t);
    // the command's descriptors after its exec: 0-2 and ls's own directory, no listener or channel
    const r = await run({ path: "/", hostname: "h", command: ["/bin/sh", "-c", "ls /proc/self/fd; exec hostname h"], stateDir: dir });
    assert.deepEqual(r.stdout.trim().split("\n").sort(), ["0", "1", "2", "3"], r.stdout);
    const d = r.report.denials.find((x) => x.syscall === "sethostname");
    assert.ok(d && d.count === 1 && d.action === "errno EPERM", JSON.stringify(r.report.denials));
    assertNothingLeft(dir, undefined, "after run()");
  });

  it("pledge and unveil narrow the command", async (t) => {
    const dir = libState(t);
    const base: RunOptions = { path: root.path, hostname: "h", command: [], stateDir: dir };
    const p = await run({ ...base, pledge: "stdio rpath error", command: ["/probe", "connect6", "::1", "9"] });
    assert.equal(p.stdout, "err EPERM\n");
    assert.ok(p.report.denials.some((x) => x.syscall === "socket" && /<pledge>/.test(x.rule)), JSON.stringify(p.report.denials));
    const u = await run({ ...base, unveil: { "/probe": "rx" }, command: ["/probe", "read", "/etc/marker"] });
    assert.equal(u.stdout, "err EACCES\n");
    const v = await run({ ...base, unveil: { "/probe": "rx", "/etc": "r" }, command: ["/probe", "read", "/etc/marker"] });
    assert.equal(v.stdout, `ok ${root.marker}\n`);
    assertNothingLeft(dir, undefined, "after run()");
  });

  it("bad pledge and unveil options are usage errors naming the option", async (t) => {
    const dir = libState(t);
    const base = { path: root.path, hostname: "h", command: ["/probe", "exit", "0"], stateDir: dir };
    for (const [o, re] of [[{ pledge: "stdio nope" }, /option pledge: unknown promise 'nope'/], [{ pledge: 3 }, /option pledge must be a string/],
      [{ unveil: { "/etc": "rq" } }, /option unveil: bad permissions 'rq'/], [{ unveil: ["/etc"] }, /option unveil must be \{ path: perms \}/],
      [{ unveil: { "etc": "r" } }, /option unveil: 'etc' must be an absolute path/]] as const) {
      const e = await rejection(run({ ...base, ...(o as object) } as RunOptions));
      assert.equal(e.code, "EUSAGE", e.message);
      assert.match(e.message, re);
      assert.doesNotMatch(e.message, /^sysjail:/);
    }
    assertNothingLeft(dir, undefined, "after the refusals");
  });

  it("Jail.create with a pledge without exec: spawned processes start (their one exec) and exit with their denials", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "h", stateDir: dir, pledge: "stdio rpath error" });
    try {
      const p = jail.spawn("/probe", ["sethostname-same"]);
      let out = "";
      p.stdout.on("data", (d: Buffer) => { out += d.toString(); });
      const r = await p.exit;
      assert.equal(out, "err EPERM\n");
      assert.equal(r.signal, null, "not killed (SIGSYS)");
      const d = r.denials?.find((x) => x.syscall === "sethostname");
      assert.ok(d && d.count === 1 && d.action === "errno EPERM", JSON.stringify(r.denials));
      // a pledge refusal, named by its rule
      const q = jail.spawn("/probe", ["connect6", "::1", "9"]);
      let qout = "";
      q.stdout.on("data", (b: Buffer) => { qout += b.toString(); });
      const qr = await q.exit;
      assert.equal(qout, "err EPERM\n");
      assert.ok(qr.denials?.some((x) => x.syscall === "socket" && /<pledge>/.test(x.rule)), JSON.stringify(qr.denials));
    } finally {
      await jail.remove();
    }
    assertNothingLeft(dir, undefined, "after the jail");
  });
});
