// jail.conf for an unprivileged user (uid 65534): exec.start, command, exec.stop, jexec and
// jail -m into a jail whose only process is its init, through the namespaces its monitor keeps.
import assert from "node:assert/strict";
import { chownSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { ownerScope, requireBuilt, show } from "./helpers.js";

/** A base directory, jail root and state directory owned by 65534; its jails are removed afterwards. */
function userScope(t: TestContext) {
  return ownerScope(t, "sysjail-jcu-", true);
}

describe("rootless jail.conf", () => {
  it("a user's jail -c runs exec.start and command in the jail; the user enters and modifies it; jail -r runs exec.stop", (t) => {
    requireBuilt();
    const u = userScope(t);
    const log = join(u.base, "console.log");
    writeFileSync(log, "");
    chownSync(log, 65534, 65534);
    const c = u.run("jail", ["-c", "name=rl", `path=${u.root}`, "persist", "mount.procfs", "host.hostname=rl.example", `exec.consolelog=${log}`,
      "exec.start=/probe write /tmp/started yes", "exec.stop=/probe write /tmp/stopped yes", "command=/probe", "hostname"]);
    assert.equal(c.code, 0, show(c));
    assert.equal(readFileSync(join(u.root, "tmp", "started"), "utf8"), "yes");
    assert.match(readFileSync(log, "utf8"), /rl\.example/);
    // the only process left is the jail's init, which its owner cannot open: the monitor hands the namespaces
    const h = u.run("jexec", ["rl", "/probe", "hostname"]);
    assert.equal(h.code, 0, show(h));
    assert.match(h.stdout, /rl\.example/);
    const m = u.run("jail", ["-m", "name=rl", "host.hostname=changed.example"]);
    assert.equal(m.code, 0, show(m));
    assert.match(u.run("jexec", ["rl", "/probe", "hostname"]).stdout, /changed\.example/);
    const r = u.run("jail", ["-r", "rl"]);
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(join(u.root, "tmp", "stopped"), "utf8"), "yes");
    assert.deepEqual(u.leftovers(), [], "the registry files and the monitor's socket are gone");
  });

  it("without the monitor's socket a user is refused with one line, and nothing is left", (t) => {
    requireBuilt();
    const u = userScope(t);
    const c = u.run("jail", ["-c", "name=rl2", `path=${u.root}`, "persist"]);
    assert.equal(c.code, 0, show(c));
    const sock = u.leftovers().find((f) => f.endsWith(".ns"));
    assert.ok(sock, `no socket in ${u.leftovers().join(" ")}`);
    // a socket replaced by another file (a user's mistake, or a stale one) is never trusted
    rmSync(join(u.state, "jails", sock));
    writeFileSync(join(u.state, "jails", sock), "not a socket");
    chownSync(join(u.state, "jails", sock), 65534, 65534);
    const j = u.run("jexec", ["rl2", "/probe", "hostname"]);
    assert.notEqual(j.code, 0);
    assert.equal(j.stderr.trim().split("\n").length, 1, show(j));
    assert.doesNotMatch(j.stderr, /\n\s+at /, "no stack trace");
    assert.match(j.stderr, /no process you may join/);
    const r = u.run("jail", ["-r", "rl2"]);
    assert.equal(r.code, 0, show(r));
    assert.ok(!existsSync(join(u.state, "jails", "rl2.json")));
  });
});
