// The host's Debian sources as mkjail reads them (one-line and deb822), on fake /etc trees; and
// the cache key, which changes with everything a cached root depends on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mirrorLines } from "../../src/mkjail/apt.js";
import { cacheKey } from "../../src/mkjail/debian.js";

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "mkjail-apt-"));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, ".."), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

const OS = "PRETTY_NAME=x\nVERSION_CODENAME=bookworm\n";

describe("apt sources", () => {
  it("reads deb822 stanzas, maps the host's suites onto the wanted one, skips other archives", () => {
    const root = fakeRoot({
      "etc/os-release": OS,
      "etc/apt/sources.list.d/debian.sources": "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main contrib\n\nTypes: deb deb-src\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n\nTypes: deb\nURIs: http://other.invalid/x\nSuites: nodistro\nComponents: main\n",
      "etc/apt/sources.list.d/off.sources": "Types: deb\nEnabled: no\nURIs: http://off.invalid/debian\nSuites: bookworm\nComponents: main\n",
    });
    try {
      assert.deepEqual(mirrorLines("trixie", undefined, root), [
        "deb http://mirror.invalid/debian trixie main contrib",
        "deb http://mirror.invalid/debian trixie-updates main contrib",
        "deb http://mirror.invalid/debian-security trixie-security main",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reads one-line sources (options in brackets, comments) and --mirror replaces them all", () => {
    const root = fakeRoot({
      "etc/os-release": OS,
      "etc/apt/sources.list": "# deb http://old.invalid/debian bookworm main\ndeb [arch=amd64] http://mirror.invalid/debian bookworm main\ndeb-src http://mirror.invalid/debian bookworm main\n",
    });
    try {
      assert.deepEqual(mirrorLines("bookworm", undefined, root), ["deb http://mirror.invalid/debian bookworm main"]);
      assert.deepEqual(mirrorLines("bookworm", "http://local.invalid/d", root), ["deb http://local.invalid/d bookworm main"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("no sources: none", () => {
    const root = fakeRoot({ "etc/os-release": OS });
    try {
      assert.deepEqual(mirrorLines("bookworm", undefined, root), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("the cache key follows suite, sets, architecture and mirrors", () => {
    const b = { suite: "bookworm", sets: ["base", "ssh"], arch: "amd64", mirrors: ["deb http://m.invalid/debian bookworm main"] };
    const k = cacheKey(b);
    assert.match(k, /^debian-bookworm-amd64-[0-9a-f]{24}$/);
    assert.equal(cacheKey({ ...b }), k);
    assert.notEqual(cacheKey({ ...b, sets: ["base"] }), k);
    assert.notEqual(cacheKey({ ...b, arch: "arm64" }), k);
    assert.notEqual(cacheKey({ ...b, mirrors: ["deb http://n.invalid/debian bookworm main"] }), k);
  });
});
