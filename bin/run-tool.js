// Runs a bundled tool: the CommonJS flavour through vm.Script with a V8 code cache when it can,
// else the ES module. The cache is only written into a build directory the caller owns.
// This directory is CommonJS (bin/package.json): a CommonJS entry starts without Node's ES module
// loader, which would cost a tool several milliseconds before its first line runs. The native
// front (native/src/front.c) runs this file itself, `node bin/run-tool.js TOOL ARGS...`, one
// module load fewer than through bin/TOOL.js.
"use strict";
const { closeSync, openSync, readFileSync, renameSync, statSync, writeSync } = require("node:fs");
const { join } = require("node:path");
const vm = require("node:vm");

const binDir = join(__dirname, "..", "build", "bin");
/** Set by the tool once a run went through its main path (src/cli/main.ts mainPathRan: true, or
 * bit 1) and its optional paths (pathRan: bits 2-128). */
const MAIN_PATH = Symbol.for("sysjail.mainPathRan");
/** The paths this run took, as bits (true, from an older mainPathRan, is the main path). */
const pathsRan = () => {
  const v = globalThis[MAIN_PATH];
  return v === true ? 1 : typeof v === "number" ? v & 255 : 0;
};
/** Called by pathRan with the bits so far: the cache is made again at exit when they are new to
 * it. Only then is an exit handler added: a tool says its last word to the native front at once
 * when no exit handler is left to run (src/helper/front.ts lastWord). */
const PATH_HOOK = Symbol.for("sysjail.pathRanHook");

/** The last line of a bundle built by scripts/bundle.mjs: a hash of the rest of it. */
const BUILD_LINE = /\/\/# sysjail-build=([0-9a-f]{16})\n$/;

/** Runs build/bin/NAME (cached CommonJS, else ESM).
 * NAME.cache is a header (one byte: the paths the runs that made it took, bit 1 the main path,
 * 0 for a run such as -h; then one byte, the length of the bundle's key, and the key) and V8's
 * code cache. V8 checks only the source's length, so the key keeps a cache from outliving a
 * rebuild of the same length: the build's hash from the bundle's last line, or, for a bundle
 * without one, its modification time (a stat, about 0.4 ms more at every start). V8 caches only
 * the functions that ran (with those it read from the cache): a cache is made again by a run that
 * took a path its makers did not (the first main-path run after a -h run, the first create with a
 * seccomp profile), and otherwise only read. */
function runTool(name) {
  const file = join(binDir, `${name}.cjs`);
  const cacheFile = join(binDir, `${name}.cache`);
  let source;
  let key;
  try {
    // one call: Node reads and decodes a UTF-8 file in C++ (the bundles are ASCII, bundle.mjs checks)
    source = readFileSync(file, "utf8");
    key = BUILD_LINE.exec(source.slice(-48))?.[1] ?? `t${statSync(file).mtimeMs}`;
  } catch {
    import(require("node:url").pathToFileURL(join(binDir, `${name}.mjs`)).href).catch((err) => {
      process.stderr.write(`${name}: cannot load the bundled tool (run npm install): ${err.message}\n`);
      process.exitCode = 70;
    });
    return;
  }
  let cached;
  try {
    cached = readFileSync(cacheFile);
  } catch {
    /* first run */
  }
  const head = 2 + key.length; // the key is ASCII: as many bytes as characters
  // compared as a string: Buffer.from and equals, called cold, cost about 0.2 ms more
  const cachedKey = (b) => (typeof b.latin1Slice === "function" ? b.latin1Slice(2, head) : b.toString("latin1", 2, head));
  const fresh = cached !== undefined && cached.length > head && cached[1] === key.length && cachedKey(cached) === key;
  const cachedData = fresh ? cached.subarray(head) : undefined;
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const usable = cachedData !== undefined && !script.cachedDataRejected;
  const had = usable ? cached[0] : 0;
  let armed = false;
  const arm = () => {
    if (!armed) process.once("exit", writeCache);
    armed = true;
  };
  globalThis[PATH_HOOK] = (bits) => {
    if ((bits & ~had) !== 0) arm();
  };
  if (!usable) arm();
  function writeCache() {
    const ran = pathsRan();
    if (usable && (ran & ~had) === 0) return; // nothing this cache lacks: keep it
    try {
      if (statSync(binDir).uid !== process.getuid?.()) return; // only into a directory of ours
      const data = script.createCachedData();
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      const fd = openSync(tmp, "w", 0o644);
      const header = Buffer.alloc(head);
      header[0] = had | ran;
      header[1] = key.length;
      header.write(key, 2, "latin1");
      writeSync(fd, header);
      writeSync(fd, data);
      closeSync(fd);
      renameSync(tmp, cacheFile);
    } catch {
      /* a cache is only a speed-up */
    }
  }
  const module = { exports: {} };
  // the bundle requires Node's modules and, by a path relative to build/bin, its lazy parts
  const bundleRequire = (id) => require(id.startsWith("./") ? join(binDir, id) : id);
  script.runInThisContext()(module.exports, bundleRequire, module, file, binDir);
}

module.exports = { runTool };

if (require.main === module) {
  const name = process.argv.splice(2, 1)[0] ?? "";
  if (!/^(sysjail|jail|jls|sjls|jexec|sysjail-oci)$/.test(name)) {
    process.stderr.write(`run-tool: usage: node bin/run-tool.js sysjail|jail|jls|sjls|jexec|sysjail-oci [arg ...]\n`);
    process.exitCode = 64;
  } else {
    // argv[1] names the tool's own entry, as `node bin/TOOL.js` has it: a tool that starts itself
    // again (jail -c's watcher of a non-persistent jail) runs that
    process.argv[1] = join(__dirname, `${name}.js`);
    runTool(name);
  }
}
