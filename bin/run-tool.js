// Runs a bundled tool: the CommonJS flavour through vm.Script with a V8 code cache when it can,
// else the ES module. The cache is only written into a build directory the caller owns.
import { closeSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const binDir = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "bin");

/** Runs build/bin/NAME (cached CommonJS, else ESM). */
export async function runTool(name) {
  const file = join(binDir, `${name}.cjs`);
  const cacheFile = join(binDir, `${name}.cache`);
  let source;
  try {
    source = readFileSync(file, "utf8");
  } catch {
    await import(join(binDir, `${name}.mjs`));
    return;
  }
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* first run */
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once("exit", () => {
      try {
        if (statSync(binDir).uid !== process.getuid?.()) return; // only into a directory of ours
        const data = script.createCachedData();
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        const fd = openSync(tmp, "w", 0o644);
        writeSync(fd, data);
        closeSync(fd);
        renameSync(tmp, cacheFile);
      } catch {
        /* a cache is only a speed-up */
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, binDir);
}
