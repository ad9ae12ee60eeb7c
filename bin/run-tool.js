// Runs a bundled tool: the CommonJS flavour through vm.Script with a V8 code cache when it can,
// else the ES module. The cache is only written into a build directory the caller owns.
// This directory is CommonJS (bin/package.json): a CommonJS entry starts without Node's ES module
// loader, which would cost a tool several milliseconds before its first line runs. The native
// front (native/src/front.c) runs this file itself, `node bin/run-tool.js TOOL ARGS...`, one
// module load fewer than through bin/TOOL.js.
"use strict";
const { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, writeSync } = require("node:fs");
const { join } = require("node:path");
const vm = require("node:vm");

const binDir = join(__dirname, "..", "build", "bin");
/** Set by the tool (src/cli/main.ts mainPathRan) once a run went through its main path. */
const MAIN_PATH = Symbol.for("sysjail.mainPathRan");

/** Runs build/bin/NAME (cached CommonJS, else ESM).
 * NAME.cache is a header (one byte: 1 when a main-path run made it, 0 for another run such as -h;
 * then the bundle's modification time in ms, 8 bytes) and V8's code cache. V8 checks only the
 * source's length, so the time keeps a cache from outliving a same-length rebuild. V8 caches only
 * the functions that ran: a cache made by a short run is replaced by the first main-path run,
 * and from then on only read. */
function runTool(name) {
  const file = join(binDir, `${name}.cjs`);
  const cacheFile = join(binDir, `${name}.cache`);
  let source;
  let mtime;
  try {
    // one descriptor for the time and the text (fewer cold calls than statSync and readFileSync);
    // latin1: the bundles are ASCII (scripts/bundle.mjs checks), and decoding UTF-8 costs more
    const fd = openSync(file, "r");
    try {
      const st = fstatSync(fd);
      mtime = st.mtimeMs;
      const buf = Buffer.allocUnsafe(st.size);
      let got = 0;
      while (got < st.size) {
        const n = readSync(fd, buf, got, st.size - got, got);
        if (n === 0) break;
        got += n;
      }
      source = buf.toString("latin1", 0, got);
    } finally {
      closeSync(fd);
    }
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
  const fresh = cached !== undefined && cached.length > 9 && cached.readDoubleLE(1) === mtime;
  const cachedData = fresh ? cached.subarray(9) : undefined;
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const complete = cachedData !== undefined && !script.cachedDataRejected && cached[0] === 1;
  if (!complete) {
    process.once("exit", () => {
      const main = globalThis[MAIN_PATH] === true;
      if (cachedData !== undefined && !script.cachedDataRejected && !main) return; // keep what we have
      try {
        if (statSync(binDir).uid !== process.getuid?.()) return; // only into a directory of ours
        const data = script.createCachedData();
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        const fd = openSync(tmp, "w", 0o644);
        const header = Buffer.alloc(9);
        header[0] = main ? 1 : 0;
        header.writeDoubleLE(mtime, 1);
        writeSync(fd, header);
        writeSync(fd, data);
        closeSync(fd);
        renameSync(tmp, cacheFile);
      } catch {
        /* a cache is only a speed-up */
      }
    });
  }
  const module = { exports: {} };
  // the bundle requires Node's modules and, by a path relative to build/bin, its lazy parts
  const bundleRequire = (id) => require(id.startsWith("./") ? join(binDir, id) : id);
  script.runInThisContext()(module.exports, bundleRequire, module, file, binDir);
}

module.exports = { runTool };

if (require.main === module) {
  const name = process.argv.splice(2, 1)[0] ?? "";
  if (!/^(sysjail|jail)$/.test(name)) {
    process.stderr.write(`run-tool: usage: node bin/run-tool.js sysjail|jail [arg ...]\n`);
    process.exitCode = 64;
  } else runTool(name);
}
