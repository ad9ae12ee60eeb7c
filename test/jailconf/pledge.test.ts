// jail.conf pledge and unveil in real jails, as root and as 65534: the jail's command, exec.start
// and processes entered with jexec reach only the unveiled paths; a pledge without exec still
// starts them (their one exec); bad values are one line, exit 64.
import assert from "node:assert/strict";
import { chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { ownerScope, requireBuilt, show } from "./helpers.js";

/** ownerScope() with /etc/marker in its jail root. */
function world(t: TestContext, nobody: boolean) {
  const w = ownerScope(t, "sysjail-pledge2-", nobody);
  const marker = join(w.root, "etc", "marker");
  writeFileSync(marker, "pledge2-marker\n");
  if (nobody) chownSync(marker, 65534, 65534);
  return w;
}

for (const nobody of [false, true]) {
  const who = nobody ? "65534" : "root";
  describe(`jail.conf pledge and unveil (${who})`, () => {
    it("the command, exec.start and a jexec'd process reach only the unveiled paths", (t) => {
      requireBuilt();
      const w = world(t, nobody);
      const conf = join(w.base, "jail.conf");
      writeFileSync(conf, `uv { path = "${w.root}"; persist; unveil = "/probe:rx"; exec.start = "/probe read /probe"; }\nst { path = "${w.root}"; unveil = "/probe:rx"; exec.start = "/probe read /etc/marker"; }\n`);
      // exec.start's read outside the unveil is refused (and so fails the creation, leaving nothing)
      const st = w.run("jail", ["-f", conf, "-c", "st"]);
      assert.notEqual(st.code, 0, show(st));
      assert.match(st.stdout, /^err EACCES$/m, show(st));
      assert.deepEqual(w.leftovers(), []);
      const c = w.run("jail", ["-f", conf, "-c", "uv"]);
      assert.equal(c.code, 0, show(c));
      assert.match(c.stdout, /^ok /m, show(c));
      const hidden = w.run("jexec", ["uv", "/probe", "read", "/etc/marker"]);
      assert.match(hidden.stdout, /^err EACCES$/m, show(hidden));
      const own = w.run("jexec", ["uv", "/probe", "read", "/probe"]);
      assert.match(own.stdout, /^ok /m, show(own));
      const r = w.run("jail", ["-f", conf, "-r", "uv"]);
      assert.equal(r.code, 0, show(r));
      // with /etc unveiled too (command-line parameters) the same file is readable
      const ok = w.run("jail", ["-c", "name=uv2", `path=${w.root}`, "unveil=/probe:rx", "unveil=/etc:r", "command=/probe", "read", "/etc/marker"]);
      assert.match(ok.stdout, /^ok pledge2-marker$/m, show(ok));
      assert.deepEqual(w.leftovers(), []);
    });

    it("pledge reaches the command; bad pledge and unveil values are one line, exit 64, leaving nothing", (t) => {
      requireBuilt();
      const w = world(t, nobody);
      // stdio and exec without rpath: opening a file for reading is refused
      const p = w.run("jail", ["-c", "name=pl", `path=${w.root}`, "pledge=stdio exec", "command=/probe", "read", "/etc/marker"]);
      assert.notEqual(p.code, 0, show(p));
      assert.doesNotMatch(p.stdout, /pledge2-marker/, show(p));
      const allowed = w.run("jail", ["-c", "name=pl", `path=${w.root}`, "pledge=stdio rpath exec", "command=/probe", "read", "/etc/marker"]);
      assert.match(allowed.stdout, /^ok pledge2-marker$/m, show(allowed));
      // without exec: the command (entered by jail -c) still starts, by its one exec
      const noExec = w.run("jail", ["-c", "name=pl", `path=${w.root}`, "pledge=stdio rpath", "command=/probe", "read", "/etc/marker"]);
      assert.match(noExec.stdout, /^ok pledge2-marker$/m, show(noExec));
      // and so does exec.start of a persistent jail, and a jexec'd process
      const conf = join(w.base, "noexec.conf");
      writeFileSync(conf, `ne { path = "${w.root}"; persist; pledge = "stdio rpath error"; exec.start = "/probe read /etc/marker"; }\n`);
      const c = w.run("jail", ["-f", conf, "-c", "ne"]);
      assert.equal(c.code, 0, show(c));
      assert.match(c.stdout, /^ok pledge2-marker$/m, show(c));
      const j = w.run("jexec", ["ne", "/probe", "read", "/etc/marker"]);
      assert.match(j.stdout, /^ok pledge2-marker$/m, show(j));
      const r = w.run("jail", ["-f", conf, "-r", "ne"]);
      assert.equal(r.code, 0, show(r));
      for (const [arg, re] of [
        ["pledge=stdio rooting", /pledge: unknown promise 'rooting' \(allowed: stdio /],
        ["unveil=/probe", /unveil: '\/probe' is not PATH:PERMS/],
        ["unveil=/probe:rz", /unveil: bad permissions 'rz'/],
        ["unveil=probe:r", /unveil: 'probe' must be an absolute path/],
      ] as const) {
        const b = w.run("jail", ["-c", "name=bad", `path=${w.root}`, arg, "command=/probe", "exit", "0"]);
        assert.equal(b.code, 64, `${arg}: ${show(b)}`);
        assert.match(b.stderr, re, `${arg}: ${show(b)}`);
        assert.equal(b.stderr.trim().split("\n").length, 1, `${arg}: ${show(b)}`);
      }
      assert.deepEqual(w.leftovers(), []);
    });
  });
}
