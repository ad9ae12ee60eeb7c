// locate.ts for the tools' CommonJS bundles (swapped in by scripts/bundle.mjs): bin/run-tool.js
// runs a bundle with the bundle's directory as __dirname and a require of its own.

/** The directory of the running code: build/bin. */
export function codeDir(): string {
  return __dirname;
}

/** Node's built-in module ID, loaded now (callers load it only when they need it). */
export function builtin<T>(id: `node:${string}`): T {
  return require(id) as T;
}
