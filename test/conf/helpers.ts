// Test helpers for the conf tests: exact ECONF error matching and an in-memory file system.
import assert from "node:assert/strict";
import { SysjailError } from "../../src/errors.js";
import { fnmatch } from "../../src/conf/index.js";

/** Asserts FN throws the ECONF usage error with exactly MESSAGE (a string) or matching it (a RegExp). */
export function throwsConf(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SysjailError, `not a SysjailError: ${String(e)}`);
    assert.equal(e.code, "ECONF");
    assert.equal(e.phase, "usage");
    assert.equal(e.exitCode, 64);
    assert.ok(!e.message.includes("\n"), "message is one line");
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

/** readFile and glob over a map of path -> text. */
export function memfs(files: Record<string, string>): { readFile: (p: string) => string; glob: (p: string) => string[] } {
  return {
    readFile: (p) => {
      const t = files[p];
      if (t === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
      return t;
    },
    glob: (pat) => Object.keys(files).filter((f) => fnmatch(pat, f, true)).sort(),
  };
}
