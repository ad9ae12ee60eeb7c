// sysjail-oci: the --root check (src/oci/rootdir.ts), with and without a symbolic link on the way (unit).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { checkRootDir } from "../../src/oci/rootdir.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";

describe("sysjail-oci: --root check (unit)", () => {
  it("accepts a path without links whose parts only root or the caller can change, and says when a part is missing", () => {
    const base = makeTempDir("sysjail-rootdir-", 0o755);
    try {
      const root = join(base, "state");
      assert.equal(checkRootDir(root), false, "missing: nothing to trust yet");
      mkdirSync(root, { mode: 0o700 });
      assert.equal(checkRootDir(root), true);
      assert.equal(checkRootDir(join(base, ".", "state", "..", "state")), true, "the path is taken as resolve() gives it");
      chmodSync(root, 0o770);
      assert.throws(() => checkRootDir(root), /--root \S+: \S+ is writable by others/);
    } finally {
      removeTree(base);
    }
  });

  it("checks what a link on the way leads to: a link of the caller's to a directory others may write is refused", () => {
    const base = makeTempDir("sysjail-rootdir-", 0o755);
    try {
      const loose = join(base, "loose");
      mkdirSync(loose, { mode: 0o700 });
      chmodSync(loose, 0o777);
      const link = join(base, "link");
      symlinkSync(loose, link);
      assert.throws(() => checkRootDir(link), /--root \S+: \S+loose is writable by others/);
      mkdirSync(join(loose, "state"), { mode: 0o700 });
      assert.throws(() => checkRootDir(join(link, "state")), /--root \S+: \S+loose is writable by others/, "a link above the state directory too");
      // a link to a directory of another user's
      const theirs = join(base, "theirs");
      mkdirSync(theirs, { mode: 0o700 });
      if (process.geteuid?.() === 0) {
        chownSync(theirs, 65534, 65534);
        const link2 = join(base, "link2");
        symlinkSync(theirs, link2);
        assert.throws(() => checkRootDir(link2), /\S+theirs is owned by uid 65534/);
      }
      // a link to a good directory is accepted
      const good = join(base, "good");
      mkdirSync(good, { mode: 0o700 });
      const link3 = join(base, "link3");
      symlinkSync(good, link3);
      assert.equal(checkRootDir(link3), true);
    } finally {
      removeTree(base);
    }
  });
});
