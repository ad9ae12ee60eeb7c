// The jail.conf block mkjail writes (-n) or prints: jail(8)'s parser reads it back as meant.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseJailConf, resolveJail } from "../../src/conf/index.js";
import { confBlock, writeConf } from "../../src/mkjail/conf.js";

describe("mkjail's jail.conf block", () => {
  it("parses: path (quotes escaped), hostname, devfs ruleset, ssh hooks, persist", () => {
    const block = confBlock("web", '/srv/j "x"', { sets: ["base", "ssh"] });
    const r = resolveJail(parseJailConf(block, "web.conf"), "web");
    assert.equal(r.params.path, '/srv/j "x"');
    assert.equal(r.params["host.hostname"], "web");
    assert.equal(String(r.params.devfs_ruleset), "4");
    assert.deepEqual(r.params["exec.start"], ["/etc/init.d/ssh start"]);
    assert.ok(r.params.persist);
  });

  it("follows -d and the init set", () => {
    const r = resolveJail(parseJailConf(confBlock("n", "/j", { sets: ["base", "init"], devs: "all" }), "n.conf"), "n");
    assert.equal(String(r.params.devfs_ruleset), "5");
    assert.deepEqual(r.params["exec.start"], ["/etc/init.d/rc 2"]);
  });

  it("-n writes NAME.conf into the directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "mkjail-conf-"));
    try {
      const file = writeConf("web", "web { path = \"/j\"; }\n", dir);
      assert.equal(file, join(dir, "web.conf"));
      assert.equal(readFileSync(file, "utf8"), "web { path = \"/j\"; }\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
