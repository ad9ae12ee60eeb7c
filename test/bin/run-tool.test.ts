// bin/run-tool.js: the V8 code cache of a bundled tool. A short run (-h) makes a cache that the
// first main-path run replaces; after that the cache is only read; a rebuilt bundle of the same
// length never runs with the old cache (the cache is keyed by the bundle's build line, or by its
// time without one); only a build directory the caller owns gets a cache. Run as the main module
// (the native front's way in), it runs only sysjail and jail. A jail started through the front
// loads none of the modules whose cost the front and locate-cjs.ts avoid.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync, chownSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defer } from "../helpers/suite.js";
import { requireRoot } from "../helpers/nobody.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";
import { FRONT, REPO } from "../helpers/paths.js";

/** A package layout like ours (bin/, build/bin/) with a tool "t" whose output names its version. */
function fakePackage(t: Parameters<typeof defer>[0], version: string): { dir: string; tool: string; cache: string } {
  const dir = makeTempDir("sysjail-runtool-");
  defer(t, () => removeTree(dir));
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "build", "bin"), { recursive: true });
  copyFileSync(join(REPO, "bin", "run-tool.js"), join(dir, "bin", "run-tool.js"));
  copyFileSync(join(REPO, "bin", "package.json"), join(dir, "bin", "package.json"));
  writeFileSync(join(dir, "bin", "t.js"), 'require("./run-tool.js").runTool("t");\n');
  writeTool(dir, version);
  return { dir, tool: join(dir, "bin", "t.js"), cache: join(dir, "build", "bin", "t.cache") };
}

function writeTool(dir: string, version: string): void {
  // the paths mark themselves the way src/cli/main.ts pathRan does: "main" as mainPathRan (bit 1),
  // "bits:N" as pathRan (the main path 1, optional paths 2-128)
  const bits = 'process.argv[2] === "main" ? 1 : process.argv[2]?.startsWith("bits:") ? Number(process.argv[2].slice(5)) : 0';
  writeFileSync(join(dir, "build", "bin", "t.cjs"),
    `const b = ${bits};\n` +
    `if (b) { globalThis[Symbol.for("sysjail.mainPathRan")] = b; globalThis[Symbol.for("sysjail.pathRanHook")]?.(b); }\n` +
    `process.stdout.write("${version}\\n");\n`);
}

function run(tool: string, arg: string, prefix: string[] = []): string {
  const argv = [...prefix, process.execPath, tool, arg];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe("the tools' code cache", () => {
  it("a -h run's cache is replaced by the first main-path run, which is then kept", (t) => {
    const p = fakePackage(t, "v1");
    assert.equal(run(p.tool, "-h"), "v1");
    assert.equal(readFileSync(p.cache)[0], 0, "made by a short run");
    assert.equal(run(p.tool, "main"), "v1");
    assert.equal(readFileSync(p.cache)[0], 1, "replaced by the main-path run");
    const before = statSync(p.cache);
    assert.equal(run(p.tool, "main"), "v1");
    assert.equal(run(p.tool, "-h"), "v1");
    const after = statSync(p.cache);
    assert.equal(after.ino, before.ino, "a complete cache is only read");
    assert.equal(after.mtimeMs, before.mtimeMs);
  });

  it("a run that took a path the cache's makers did not makes it again, once, with what it had", (t) => {
    const p = fakePackage(t, "v1");
    const made = () => { const st = statSync(p.cache); return `${st.ino}/${st.mtimeMs}`; };
    assert.equal(run(p.tool, "bits:1"), "v1");
    assert.equal(readFileSync(p.cache)[0], 1);
    const first = made();
    assert.equal(run(p.tool, "bits:1"), "v1");
    assert.equal(made(), first, "nothing new: only read");
    assert.equal(run(p.tool, "bits:3"), "v1");
    assert.equal(readFileSync(p.cache)[0], 3, "an optional path added");
    const second = made();
    assert.notEqual(second, first);
    for (const b of ["bits:1", "bits:2", "bits:3", "-h"]) assert.equal(run(p.tool, b), "v1");
    assert.equal(made(), second, "paths it has already: only read");
    assert.equal(run(p.tool, "bits:5"), "v1");
    assert.equal(readFileSync(p.cache)[0], 7, "the union of the paths");
  });

  it("sysjail-oci: a create that fails before its plan does not claim the main path", (t) => {
    // else its cache, without the rest of create's code, would be kept: about 5 ms more at every
    // later create. A copy of the bundle in a package of the test's own (the build's cache stays)
    const dir = makeTempDir("sysjail-runtool-oci-");
    defer(t, () => removeTree(dir));
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "build", "bin"), { recursive: true });
    for (const f of ["run-tool.js", "package.json"]) copyFileSync(join(REPO, "bin", f), join(dir, "bin", f));
    copyFileSync(join(REPO, "build", "bin", "sysjail-oci.cjs"), join(dir, "build", "bin", "sysjail-oci.cjs"));
    const r = spawnSync(process.execPath, [join(dir, "bin", "run-tool.js"), "sysjail-oci", "--root", join(dir, "state"), "create", "--bundle", join(dir, "no-such-bundle"), "c1"], { encoding: "utf8" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no-such-bundle/);
    assert.equal(readFileSync(join(dir, "build", "bin", "sysjail-oci.cache"))[0], 0, "made as by a short run: the first create that succeeds makes it again");
  });

  it("a rebuilt bundle of the same length does not run with the old cache", (t) => {
    const p = fakePackage(t, "v1");
    assert.equal(run(p.tool, "main"), "v1");
    const old = statSync(join(p.dir, "build", "bin", "t.cjs"));
    writeTool(p.dir, "v2");
    utimesSync(join(p.dir, "build", "bin", "t.cjs"), old.atime, new Date(old.mtimeMs + 5000));
    assert.equal(statSync(join(p.dir, "build", "bin", "t.cjs")).size, old.size);
    assert.equal(run(p.tool, "main"), "v2");
    assert.equal(run(p.tool, "main"), "v2", "and the cache made now is the new one's");
  });

  it("a bundle's build line keys its cache: a new build of the same length and time does not run with the old cache", (t) => {
    const p = fakePackage(t, "v1");
    const file = join(p.dir, "build", "bin", "t.cjs");
    const keyed = (version: string, id: string) => {
      writeTool(p.dir, version);
      writeFileSync(file, `${readFileSync(file, "latin1")}//# sysjail-build=${id}\n`);
    };
    keyed("v1", "00000000000000aa");
    assert.equal(run(p.tool, "main"), "v1");
    assert.match(readFileSync(p.cache, "latin1").slice(0, 18), /^\x01\x1000000000000000aa$/, "the cache names the build");
    const old = statSync(file);
    keyed("v2", "00000000000000bb");
    utimesSync(file, old.atime, old.mtime); // the same time: only the build line tells the builds apart
    assert.equal(statSync(file).size, old.size);
    assert.equal(run(p.tool, "main"), "v2");
    assert.equal(run(p.tool, "main"), "v2", "and the cache made now is the new one's");
  });

  it("no cache is written into a build directory another user owns", (t) => {
    requireRoot("this test");
    const p = fakePackage(t, "v1");
    chownSync(p.dir, 0, 0);
    assert.equal(run(p.tool, "main", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]), "v1");
    assert.throws(() => statSync(p.cache), /ENOENT/);
  });

  it("run as the main module (the native front's way in) it runs a tool, and names anything else in one line, exit 64", () => {
    const v = spawnSync(process.execPath, [join(REPO, "bin", "run-tool.js"), "sysjail", "-v"], { encoding: "utf8" });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^sysjail \S+ \(helper protocol \d+\)\n$/);
    const bad = spawnSync(process.execPath, [join(REPO, "bin", "run-tool.js"), "mkjail", "-v"], { encoding: "utf8" });
    assert.equal(bad.status, 64);
    assert.equal(bad.stdout, "");
    assert.equal(bad.stderr, "run-tool: usage: node bin/run-tool.js sysjail|jail|jls|sjls|jexec|sysjail-oci [arg ...]\n");
  });

  it("the bundled lazy parts load through the bundle's require (relative to build/bin)", () => {
    // --policy-dump always compiles the filter: the seccomp compiler is build/bin/lazy/seccomp.cjs
    const r = spawnSync(process.execPath, [join(REPO, "bin", "run-tool.js"), "sysjail", "--policy-dump", "/", "h", "/bin/true"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\S/);
  });

  it("a jail started through the front loads neither node:module, child_process, net, os nor timers/promises", (t) => {
    // each would cost from 0.1 to several milliseconds of every start (src/helper/locate-cjs.ts,
    // src/helper/front.ts, src/limits/report.ts, src/net/context.ts, src/cgroup/fsutil.ts)
    requireRoot("this test");
    const dir = makeTempDir("sysjail-modules-");
    defer(t, () => removeTree(dir));
    const list = join(dir, "modules.txt");
    const preload = join(dir, "preload.cjs");
    writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`);
    // the front keeps NODE_OPTIONS from its Node: preloaded by a `node` first on PATH instead
    writeFileSync(join(dir, "node"), `#!/bin/sh\nexec ${process.execPath} -r ${preload} "$@"\n`, { mode: 0o755 });
    const r = spawnSync(FRONT.sysjail, ["-j", join(dir, "state"), "/", "modules", "/bin/true"], {
      encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}` },
    });
    assert.equal(r.status, 0, r.stderr);
    const loaded = readFileSync(list, "utf8").split("\n");
    assert.ok(loaded.includes("NativeModule vm"), "the list is the tool's (it ran the bundle through vm.Script)");
    for (const m of ["module", "child_process", "net", "os", "timers/promises"]) assert.ok(!loaded.includes(`NativeModule ${m}`), `${m} was loaded`);
  });
});
