// Unprivileged users see and manage their own jails; root sees and manages every user's too.
import assert from "node:assert/strict";
import { chownSync, lstatSync, mkdirSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { randomBytes } from "node:crypto";
import { alive, makeRoot, nobodyRuntimeDir, requireBuilt, run, Scope, sjlsEntry, start } from "./helpers.js";

describe("rootless jails (uid 65534 through setpriv)", () => {
  let xdg: string;
  let scope: Scope;
  let root: string;
  before(() => {
    requireBuilt();
    xdg = nobodyRuntimeDir();
    scope = new Scope(xdg);
    root = makeRoot();
  });
  after(() => {
    scope?.cleanup();
    for (const d of [xdg, root]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test("start, list, enter, modify and remove one's own jail", () => {
    const jid = start(scope.o, root, "rootless.example", ["/mprobe", "sleep", "120"]);
    const ls = run("jls", [], scope.o);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(ls.stdout.includes(`${String(jid).padStart(6)}  ${"".padEnd(15)} ${"rootless.example".padEnd(29)} ${root}`), ls.stdout);
    const x = sjlsEntry(scope.o, jid)!;
    assert.equal(x.owner, 65534);
    assert.equal(x.processes, 2);
    assert.equal(run("jexec", [String(jid), "/mprobe", "hostname"], scope.o).stdout, "rootless.example\n");
    assert.equal(run("jexec", [String(jid), "/mprobe", "pids"], scope.o).stdout.trim().split(" ").length, 3);
    assert.equal(run("jexec", [String(jid), "/mprobe", "cat", "/proc/self/uid_map"], scope.o).stdout.trim().split(/\s+/).join(" "), "0 65534 1");
    assert.equal(run("jexec", [String(jid), "/mprobe", "status", "NoNewPrivs"], scope.o).stdout, "1\n");
    assert.equal(run("jail", ["-m", String(jid), "host.hostname=changed.example"], scope.o).code, 0);
    assert.equal(run("jexec", [String(jid), "/mprobe", "hostname"], scope.o).stdout, "changed.example\n");
    const procs = (JSON.parse(run("sjls", ["-p", String(jid), "--json"], scope.o).stdout) as { hostPid: number; jailUid: number }[]);
    assert.equal(procs.length, 2);
    assert.ok(procs.every((p) => p.jailUid === 0));
    const r = run("jail", ["-r", String(jid)], scope.o);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${jid}: removed\n`);
    for (const p of procs) assert.equal(alive(p.hostPid), false);
    assert.equal(run("jls", ["-j", String(jid)], scope.o).code, 1);
  });

  test("a user does not see root's jails; root sees and manages the user's", () => {
    const mine = new Scope();
    try {
      const rootJail = start(mine.o, root, "rootsown.example", ["/mprobe", "sleep", "120"]);
      // the user looks in its own state directory only
      assert.equal(run("jls", ["-j", String(rootJail)], { nobody: xdg }).code, 1);
    } finally {
      mine.cleanup();
    }
    // the user's default directory without XDG_RUNTIME_DIR is /tmp/sysjail-65534: root scans those
    const fallback = "/tmp/sysjail-65534";
    let created = false;
    try {
      lstatSync(fallback);
    } catch {
      mkdirSync(fallback, { mode: 0o700 });
      chownSync(fallback, 65534, 65534);
      created = true;
    }
    if (lstatSync(fallback).uid !== 65534) return; // someone else's: nothing to test with
    const name = `u${randomBytes(4).toString("hex")}`;
    const userOpts = { nobody: "", env: {} };
    const jid = start(userOpts, root, "theirs.example", ["/mprobe", "sleep", "120"], ["-n", name]);
    try {
      const all = JSON.parse(run("sjls", ["--json"], {}).stdout) as { name: string; owner: number; ownerName: string; stateDir: string }[];
      const x = all.find((j) => j.name === name);
      assert.ok(x, "root lists the user's jail");
      assert.equal(x.owner, 65534);
      assert.equal(x.stateDir, fallback);
      assert.equal(run("jls", ["-j", name, "host.hostname"], {}).stdout, "theirs.example\n");
      assert.equal(run("jexec", [name, "/mprobe", "ids"], {}).stdout, "0 0\n");
      assert.equal(run("jexec", [name, "/mprobe", "status", "Groups"], {}).stdout.trim(), "", "root's groups stay outside");
      assert.equal(run("jail", ["-m", name, "host.hostname=byroot.example"], {}).code, 0);
      assert.equal(run("jexec", [name, "/mprobe", "hostname"], userOpts).stdout, "byroot.example\n");
      assert.equal(lstatSync(`${fallback}/jails/${jid}.json`).uid, 65534, "the entry stays the user's");
      const r = run("jail", ["-r", name], {});
      assert.equal(r.stdout, `${name}: removed\n`, r.stderr);
      assert.equal(run("jls", ["-j", name], userOpts).code, 1);
    } finally {
      run("jail", ["-R", name], {});
      if (created) rmSync(fallback, { recursive: true, force: true });
    }
  });
});
