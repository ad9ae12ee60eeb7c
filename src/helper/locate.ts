// Where this build's code lives, and Node's built-in modules loaded on first use: the ES module
// flavour (the library, tests, and the tools' ES module bundles). The tools' CommonJS bundles
// get locate-cjs.ts in its place (scripts/bundle.mjs), which needs neither node:module nor a file
// URL: loading the one and making the other cost more than a millisecond of every jail's start.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory of the running code: build/src/helper, or build/bin in a bundle. */
export function codeDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

let req: NodeJS.Require | undefined;
/** Node's built-in module ID, loaded now (callers load it only when they need it). The require
 * function is made once per process (making one parses this module's URL: a jail start's cost). */
export function builtin<T>(id: `node:${string}`): T {
  req ??= createRequire(import.meta.url);
  return req(id) as T;
}
