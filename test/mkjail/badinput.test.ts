// mkjail's bad input: one line, the right status, no stack trace, nothing half-made left behind.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { coreSuite, defer, makeTempDir, removeTree } from "../helpers/index.js";
import { mkjail, names, oneLineError, show } from "./helpers.js";
import { buildTree } from "../../src/mkjail/partial.js";
import { SysjailError } from "../../src/errors.js";

coreSuite();

describe("mkjail bad input", () => {
  const cases: [string, string[], number[]][] = [
    ["an unknown source kind", ["no-such-kind:x", "D"], [64]],
    ["a missing program", ["nano:/no/such/program", "D"], [66]],
    ["a program name not on PATH", ["nano:no-such-program-mkjail", "D"], [66]],
    ["nano without programs", ["nano:", "D"], [64]],
    ["a bad suite", ["debian:Bad Suite", "D"], [64]],
    ["an unknown set", ["-s", "ssh,gui", "debian", "D"], [64]],
    ["sets on a nano source", ["-s", "ssh", "nano:/bin/sh", "D"], [64]],
    ["an unknown device profile", ["-d", "gpu", "thin", "D"], [64]],
    ["a bad jail name", ["-n", "../x", "thin", "D"], [64]],
    ["a bad mirror", ["--mirror", "ftp://x", "debian", "D"], [64]],
    ["a missing tarball", ["tar:/no/such.tar", "D"], [66]],
    ["a tarball that is a device", ["tar:/dev/zero", "D"], [66]],
    ["a missing image", ["oci:/no/such/image", "D"], [66]],
    ["no DIR", ["thin"], [64]],
    ["an unknown option", ["-z", "thin", "D"], [64]],
  ];
  for (const [what, args, codes] of cases) {
    it(what, (t) => {
      const base = makeTempDir("mkjail-bad-");
      defer(t, () => removeTree(base));
      const r = mkjail(args.map((a) => (a === "D" ? join(base, "D") : a)));
      assert.equal(oneLineError(r, codes), undefined, show(r));
      assert.deepEqual(names(base), [], "left behind");
    });
  }

  it("a DIR whose parent is missing: exit 66, nothing made", (t) => {
    const base = makeTempDir("mkjail-bad-");
    defer(t, () => removeTree(base));
    const r = mkjail(["thin", join(base, "no", "D")]);
    assert.equal(oneLineError(r, [66]), undefined, show(r));
    assert.deepEqual(names(base), []);
  });

  it("refuses a non-empty DIR unless -f; -f replaces it; an empty DIR is used", (t) => {
    const base = makeTempDir("mkjail-bad-");
    defer(t, () => removeTree(base));
    const dir = join(base, "D");
    mkdirSync(dir);
    writeFileSync(join(dir, "mine"), "keep");
    const r = mkjail(["nano:/bin/sh", dir]);
    assert.equal(oneLineError(r, [64]), undefined, show(r));
    assert.equal(readFileSync(join(dir, "mine"), "utf8"), "keep");
    assert.deepEqual(names(base), ["D"]);
    const f = mkjail(["-f", "nano:/bin/sh", dir]);
    assert.equal(f.code, 0, show(f));
    assert.equal(existsSync(join(dir, "mine")), false);
    assert.ok(existsSync(join(dir, "etc", "passwd")));
    assert.deepEqual(names(base), ["D"], "no old or partial tree left");
    const empty = join(base, "E");
    mkdirSync(empty);
    assert.equal(mkjail(["nano:/bin/sh", empty]).code, 0);
  });

  it("an interrupted build leaves nothing: a stale DIR.partial is replaced, a failed one removed", (t) => {
    const base = makeTempDir("mkjail-bad-");
    defer(t, () => removeTree(base));
    mkdirSync(join(base, "D.partial"));
    writeFileSync(join(base, "D.partial", "junk"), "");
    assert.equal(mkjail(["nano:/bin/sh", join(base, "D")]).code, 0);
    assert.deepEqual(names(base), ["D"]);
    assert.equal(existsSync(join(base, "D", "junk")), false);
  });

  it("a DIR filled while the tree was built is not replaced without -f (checked again before the rename)", async (t) => {
    const base = makeTempDir("mkjail-bad-");
    defer(t, () => removeTree(base));
    const dir = join(base, "D");
    const fill = async (partial: string) => {
      writeFileSync(join(partial, "new"), "");
      mkdirSync(dir);
      writeFileSync(join(dir, "theirs"), "kept");
    };
    await assert.rejects(buildTree(dir, false, fill, async () => undefined), (e: Error) => e instanceof SysjailError && e.exitCode === 64 && /was filled while the tree was built/.test(e.message));
    assert.equal(readFileSync(join(dir, "theirs"), "utf8"), "kept");
    assert.deepEqual(names(base), ["D"], "no partial tree left");
    removeTree(dir);
    await buildTree(dir, true, fill, async () => undefined);
    assert.deepEqual(names(dir), ["new"], "with -f: replaced");
  });

  it("a program whose ELF interpreter is not root's: exit 66, the interpreter never runs, nothing left", (t) => {
    const base = makeTempDir("mkjail-bad-");
    defer(t, () => removeTree(base));
    const evil = join(base, "evil-ld.so");
    const marker = join(base, "ran");
    writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    const prog = join(base, "prog");
    const cc = spawnSync("gcc", ["-x", "c", "-o", prog, `-Wl,--dynamic-linker=${evil}`, "-"], { input: "int main(void){return 0;}", encoding: "utf8" });
    assert.equal(cc.status, 0, cc.stderr);
    const r = mkjail([`nano:${prog}`, join(base, "D")]);
    assert.equal(oneLineError(r, [66]), undefined, show(r));
    assert.match(r.stderr, /interpreter/);
    assert.equal(existsSync(marker), false, "mkjail ran the program's own interpreter");
    assert.deepEqual(names(base), ["evil-ld.so", "prog"]);
  });

  it("-h prints the usage and exits 0", () => {
    const r = mkjail(["-h"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: mkjail/);
  });
});
